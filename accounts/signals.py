"""Sign-in, sign-out and failed sign-ins go to the system log."""

from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.dispatch import receiver

from emotune.logbook import client_ip, log_write


@receiver(user_logged_in)
def _logged_in(sender, request, user, **kwargs):
    log_write(action="auth.login", status="success", user_id=user.pk, message=user.get_username(), ip=client_ip(request))


@receiver(user_logged_out)
def _logged_out(sender, request, user, **kwargs):
    if user is not None:
        log_write(action="auth.logout", status="success", user_id=user.pk, message=user.get_username(), ip=client_ip(request))


@receiver(user_login_failed)
def _login_failed(sender, credentials, request=None, **kwargs):
    username = str(credentials.get("username", ""))[:150]
    log_write(action="auth.login", status="failed", message=username, ip=client_ip(request) if request else None)
