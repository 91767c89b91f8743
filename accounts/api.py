"""API endpoints of the accounts app: who am I, music taste and interface preferences."""


from ninja import Router, Schema
from pydantic import Field

from accounts.forms import PreferencesForm
from accounts.services import preferences_for
from emotune.logbook import client_ip, log_write

router = Router(tags=["account"])


class MeOut(Schema):
    id: int
    username: str
    email: str


class PreferencesOut(Schema):
    favourite_genres: list[str]
    instruments: list[str]
    bpm_min: int
    bpm_max: int
    negative_prompt: str
    ui_language: str
    active_speaker_id: int | None


class PreferencesIn(Schema):
    """Fields left out keep their value."""

    favourite_genres: list[str] | None = Field(None, max_length=8)
    instruments: list[str] | None = Field(None, max_length=8)
    bpm_min: int | None = None
    bpm_max: int | None = None
    negative_prompt: str | None = None
    ui_language: str | None = None


@router.get("/me", response=MeOut, summary="The user this request is authenticated as")
def me(request):
    return request.user


@router.get("/preferences", response=PreferencesOut, summary="Music taste and interface language")
def preferences_read(request):
    return preferences_for(user=request.user)


@router.patch("/preferences", response=PreferencesOut, summary="Change some preferences")
def preferences_update(request, payload: PreferencesIn):
    from emotune.api_support import form_errors

    prefs = preferences_for(user=request.user)
    current = {name: getattr(prefs, name) for name in PreferencesForm.Meta.fields}
    changes = payload.dict(exclude_unset=True)
    data = {**current, **{k: v for k, v in changes.items() if v is not None}}
    for name in ("favourite_genres", "instruments"):  # the form reads these as comma-separated words
        data[name] = ", ".join(item.replace(",", " ") for item in data[name])
    form = PreferencesForm(data, instance=prefs)  # the page's own validation (tempo bounds, languages)
    if not form.is_valid():
        raise form_errors(form)
    prefs = form.save()
    log_write(action="account.preferences", user_id=request.user.pk, ip=client_ip(request), detail={"via": "api"})
    return prefs
