from __future__ import annotations

from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from emotion.models import Emotion, EmotionReading
from emotion.selectors import felt_readings
from emotune.labels import emotion_label
from music.models import CheckIn, Journey, MusicGeneration
from music.params import DECODERS, DEFAULTS, ENGINES, MUSICGEN_MODELS, params_validate

PARAM_FIELDS = ("engine", "model", "duration", "top_k", "top_p", "temperature", "cfg_coef", "seed", "decoder", "video",
                "use_suggested")
MOOD_CHOICES = CheckIn.MOODS
ENGINE_LABELS = {"offline": _("Offline arranger/synth (no model weights)"), "musicgen": _("MusicGen (transformers)"),
                 "audiocraft": _("MusicGen (audiocraft, MultiBand Diffusion)")}


DECODER_LABELS = {"default": _("default"), "MultiBand_Diffusion": "MultiBand Diffusion"}


def reading_label(reading: EmotionReading) -> str:
    """A reading in a choice list: number, emotion (or status), source and time, in the active language."""
    return (f"#{reading.pk} · {emotion_label(reading.felt) if reading.felt else reading.get_status_display()} · "
            f"{reading.get_source_display()} · {reading.created_at:%Y-%m-%d %H:%M}")


class StudioForm(forms.Form):
    emotion = forms.ChoiceField(label=_("Start from an emotion"), required=False,
                                choices=[("", _("— none —"))] + list(Emotion.choices))
    reading = forms.ModelChoiceField(label=_("…or from one of your readings"), required=False,
                                     queryset=EmotionReading.objects.none())
    description = forms.CharField(label=_("Describe what you want (any language)"), required=False, max_length=2000,
                                  widget=forms.Textarea(attrs={"rows": 3, "placeholder": _("e.g. gentle piano for a rainy evening")}))
    manual_prompt = forms.CharField(label=_("…or paste a complete English prompt (skips the agents)"), required=False,
                                    max_length=600, widget=forms.Textarea(attrs={"rows": 2}))
    engine = forms.ChoiceField(label=_("Engine"), choices=[(e, ENGINE_LABELS[e]) for e in ENGINES])
    model = forms.CharField(label=_("MusicGen model (hub id or local path)"), required=False, max_length=300,
                            widget=forms.TextInput(attrs={"list": "musicgen-models"}))
    duration = forms.FloatField(label=_("Duration (seconds, 5–120)"), initial=DEFAULTS["duration"])
    top_k = forms.IntegerField(label="top_k", initial=DEFAULTS["top_k"])
    top_p = forms.FloatField(label="top_p", initial=DEFAULTS["top_p"])
    temperature = forms.FloatField(label=_("temperature"), initial=DEFAULTS["temperature"])
    cfg_coef = forms.FloatField(label=_("guidance (cfg_coef)"), initial=DEFAULTS["cfg_coef"])
    seed = forms.IntegerField(label=_("seed (blank: random)"), required=False)
    decoder = forms.ChoiceField(label=_("Decoder"), choices=[(d, DECODER_LABELS.get(d, d)) for d in DECODERS])
    video = forms.BooleanField(label=_("Also make a waveform video"), required=False)
    use_suggested = forms.BooleanField(label=_("Let the agents tune temperature, guidance and top_k"), required=False,
                                       initial=True)
    melody = forms.FileField(label=_("Melody clip (melody models only)"), required=False)

    models_list = MUSICGEN_MODELS

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["reading"].queryset = felt_readings(user=user)
        self.fields["reading"].label_from_instance = reading_label
        self.fields["engine"].initial = settings.MUSIC_ENGINE
        self.fields["model"].initial = settings.MUSICGEN_MODEL

    def clean(self):
        data = super().clean()
        if not (data.get("emotion") or data.get("reading") or data.get("description") or data.get("manual_prompt")):
            raise ValidationError(_("Choose an emotion or a reading, describe the music, or paste a prompt."))
        try:
            data["params"] = params_validate({k: data.get(k) for k in PARAM_FIELDS})
        except ValidationError as exc:
            for field, messages in exc.message_dict.items():
                self.add_error(field if field in self.fields else None, messages)
        return data


class HistoryFilterForm(forms.Form):
    status = forms.ChoiceField(required=False, choices=[("", _("any status"))] + list(MusicGeneration._meta.get_field("status").choices or []))
    emotion = forms.ChoiceField(required=False, choices=[("", _("any emotion"))] + list(Emotion.choices))
    engine = forms.ChoiceField(required=False, choices=[("", _("any engine"))] + [(e, ENGINE_LABELS[e]) for e in ENGINES])
    q = forms.CharField(required=False, max_length=100, label=_("Search"))


class FeedbackForm(forms.Form):
    stars = forms.IntegerField(required=False, min_value=1, max_value=5)
    liked = forms.NullBooleanField(required=False)
    comment = forms.CharField(required=False, max_length=1000)


class JourneyStartForm(forms.Form):
    """Where the journey starts and where it leads; the plan is written from this."""

    emotion = forms.ChoiceField(label=_("How you feel now"), required=False,
                                choices=[("", _("— choose —"))] + [(k, v) for k, v in MOOD_CHOICES])
    reading = forms.ModelChoiceField(label=_("…or start from one of your readings"), required=False,
                                     queryset=EmotionReading.objects.none())
    intensity = forms.IntegerField(label=_("How strongly (1–5)"), min_value=1, max_value=5, initial=3,
                                   widget=forms.NumberInput(attrs={"type": "range", "min": 1, "max": 5}))
    target = forms.ChoiceField(label=_("Where to"), choices=[])
    minutes = forms.FloatField(label=_("Length (minutes, 2–10)"), min_value=2, max_value=10, initial=3)
    sections = forms.IntegerField(label=_("Sections (2–6)"), min_value=2, max_value=6, initial=3)
    engine = forms.ChoiceField(label=_("Engine"), choices=[(e, ENGINE_LABELS[e]) for e in ("offline", "musicgen")])
    model = forms.CharField(label=_("MusicGen model (hub id or local path)"), required=False, max_length=300)
    seed = forms.IntegerField(label=_("seed (blank: random)"), required=False, min_value=0, max_value=2**31 - 1)

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["target"].choices = Journey.Target.choices
        self.fields["reading"].queryset = felt_readings(user=user)
        self.fields["reading"].label_from_instance = reading_label
        self.fields["engine"].initial = settings.MUSIC_ENGINE if settings.MUSIC_ENGINE in ("offline", "musicgen") else "offline"
        self.fields["model"].initial = settings.MUSICGEN_MODEL

    def clean(self):
        data = super().clean()
        if not (data.get("emotion") or data.get("reading")):
            raise ValidationError(_("Say how you feel now, or choose one of your readings."))
        return data

    def params(self) -> dict:
        data = self.cleaned_data
        return {"engine": data["engine"], "model": data.get("model") or "", "seed": data.get("seed")}


class CheckInForm(forms.Form):
    moment = forms.ChoiceField(choices=[("before", _("Before listening")), ("after", _("After listening"))],
                               widget=forms.HiddenInput)
    mood = forms.ChoiceField(label=_("How do you feel?"), choices=MOOD_CHOICES)
    intensity = forms.IntegerField(label=_("How strongly (1–5)"), min_value=1, max_value=5, initial=3,
                                   widget=forms.NumberInput(attrs={"type": "range", "min": 1, "max": 5}))
    note = forms.CharField(label=_("A note (optional)"), required=False, max_length=500)
    reading = forms.ModelChoiceField(label=_("Add a webcam reading (optional)"), required=False,
                                     queryset=EmotionReading.objects.none())

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        # a snapshot just taken may still be being read: it is attached now, its emotion shows when ready
        self.fields["reading"].queryset = EmotionReading.objects.filter(user=user).exclude(status="failed")
        self.fields["reading"].label_from_instance = reading_label


class MoodPeriodForm(forms.Form):
    PERIODS = [("7", _("last 7 days")), ("30", _("last 30 days")), ("90", _("last 90 days")),
               ("365", _("last year")), ("all", _("all time"))]
    period = forms.ChoiceField(required=False, choices=PERIODS, initial="30")
