from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class EmotionConfig(AppConfig):
    name = "emotion"
    verbose_name = _("Emotion")
