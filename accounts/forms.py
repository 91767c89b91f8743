from __future__ import annotations

from django import forms
from django.contrib.auth.forms import AuthenticationForm, UserCreationForm
from django.core.validators import MaxValueValidator, MinValueValidator
from django.utils.translation import gettext_lazy as _

from accounts.models import BPM_MAX, BPM_MIN, Preferences, User
from emotune.logbook import client_ip
from emotune.ratelimit import rate_limit_hit


class RateLimitedAuthenticationForm(AuthenticationForm):
    """Sign-in that refuses guessing: limited per username and per client address."""

    rate_limit = None  # the RateResult that refused this attempt, if one did

    error_messages = {
        **AuthenticationForm.error_messages,
        "rate_limited": _("Too many sign-in attempts. Try again in %(minutes)d minutes."),
    }

    def clean(self):
        username = (self.data.get("username") or "").strip().lower()[:150]
        for who in (f"user:{username}", f"ip:{client_ip(self.request)}"):
            result = rate_limit_hit("login", who)
            if not result.allowed:
                self.rate_limit = result  # the view answers 429 with Retry-After
                raise forms.ValidationError(
                    self.error_messages["rate_limited"],
                    code="rate_limited",
                    params={"minutes": max(1, round(result.retry_after / 60))},
                )
        return super().clean()


class SignupForm(UserCreationForm):
    email = forms.EmailField(label=_("Email (optional)"), required=False)

    class Meta(UserCreationForm.Meta):
        model = User
        fields = ("username", "email")


class TokenForm(forms.Form):
    name = forms.CharField(label=_("Token name"), max_length=60,
                           help_text=_("What the token is for, e.g. \"laptop script\"."))


class ProfileForm(forms.ModelForm):
    class Meta:
        model = User
        fields = ("first_name", "last_name", "email")


class CommaListField(forms.CharField):
    """A short list typed as comma-separated words ("lo-fi, ambient")."""

    def __init__(self, *, max_items: int = 8, **kwargs):
        self.max_items = max_items
        super().__init__(required=False, max_length=300, **kwargs)

    def prepare_value(self, value):
        return ", ".join(value) if isinstance(value, list) else value

    def to_python(self, value):
        items = [item.strip() for item in (value or "").split(",") if item.strip()]
        if len(items) > self.max_items:
            raise forms.ValidationError(_("At most %(n)d items.") % {"n": self.max_items})
        return items


class PreferencesForm(forms.ModelForm):
    favourite_genres = CommaListField(label=_("Favourite genres"), help_text=_("Comma-separated, e.g. lo-fi, ambient"))
    instruments = CommaListField(label=_("Instruments"), help_text=_("Comma-separated, e.g. piano, strings"))

    class Meta:
        model = Preferences
        fields = ("favourite_genres", "instruments", "bpm_min", "bpm_max", "negative_prompt", "ui_language")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # One message for a tempo out of range, too low (-5) or too high (9999), where the model's
        # field alone would say "greater than or equal to 0" for one and nothing for the other.
        message = _("Tempo must be between %(lo)d and %(hi)d BPM.") % {"lo": BPM_MIN, "hi": BPM_MAX}
        for name in ("bpm_min", "bpm_max"):
            field = self.fields[name]
            field.validators = [MinValueValidator(BPM_MIN, message=message), MaxValueValidator(BPM_MAX, message=message)]
            field.widget.attrs.update(min=BPM_MIN, max=BPM_MAX)

    def clean(self):
        data = super().clean()
        low, high = data.get("bpm_min"), data.get("bpm_max")
        if low is not None and high is not None and low > high:
            self.add_error("bpm_max", _("The fastest tempo must not be below the slowest."))
        return data
