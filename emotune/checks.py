"""Start-up checks: configuration that Django would otherwise discover late."""

from __future__ import annotations

from django.conf import settings
from django.core.checks import Error, Tags, Warning, register


@register(Tags.compatibility, deploy=True)
def redis_reachable(app_configs, **kwargs):
    from emotune.backends import backend

    if backend().in_process:
        return []
    try:
        backend().ping()
    except Exception as exc:
        return [Error(f"Redis at REDIS_URL is unreachable: {exc}", id="emotune.E001")]
    return []


@register()
def media_writable(app_configs, **kwargs):
    if settings.MEDIA_S3_BUCKET:  # media in a bucket: nothing on this machine to create
        return []
    root = settings.MEDIA_ROOT
    try:
        root.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        return [Error(f"MEDIA_ROOT {root} cannot be created: {exc.strerror}", id="emotune.E002")]
    return []


@register(deploy=True)
def llm_configured(app_configs, **kwargs):
    if settings.OPENAI_BASE_URL and not settings.OPENAI_API_KEY:
        return [
            Warning(
                "OPENAI_BASE_URL is set but OPENAI_API_KEY is not; most endpoints refuse requests without a key.",
                id="emotune.W001",
            )
        ]
    return []
