from __future__ import annotations

from django.db import transaction

from accounts.models import ApiToken, Preferences, User
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


# --- personal API tokens --------------------------------------------------------------

TOKEN_PREFIX = "emt_"
TOKENS_MAX_PER_USER = 20
TOKEN_TOUCH_SECONDS = 60  # last_used_at is written at most this often per token


class TokenLimitReached(ValueError):
    pass


def token_digest(secret: str) -> str:
    import hashlib

    return hashlib.sha256(secret.encode()).hexdigest()


def token_create(*, user: User, name: str, ip: str | None = None) -> tuple[ApiToken, str]:
    """A new token for ``user``; returns the row and the secret, which is never stored nor shown again."""
    import secrets

    from django.utils.translation import gettext as _

    name = " ".join(name.split())[:60] or "token"
    with transaction.atomic():
        User.objects.select_for_update().filter(pk=user.pk).first()
        if ApiToken.objects.filter(user=user, revoked_at__isnull=True).count() >= TOKENS_MAX_PER_USER:
            raise TokenLimitReached(_("You already have %(n)d tokens; revoke one first.") % {"n": TOKENS_MAX_PER_USER})
        secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
        token = ApiToken.objects.create(user=user, name=name, prefix=secret[: len(TOKEN_PREFIX) + 6],
                                        digest=token_digest(secret))
    log_write(action="token.create", user_id=user.pk, message=name, ip=ip, detail={"token": token.pk, "prefix": token.prefix})
    return token, secret


def token_revoke(*, token: ApiToken, ip: str | None = None) -> None:
    from django.utils import timezone

    if token.revoked_at is None:
        token.revoked_at = timezone.now()
        token.save(update_fields=["revoked_at"])
        log_write(action="token.revoke", user_id=token.user_id, message=token.name, ip=ip, detail={"token": token.pk})


def token_authenticate(*, secret: str) -> User | None:
    """The active user a live token belongs to, else None; records when the token was last used."""
    from datetime import timedelta

    from django.utils import timezone

    if not secret.startswith(TOKEN_PREFIX) or len(secret) > 200:
        return None
    token = ApiToken.objects.select_related("user").filter(digest=token_digest(secret), revoked_at__isnull=True).first()
    if token is None or not token.user.is_active:
        return None
    now = timezone.now()
    if token.last_used_at is None or now - token.last_used_at > timedelta(seconds=TOKEN_TOUCH_SECONDS):
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
    return token.user
