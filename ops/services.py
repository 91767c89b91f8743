"""Writes of the ops app: purging users' media."""

from __future__ import annotations

import logging

from emotune.logbook import log_write
from emotune.media import media_fields, media_models

logger = logging.getLogger("emotune.audit")


# --- Media purge ----------------------------------------------------------------------

def rows_purge(queryset, *, dry_run: bool = False) -> tuple[int, int, int]:
    """Delete the rows of ``queryset`` and their files: (rows, files, bytes).

    Files go first, each row right after its own files, so an interruption
    leaves at worst a row whose files are gone (shown as missing), never a file
    no row points to.
    """
    fields = media_fields(queryset.model)
    rows = files = size = 0
    for row in queryset.only("pk", *fields).iterator(chunk_size=500):
        for name in fields:
            field_file = getattr(row, name)
            if field_file and field_file.storage.exists(field_file.name):
                size += field_file.storage.size(field_file.name)
                files += 1
                if not dry_run:
                    field_file.storage.delete(field_file.name)
        rows += 1
        if not dry_run:
            type(row).objects.filter(pk=row.pk).delete()
    return rows, files, size


def user_media_purge(*, user, by=None, ip: str | None = None) -> dict:
    """Delete every reading, generation, journey and voice of ``user`` with its files (admin action)."""
    from accounts.models import Preferences

    Preferences.objects.filter(user=user).update(active_speaker=None)
    totals = {"rows": 0, "files": 0, "bytes": 0}
    for model in media_models():
        rows, files, size = rows_purge(model.objects.filter(user=user))
        totals["rows"] += rows
        totals["files"] += files
        totals["bytes"] += size
    log_write(
        action="admin.purge_media", user_id=by.pk if by else None, message=user.get_username(),
        detail={"target_user": user.pk, **totals}, ip=ip,
    )
    return totals
