from __future__ import annotations

from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.utils.translation import gettext_lazy as _

from emotion.models import Emotion, EmotionReading
from emotune.audio import AudioDecodeError, audio_decode, wav_bytes
from music.models import MusicGeneration
from music.params import DECODERS, DEFAULTS, ENGINES, MUSICGEN_MODELS, params_validate

MELODY_MAX_BYTES, MELODY_RATE, MELODY_MAX_SECONDS = 10 * 2**20, 32000, 30
PARAM_FIELDS = ("engine", "model", "duration", "top_k", "top_p", "temperature", "cfg_coef", "seed", "decoder", "video",
                "use_suggested")
ENGINE_LABELS = {"offline": _("Offline arranger/synth (no model weights)"), "musicgen": _("MusicGen (transformers)"),
                 "audiocraft": _("MusicGen (audiocraft, MultiBand Diffusion)")}


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
    decoder = forms.ChoiceField(label=_("Decoder"), choices=[(d, d) for d in DECODERS])
    video = forms.BooleanField(label=_("Also make a waveform video"), required=False)
    use_suggested = forms.BooleanField(label=_("Let the agents tune temperature, guidance and top_k"), required=False,
                                       initial=True)
    melody = forms.FileField(label=_("Melody clip (melody models only)"), required=False)

    models_list = MUSICGEN_MODELS

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["reading"].queryset = EmotionReading.objects.filter(user=user, status="succeeded").exclude(emotion="")
        self.fields["engine"].initial = settings.MUSIC_ENGINE
        self.fields["model"].initial = settings.MUSICGEN_MODEL

    def clean_melody(self):
        """Decode the clip; only the decoded audio is kept (as WAV), never the uploaded bytes."""
        upload = self.cleaned_data.get("melody")
        if not upload:
            return None
        if upload.size > MELODY_MAX_BYTES:
            raise ValidationError(_("The melody clip is larger than 10 MB."))
        try:
            samples = audio_decode(upload.read(), rate=MELODY_RATE)
        except AudioDecodeError:
            raise ValidationError(_("The melody clip could not be read as audio."))
        return ContentFile(wav_bytes(samples[: MELODY_MAX_SECONDS * MELODY_RATE], rate=MELODY_RATE), name="melody.wav")

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
    status = forms.ChoiceField(required=False, choices=[("", _("any status"))] + list(MusicGeneration._meta.get_field("status").choices))
    emotion = forms.ChoiceField(required=False, choices=[("", _("any emotion"))] + list(Emotion.choices))
    engine = forms.ChoiceField(required=False, choices=[("", _("any engine"))] + [(e, ENGINE_LABELS[e]) for e in ENGINES])
    q = forms.CharField(required=False, max_length=100, label=_("Search"))


class FeedbackForm(forms.Form):
    stars = forms.IntegerField(required=False, min_value=1, max_value=5)
    liked = forms.NullBooleanField(required=False)
    comment = forms.CharField(required=False, max_length=1000)
