from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class VoicechatConfig(AppConfig):
    name = "voicechat"
    verbose_name = _("Voice chat")
