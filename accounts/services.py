from __future__ import annotations

from django.db import transaction

from accounts.models import BPM_MAX, BPM_MIN, ApiToken, Preferences, User
from emotune.logbook import log_write


def user_create(*, username: str, password: str, email: str = "", ip: str | None = None) -> User:
    with transaction.atomic():
        user = User.objects.create_user(username=username, password=password, email=email)
        Preferences.objects.create(user=user)
    log_write(action="auth.signup", user_id=user.pk, message=username, ip=ip)
    return user


def preferences_for(*, user: User) -> Preferences:
    preferences, _ = Preferences.objects.get_or_create(user=user)
    return preferences


# How many favourite genres and instruments a nudge keeps.
FAVOURITES_MAX = 6


def preferences_nudge(*, user, brief: dict, positive: bool, negative: bool) -> dict:
    """Move the user's taste towards a piece's ``brief`` they liked (``positive``), or away from one
    they did not: its genre and first instrument to the front of the favourites (or out of them and
    into the things to avoid), the BPM range a quarter of the way towards its tempo. Returns what
    changed; neither or both leaves the taste as it is."""
    if positive == negative or not brief:
        return {}
    prefs = preferences_for(user=user)
    genre = str(brief.get("genre", "")).split("-tinged ")[-1]
    instrument = (brief.get("instruments") or [""])[0]
    changes: dict = {}
    if positive:
        prefs.favourite_genres = ([genre] + [g for g in prefs.favourite_genres if g != genre])[:FAVOURITES_MAX]
        prefs.instruments = ([instrument] + [i for i in prefs.instruments if i != instrument])[:FAVOURITES_MAX]
        bpm = int(brief.get("bpm", 0))
        if bpm:
            lo = round(prefs.bpm_min + 0.25 * (min(bpm, prefs.bpm_min) - prefs.bpm_min))
            hi = round(prefs.bpm_max + 0.25 * (max(bpm, prefs.bpm_max) - prefs.bpm_max))
            shift = 0.25 * (bpm - (prefs.bpm_min + prefs.bpm_max) / 2)
            prefs.bpm_min = int(max(BPM_MIN, min(lo + shift, prefs.bpm_max)))
            prefs.bpm_max = int(min(BPM_MAX, max(hi + shift, prefs.bpm_min)))
        changes = {"added_genre": genre, "added_instrument": instrument, "bpm": [prefs.bpm_min, prefs.bpm_max]}
    else:
        prefs.favourite_genres = [g for g in prefs.favourite_genres if g != genre]
        prefs.instruments = [i for i in prefs.instruments if i != instrument]
        avoid = [a.strip() for a in prefs.negative_prompt.split(",") if a.strip()]
        if genre and genre not in avoid:
            avoid.append(genre)
        prefs.negative_prompt = ", ".join(avoid)[:300]
        changes = {"removed_genre": genre, "removed_instrument": instrument, "avoid": prefs.negative_prompt}
    prefs.save()
    return changes


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
