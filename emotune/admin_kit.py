"""The admin pieces every app shares: audited admins, capped counts, links, players, and the
job rows' columns and ops actions. The ops app builds the panel from them."""

from __future__ import annotations

from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.contrib.admin.views.main import ChangeList
from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.core.paginator import Paginator
from django.db import transaction
from django.db.models import Max, Min, Prefetch, Q
from django.urls import reverse
from django.utils import timezone
from django.utils.functional import cached_property
from django.utils.html import format_html
from django.utils.text import smart_split, unescape_string_literal
from django.utils.translation import gettext_lazy as _

from emotune.logbook import client_ip, log_write
from emotune.models import JobStatus


class CappedPaginator(Paginator):
    """Counts at most ``cap`` rows: COUNT(*) over a million rows costs more than the page itself."""

    cap = 10_000

    @cached_property
    def count(self) -> int:
        try:
            # Primary keys only: the joins list_select_related adds are not needed to count.
            # The admin pages querysets; the stub types object_list as any sliceable sequence.
            return self.object_list.order_by().values("pk")[: self.cap].count()  # type: ignore[attr-defined]
        except (AttributeError, TypeError):
            return min(len(self.object_list), self.cap)


def admin_link(obj, label: str | None = None) -> str:
    if obj is None:
        return "-"
    url = reverse(f"admin:{obj._meta.app_label}_{obj._meta.model_name}_change", args=[obj.pk])
    return format_html('<a href="{}">{}</a>', url, label or str(obj))


def changelist_link(model, label: str, **filters) -> str:
    url = reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")
    query = "&".join(f"{key}={value}" for key, value in filters.items())
    return format_html('<a href="{}?{}">{}</a>', url, query, label)


def admin_log(request, action: str, message: str, *, status: str = "success", **detail) -> None:
    log_write(action=f"admin.{action}", status=status, user_id=request.user.pk, message=message,
              detail=detail, ip=client_ip(request))


class AuditedAdmin:
    """Adds, edits and deletes made in the admin also go to the SystemLog (who, what, from where)."""

    def log_addition(self, request, obj, message):
        entry = super().log_addition(request, obj, message)
        admin_log(request, "add", f"{obj._meta.label}#{obj.pk}", model=obj._meta.label, ids=[obj.pk])
        return entry

    def log_change(self, request, obj, message):
        entry = super().log_change(request, obj, message)
        admin_log(request, "change", f"{obj._meta.label}#{obj.pk}", model=obj._meta.label, ids=[obj.pk],
                  changes=message)
        return entry

    def log_deletions(self, request, queryset):
        objects = list(queryset)
        entries = super().log_deletions(request, objects)
        if objects:
            label = objects[0]._meta.label
            admin_log(request, "delete", f"{label}: {len(objects)}", model=label, ids=[o.pk for o in objects])
        return entries


class AuditedModelAdmin(AuditedAdmin, admin.ModelAdmin):
    def action_checkbox(self, obj):
        # The same markup as Django's, without rendering a CheckboxInput through the template engine
        # for every row: that was a quarter of a 100-row changelist's rendering time.
        return format_html(
            '<input type="checkbox" name="{}" value="{}" class="action-select" aria-label="{}">',
            helpers.ACTION_CHECKBOX_NAME, str(obj.pk), format_html(_("Select this object for an action - {}"), str(obj)),
        )


class CachedValuesFilter(admin.AllValuesFieldListFilter):
    """A column's distinct values (a DISTINCT over the whole table per page view), cached for a minute."""

    def __init__(self, field, request, params, model, model_admin, field_path):
        super().__init__(field, request, params, model, model_admin, field_path)
        key = f"ops:filter-values:{model._meta.label_lower}.{field_path}"
        self.lookup_choices = cache.get_or_set(key, lambda: list(self.lookup_choices), 60)


class BoundedDatesQuerySetMixin:
    """Years and months for ``date_hierarchy`` from the first and last dates, not a DISTINCT.

    The admin lists the years (then a year's months) with ``SELECT DISTINCT DATE_FORMAT(…)`` over
    every row (or a year's rows): 60 ms per 100,000 rows, growing with the table. MIN and MAX are
    two index lookups; a year or month in between with no row is listed all the same (it shows an
    empty list), which a busy table hardly has. Days still come from the rows.
    """

    def datetimes(self, field_name, kind, order="ASC", tzinfo=None):
        if kind not in ("year", "month"):
            return super().datetimes(field_name, kind, order, tzinfo)
        bounds = self.aggregate(first=Min(field_name), last=Max(field_name))
        if bounds["first"] is None:
            return []
        first, last = (timezone.localtime(bounds[name]) for name in ("first", "last"))
        year, month, found = first.year, first.month if kind == "month" else 1, []
        while (year, month) <= (last.year, last.month if kind == "month" else 1):
            found.append(first.replace(year=year, month=month, day=1, hour=0, minute=0, second=0, microsecond=0))
            year, month = (year, month + 1) if kind == "month" and month < 12 else (year + 1, 1)
        return found if order == "ASC" else found[::-1]


class BoundedDatesChangeList(ChangeList):
    def get_queryset(self, request, exclude_parameters=None):
        queryset = super().get_queryset(request, exclude_parameters)
        cls = queryset.__class__
        queryset.__class__ = type(f"BoundedDates{cls.__name__}", (BoundedDatesQuerySetMixin, cls), {})
        return queryset


def audio_player(field_file):
    if not field_file:
        return "-"
    return format_html('<audio src="{}" controls preload="none"></audio>', field_file.url)


# --- Search --------------------------------------------------------------------------------


def search_terms(search_term: str) -> list[str]:
    """The admin's own split: on spaces, keeping quoted phrases whole."""
    terms = []
    for bit in smart_split(search_term):
        if bit.startswith(('"', "'")) and bit[0] == bit[-1]:
            bit = unescape_string_literal(bit)
        if bit:
            terms.append(bit)
    return terms


def usernames_to_ids(terms: list[str]) -> dict[str, list[int]]:
    """{lowercased term: ids of the users with that username (case-insensitive)}; one query."""
    query = Q()
    for term in terms:
        query |= Q(username__iexact=term)
    found: dict[str, list[int]] = {}
    for pk, username in get_user_model().objects.filter(query).values_list("pk", "username"):
        found.setdefault(username.lower(), []).append(pk)
    return found


# --- Shared by every job row's admin (readings, generations) -------------------------------


class JobRowAdmin(AuditedModelAdmin):
    """Columns, read-only machine fields and ops actions for a JobRow subclass."""

    job_fields = (
        "status", "progress", "progress_note", "error", "job_id", "worker_name", "created_at", "started_at",
        "finished_at",
    )
    actions = ("requeue_jobs", "cancel_jobs", "mark_stuck_failed")
    paginator = CappedPaginator
    show_full_result_count = False
    list_per_page = 50
    # No join to the user table: the user is required, so the join is INNER and MariaDB starts from
    # the (smaller) user table, then sorts every row of the big one (0.5 s on 100,000 generations).
    # One more query fetches the page's users instead (get_queryset).
    list_select_related = ()

    def get_queryset(self, request):
        users = get_user_model().objects.only("pk", "username")
        return super().get_queryset(request).prefetch_related(Prefetch("user", queryset=users))

    def get_changelist(self, request, **kwargs):
        return BoundedDatesChangeList

    def get_search_results(self, request, queryset, search_term):
        """Each term is an id (digits), an exact username, or else words of the text fields.

        Django's own search ORs every field for every term (``id LIKE 'x' OR username = 'x' OR
        description LIKE '%x%'``), which joins the user table and reads every row (2 s on 100,000
        generations) even for an id or a username, the commonest searches here; those two now go
        through the primary key and the (user, created_at) index. Only a term that is neither is
        searched as a substring of ``search_fields``' text fields (a scan).
        """
        terms = search_terms(search_term)
        if not terms:
            return queryset, False
        user_ids = usernames_to_ids(terms)
        text_fields = [name for name in self.search_fields if not name.startswith("=")]
        for term in terms:
            if term.isascii() and term.isdigit():
                queryset = queryset.filter(pk=int(term))
            elif user_ids.get(term.lower()):
                queryset = queryset.filter(user_id__in=user_ids[term.lower()])
            else:
                found = Q()
                for name in text_fields:
                    found |= Q(**{f"{name}__icontains": term})
                queryset = queryset.filter(found) if text_fields else queryset.none()
        return queryset, False

    @admin.display(description=_("user"), ordering="user__username")
    def user_link(self, obj):
        return admin_link(obj.user, obj.user.get_username())

    @admin.display(description=_("seconds"))
    def seconds(self, obj):
        value = obj.duration_seconds
        return f"{value:.1f}" if value is not None else "-"

    def _apply(self, request, queryset, name: str, change, done_message: str, skipped_message: str):
        done: list[int] = []
        skipped: list[int] = []
        for row in queryset:
            with transaction.atomic():
                (done if change(row) else skipped).append(row.pk)
        if done:
            admin_log(request, name, f"{queryset.model._meta.label}: {len(done)}",
                      model=queryset.model._meta.label, ids=done)
            self.message_user(request, done_message % {"count": len(done)}, messages.SUCCESS)
        if skipped:
            self.message_user(request, skipped_message % {"count": len(skipped)}, messages.WARNING)

    @admin.action(description=_("Requeue selected failed or cancelled jobs"))
    def requeue_jobs(self, request, queryset):
        from emotune.jobs import job_requeue

        self._apply(request, queryset.exclude(status__in=[JobStatus.RUNNING, JobStatus.SUCCEEDED]),
                    "requeue", job_requeue, _("%(count)d job(s) requeued."),
                    _("%(count)d job(s) were not requeued."))
        skipped = queryset.filter(status__in=[JobStatus.RUNNING, JobStatus.SUCCEEDED]).count()
        if skipped:
            self.message_user(request, _("%(count)d running or succeeded job(s) left as they are.")
                              % {"count": skipped}, messages.WARNING)

    @admin.action(description=_("Cancel selected queued or running jobs"))
    def cancel_jobs(self, request, queryset):
        from emotune.jobs import job_cancel

        self._apply(request, queryset, "cancel", job_cancel, _("%(count)d job(s) cancelled."),
                    _("%(count)d job(s) had already ended."))

    @admin.action(description=_("Mark selected stuck jobs failed"))
    def mark_stuck_failed(self, request, queryset):
        from emotune.jobs import job_fail

        reason = "Stopped by staff: the job was stuck."
        self._apply(request, queryset, "mark_failed", lambda row: job_fail(row, reason),
                    _("%(count)d job(s) marked failed."), _("%(count)d job(s) had already ended."))
