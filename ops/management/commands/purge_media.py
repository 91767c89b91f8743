"""Delete old readings and generations with their files, and files no row points to."""

from __future__ import annotations

from datetime import timedelta

from django.core.files.storage import default_storage
from django.core.management.base import BaseCommand
from django.template.defaultfilters import filesizeformat
from django.utils import timezone

from emotune.logbook import log_write
from emotune.media import media_fields, media_models
from emotune.models import FINAL_STATUSES
from emotune.storage import walk
from ops.services import rows_purge

HISTORY_DIRS = ("readings", "music")


def _size(num_bytes: int) -> str:
    return filesizeformat(num_bytes).replace("\xa0", " ")


class Command(BaseCommand):
    help = (
        "Delete finished readings and generations older than DAYS together with their files, then files under "
        "readings/ and music/ in the media storage that are older than DAYS and belong to no row. Voices "
        "(speakers) are kept. --dry-run reports what would go and changes nothing."
    )

    def add_arguments(self, parser):
        parser.add_argument("--older-than", type=int, required=True, metavar="DAYS")
        parser.add_argument("--dry-run", action="store_true", help="report only")

    def handle(self, *args, older_than: int, dry_run: bool, **options):
        cutoff = timezone.now() - timedelta(days=older_than)
        verb = "would delete" if dry_run else "deleted"
        totals = {"rows": 0, "files": 0, "bytes": 0}
        for model in media_models():
            if not hasattr(model, "job_type"):  # voices are not history
                continue
            queryset = model.objects.filter(created_at__lt=cutoff, status__in=list(FINAL_STATUSES))
            self.stdout.write(f"{model._meta.verbose_name_plural}: {queryset.count()} row(s) older than "
                              f"{older_than} days...")
            rows, files, size = rows_purge(queryset, dry_run=dry_run)
            self.stdout.write(f"  {verb} {rows} row(s), {files} file(s), {_size(size)}")
            totals["rows"] += rows
            totals["files"] += files
            totals["bytes"] += size
        orphans, orphan_bytes = self._orphans(cutoff, dry_run)
        self.stdout.write(f"orphan files: {verb} {orphans}, {_size(orphan_bytes)}")
        totals["orphans"] = orphans
        if not dry_run:
            log_write(action="ops.purge_media", message=f"older than {older_than} days", detail=totals)
        self.stdout.write(self.style.SUCCESS(
            f"Done: {verb} {totals['rows']} row(s) and {totals['files'] + orphans} file(s)."))

    def _orphans(self, cutoff, dry_run: bool) -> tuple[int, int]:
        referenced: set[str] = set()
        for model in media_models():
            for field in media_fields(model):
                referenced.update(model.objects.exclude(**{field: ""}).values_list(field, flat=True).iterator())
        storage = default_storage
        count = size = 0
        for top in HISTORY_DIRS:
            for name in walk(storage, top):
                if name in referenced or storage.get_modified_time(name) >= cutoff:
                    continue
                count += 1
                size += storage.size(name)
                if not dry_run:
                    storage.delete(name)
        return count, size
