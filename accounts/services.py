from __future__ import annotations

from django.db import transaction

from accounts.models import Preferences, User
from ops.services import log_write


def user_create(*, username: str, password: str, email: str = "", ip: str | None = None) -> User:
    with transaction.atomic():
        user = User.objects.create_user(username=username, password=password, email=email)
        Preferences.objects.create(user=user)
    log_write(action="auth.signup", user_id=user.pk, message=username, ip=ip)
    return user


def preferences_for(*, user: User) -> Preferences:
    preferences, _ = Preferences.objects.get_or_create(user=user)
    return preferences


def user_deactivate(*, user: User, by: User | None = None) -> None:
    """Stop a user: no sign-in, sessions dropped, open sockets closed."""
    from django.contrib.sessions.models import Session

    from emotune.realtime import close_user_sockets

    user.is_active = False
    user.save(update_fields=["is_active"])
    for session in Session.objects.all().iterator():
        if session.get_decoded().get("_auth_user_id") == str(user.pk):
            session.delete()
    close_user_sockets(user.pk)
    log_write(action="admin.deactivate", user_id=by.pk if by else None, message=user.get_username())
