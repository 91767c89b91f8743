"""Generation parameters: defaults, limits and validation with field-named errors."""

from __future__ import annotations

import random

from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

ENGINES = ("offline", "musicgen", "audiocraft")
DECODERS = ("default", "MultiBand_Diffusion")
# Models users may pick; a local directory path is accepted too.
MUSICGEN_MODELS = (
    "facebook/musicgen-small", "facebook/musicgen-medium", "facebook/musicgen-large",
    "facebook/musicgen-melody", "facebook/musicgen-melody-large",
    "facebook/musicgen-stereo-small", "facebook/musicgen-stereo-medium", "facebook/musicgen-stereo-large",
    "facebook/musicgen-stereo-melody", "facebook/musicgen-stereo-melody-large",
)

DEFAULTS = {
    "duration": 15.0, "top_k": 250, "top_p": 0.0, "temperature": 1.0, "cfg_coef": 3.0, "seed": None,
    "decoder": "default", "video": False, "use_suggested": False,
}
# field: (minimum, maximum, type)
LIMITS = {
    "duration": (5.0, 120.0, float),
    "top_k": (0, 1000, int),
    "top_p": (0.0, 1.0, float),
    "temperature": (0.05, 2.0, float),
    "cfg_coef": (0.0, 15.0, float),
    "seed": (0, 2**31 - 1, int),
}


def audiocraft_available() -> bool:
    try:
        import audiocraft  # noqa: F401
    except Exception:
        return False
    return True


def params_validate(data: dict) -> dict:
    """Complete ``data`` with defaults and check it; raise ValidationError keyed by field."""
    out = {**DEFAULTS, "engine": settings.MUSIC_ENGINE, "model": settings.MUSICGEN_MODEL}
    out.update({k: v for k, v in data.items() if v is not None and v != ""})
    errors: dict[str, str] = {}
    for name, (lo, hi, kind) in LIMITS.items():
        value = out.get(name)
        if value is None:
            continue
        try:
            number = kind(value)
            if kind is int and float(value) != number:
                raise ValueError
        except (TypeError, ValueError):
            errors[name] = _("%(field)s must be a %(kind)s number.") % {
                "field": name, "kind": _("whole") if kind is int else _("decimal")}
            continue
        if not lo <= number <= hi:
            errors[name] = _("%(field)s must be between %(lo)s and %(hi)s (got %(value)s).") % {
                "field": name, "lo": lo, "hi": hi, "value": value}
        out[name] = number
    if out["engine"] not in ENGINES:
        errors["engine"] = _("engine must be one of: %s.") % ", ".join(ENGINES)
    if out["decoder"] not in DECODERS:
        errors["decoder"] = _("decoder must be one of: %s.") % ", ".join(DECODERS)
    elif out["decoder"] == "MultiBand_Diffusion":
        if out["engine"] == "offline":
            errors["decoder"] = _("decoder MultiBand_Diffusion needs a MusicGen engine, not the offline engine.")
        elif not audiocraft_available():
            errors["decoder"] = _(
                "decoder MultiBand_Diffusion needs audiocraft, which is not installed on this server "
                "(see README: pip install --no-deps audiocraft==1.3.0)."
            )
        else:
            out["engine"] = "audiocraft"
    model = str(out.get("model") or "")
    if out["engine"] != "offline" and not model:
        errors["model"] = _("model is required for MusicGen.")
    out["video"] = bool(out.get("video"))
    out["use_suggested"] = bool(out.get("use_suggested"))
    if errors:
        raise ValidationError(errors)
    if out["seed"] is None:
        out["seed"] = random.randint(0, 2**31 - 1)  # record it so the result can be reproduced
    return out
