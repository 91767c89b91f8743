from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from emotune.audio import AudioDecodeError, audio_decode, audio_duration, audio_name_ok

MIN_SECONDS, MAX_SECONDS = 3.0, 30.0
MAX_UPLOAD_BYTES = 5 * 1024 * 1024


class SpeakerForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=60)
    reference = forms.FileField(
        label=_("Reference clip"),
        help_text=_("3 to 30 seconds of one person speaking clearly (any audio format, or record below)."),
    )
    transcript = forms.CharField(
        label=_("What is said in the clip"), required=False, widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("Leave empty to fill it in by speech recognition."),
    )
    consent = forms.BooleanField(
        label=_("I am this person, or I have their permission to use their voice."), required=True,
    )

    def clean_reference(self):
        upload = self.cleaned_data["reference"]
        if upload.size > MAX_UPLOAD_BYTES:
            raise forms.ValidationError(_("The clip is larger than 5 MB."))
        if not audio_name_ok(upload.name):
            raise forms.ValidationError(_("The file name does not end in an audio extension (.wav, .mp3, .ogg…)."))
        try:
            samples = audio_decode(upload.read(), max_seconds=MAX_SECONDS + 1)
        except AudioDecodeError as err:
            raise forms.ValidationError(_("This file could not be read as audio.")) from err
        seconds = audio_duration(samples)
        if seconds > MAX_SECONDS:
            raise forms.ValidationError(_("The clip is longer than 30 s; it must last between 3 and 30 seconds."))
        if seconds < MIN_SECONDS:
            raise forms.ValidationError(
                _("The clip lasts %(s).1f s; it must last between 3 and 30 seconds.") % {"s": seconds}
            )
        self.samples, self.seconds = samples, seconds
        return upload


class RenameForm(forms.Form):
    # Left empty, the conversation goes back to its default name ("Conversation #12").
    name = forms.CharField(max_length=120, required=False, error_messages={
        "max_length": _("A title can be at most %(limit_value)d characters (this one has %(show_value)d); "
                        "nothing was changed.")})
