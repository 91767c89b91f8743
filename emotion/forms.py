from django import forms
from django.utils.translation import gettext_lazy as _

from emotion.models import Emotion, EmotionReading


class UploadForm(forms.Form):
    # A declared field: the form's metaclass takes it out of the class, so Form.media (the widgets'
    # CSS and JS) is untouched; the stubs cannot see that.
    media = forms.FileField(  # type: ignore[assignment]
        label=_("Photo or short video"),
        help_text=_("JPEG, PNG or WebP photo, or an MP4, WebM or MOV video of up to a minute."),
    )
    webcam = forms.BooleanField(required=False, widget=forms.HiddenInput)


class HistoryFilter(forms.Form):
    emotion = forms.ChoiceField(label=_("Emotion"), required=False, choices=[("", _("Any emotion")), *Emotion.choices])
    source = forms.ChoiceField(label=_("Source"), required=False,
                               choices=[("", _("Any source")), *EmotionReading.Source.choices])
