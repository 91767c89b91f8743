from django.apps import AppConfig


class EmotuneConfig(AppConfig):
    name = "emotune"
    verbose_name = "emotune"

    def ready(self) -> None:
        from emotune import checks  # noqa: F401  (registers system checks)
