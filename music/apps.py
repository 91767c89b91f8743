from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class MusicConfig(AppConfig):
    name = "music"
    verbose_name = _("Music")

    def ready(self):
        from django.core.checks import register

        from music.checks import music_engine_ready

        register(music_engine_ready)
