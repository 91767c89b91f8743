"""What every app writes down: the system log (who did what, from where, how it went) and
typed events (facts the dashboards count).

The rows live in models the ops app defines and the settings name (``EMOTUNE_LOG_MODEL``,
``EMOTUNE_EVENT_MODEL``, the way ``AUTH_USER_MODEL`` names the user model), so the core and
the apps write them without importing ops.
"""

from __future__ import annotations

import json
import logging

from django.apps import apps
from django.conf import settings
from django.db import models

logger = logging.getLogger("emotune.audit")


def _model(setting: str) -> type[models.Model]:
    return apps.get_model(getattr(settings, setting))


def client_ip(request) -> str | None:
    """The peer address Django saw (set BEHIND_PROXY so that it is the client's, not the proxy's)."""
    if request is None:
        return None
    return request.META.get("REMOTE_ADDR") or None


def log_write(
    *,
    action: str,
    status: str = "success",
    user_id: int | None = None,
    message: str = "",
    detail: dict | None = None,
    ip: str | None = None,
):
    """Record an action in SystemLog and as one structured line on stdout.

    Never raises: losing a log line must not fail the action it describes.
    """
    detail = detail or {}
    logger.info(
        json.dumps(
            {"action": action, "status": status, "user": user_id, "message": message[:500], "ip": ip, **detail},
            ensure_ascii=False,
            default=str,
        )
    )
    try:
        return _model("EMOTUNE_LOG_MODEL")._default_manager.create(
            action=action[:64], status=status, user_id=user_id, message=message[:500], detail=detail, ip=ip
        )
    except Exception:
        logger.exception("system log write failed for %s", action)
        return None


def event_record(*, kind: str, user_id: int | None = None, subject: models.Model | None = None, data: dict):
    """Record a typed, machine-written fact (a rule score, a job's timing, a turn's latency)."""
    return _model("EMOTUNE_EVENT_MODEL")._default_manager.create(
        kind=kind,
        user_id=user_id,
        subject_type=subject._meta.label_lower if subject is not None else "",
        subject_id=subject.pk if subject is not None else None,
        data=data,
    )
