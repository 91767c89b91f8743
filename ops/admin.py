"""Admin as the ops panel: system logs, events, and the pieces every app's admin shares."""

from __future__ import annotations

from datetime import datetime, timedelta
from datetime import time as dtime

from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.contrib.admin.views.main import ChangeList
from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.core.paginator import Paginator
from django.db import connections, transaction
from django.db.models import Count, F, Max, Min, Prefetch, Q
from django.urls import reverse
from django.utils import timezone
from django.utils.dateparse import parse_date
from django.utils.functional import cached_property, lazy
from django.utils.html import format_html
from django.utils.text import smart_split, unescape_string_literal
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from emotune.models import JobStatus
from ops.models import Event, SystemLog
from ops.search import FullTextMatch, term_expression, term_word_starts
from ops.selectors import log_action_choices
from ops.services import client_ip, log_write

admin.site.site_header = _("emotune operations")
admin.site.site_title = _("emotune ops")
admin.site.index_template = "admin/ops_index.html"


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


# --- Filters --------------------------------------------------------------------------


class ActionFilter(admin.SimpleListFilter):
    title = _("action")
    parameter_name = "action"

    def lookups(self, request, model_admin):
        return [(action, action) for action in log_action_choices()]

    def queryset(self, request, queryset):
        return queryset.filter(action=self.value()) if self.value() else queryset


class DateRangeFilter(admin.ListFilter):
    """From/to dates (inclusive, in the site's time zone) on ``created_at``."""

    title = _("date range")
    template = "admin/ops/date_range_filter.html"
    parameters = ("created_from", "created_to")

    def __init__(self, request, params, model, model_admin):
        super().__init__(request, params, model, model_admin)
        self.values = {}
        for name in self.parameters:
            if name in params:
                raw = params.pop(name)
                raw = raw[-1] if isinstance(raw, list) else raw
                self.values[name] = raw
                self.used_parameters[name] = raw

    def has_output(self) -> bool:
        return True

    def expected_parameters(self):
        return list(self.parameters)

    def choices(self, changelist):
        yield {
            "from": self.values.get("created_from", ""),
            "to": self.values.get("created_to", ""),
            "others": [
                (key, value)
                for key, values in changelist.get_filters_params().items()
                if key not in self.parameters
                for value in (values if isinstance(values, list) else [values])
            ],
            "clear_url": changelist.get_query_string(remove=list(self.parameters)),
        }

    def _bound(self, name: str, at: dtime) -> datetime | None:
        day = parse_date(self.values.get(name) or "")
        return timezone.make_aware(datetime.combine(day, at)) if day else None

    def queryset(self, request, queryset):
        start, end = self._bound("created_from", dtime.min), self._bound("created_to", dtime.max)
        if start:
            queryset = queryset.filter(created_at__gte=start)
        if end:
            queryset = queryset.filter(created_at__lte=end)
        return queryset


# --- System logs and events -----------------------------------------------------------


class ReadOnlyLogAdmin(AuditedModelAdmin):
    """Machine-written rows: viewable and deletable by staff, never edited or added by hand."""

    paginator = CappedPaginator
    show_full_result_count = False
    show_facets = admin.ShowFacets.NEVER  # a count per filter choice over a million rows
    list_per_page = 100

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(SystemLog)
class SystemLogAdmin(ReadOnlyLogAdmin):
    list_display = ("created_at", "action", "status", "user_link", "message", "ip")
    list_filter = (ActionFilter, "status", DateRangeFilter)
    list_select_related = ("user",)
    # Keyword search: message and action, or an exact username (get_search_results below).
    search_fields = ("message", "action", "=user__username")
    # Formatted when shown (a lazy string formatted here would be fixed in the language of the import).
    search_help_text = lazy(lambda: gettext(
        "Words in message or action (word beginnings; any two or more Chinese characters), or an exact "
        "username; lists the newest %(cap)s matches. Words of one or two letters, or a single Chinese "
        "character, search only the last %(days)d days unless a date range is set; several common words "
        "together search the newest %(rows)s rows."
    ) % {"days": 30, "cap": 500, "rows": "100,000"}, str)()
    # See get_search_results.
    search_window_days = 30
    search_cap = 500
    search_scan_rows = 20_000
    search_common_scan_factor = 5
    fields = ("created_at", "user_link", "action", "status", "message", "detail", "ip")
    readonly_fields = fields

    def get_queryset(self, request):
        # Never shown, and as long as the message again.
        return super().get_queryset(request).defer("search_text")

    @admin.display(description=_("user"), ordering="user__username")
    def user_link(self, obj):
        return admin_link(obj.user, obj.user.get_username()) if obj.user_id else "-"

    def get_search_results(self, request, queryset, search_term):
        """Every term must occur in message or action at a word beginning (anywhere inside a CJK run;
        pieces under three characters anywhere), or be the row's username.

        The exact test (``exact``) decides the results; how they are found decides the speed.
        Each way lists the newest ``search_cap`` matches of the filtered list:

        1. the newest ``search_scan_rows`` rows are read in date order: enough when the search is
           common (``search_cap`` matches there);
        2. otherwise the FULLTEXT index on ``search_text`` (ops/search.py, MySQL/MariaDB) finds the
           candidates over all time, asked only for the terms that are rare in those rows: InnoDB
           reads a term's every candidate row, seconds for a word in a quarter of a million rows;
        3. a search made only of common words (rare together) reads the newest
           ``search_scan_rows * search_common_scan_factor`` rows instead;
        4. a search with no term the index can answer (words of one or two letters, a single CJK
           character), or on SQLite, scans the last ``search_window_days`` unless a date range is set.
        """
        terms = search_terms(search_term)
        if not terms:
            return queryset, False
        user_ids = usernames_to_ids(terms)
        conditions = []  # (term's exact test, its index expression or None)
        for term in terms:
            found = Q(message__icontains=term) | Q(action__icontains=term)
            word_starts = term_word_starts(term)
            if word_starts is not None:
                found &= word_starts
            ids = user_ids.get(term.lower(), ())
            if ids:
                found |= Q(user_id__in=ids)
            conditions.append((found, term_expression(term, ids)))
        exact = Q()
        for found, _expression in conditions:
            exact &= found
        indexed = [(found, expression) for found, expression in conditions if expression]
        if not indexed or connections[queryset.db].vendor != "mysql":
            if not any(request.GET.get(name) for name in DateRangeFilter.parameters):
                queryset = queryset.filter(created_at__gte=timezone.now() - timedelta(days=self.search_window_days))
            return queryset.filter(exact), False

        newest = queryset.order_by("-created_at", "-id")
        matches = newest.filter(exact)
        window = self._newest_rows(newest, self.search_scan_rows)
        ids = list(matches.filter(window).values_list("pk", flat=True)[:self.search_cap])
        if len(ids) < self.search_cap and window:
            rare = self._rare_terms(newest.filter(window), indexed)
            if rare:
                match = FullTextMatch(F("search_text"), " ".join(expression for _found, expression in rare))
                ids = list(matches.filter(match).values_list("pk", flat=True)[:self.search_cap])
            else:
                # Only common words (each in 1 % of the newest rows or more), rare together: the index
                # would read hundreds of thousands of rows, a scan of the newest rows finds them sooner.
                wide = self._newest_rows(newest, self.search_scan_rows * self.search_common_scan_factor)
                ids = list(matches.filter(wide).values_list("pk", flat=True)[:self.search_cap])
        return queryset.filter(pk__in=ids), False

    @staticmethod
    def _newest_rows(newest, rows: int) -> Q:
        """A filter for the ``rows`` newest rows of ``newest`` (empty Q when there are fewer)."""
        # The date of the rows-th newest row: an index-only walk on every filter's index.
        edge = list(newest.values_list("created_at", flat=True)[rows - 1:rows])
        return Q(created_at__gte=edge[0]) if edge else Q()

    def _rare_terms(self, window, indexed):
        """The terms worth giving the index: those in under 1 % of ``window`` (the newest rows).

        InnoDB reads a term's whole posting list and then every candidate row, so a word found in a
        quarter of the rows costs seconds even when another term leaves three rows; the exact test
        still applies every term.
        """
        counts = window.order_by().aggregate(**{
            f"t{i}": Count("pk", filter=found) for i, (found, _expression) in enumerate(indexed)
        })
        return [pair for i, pair in enumerate(indexed) if counts[f"t{i}"] * 100 < self.search_scan_rows]


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


@admin.register(Event)
class EventAdmin(ReadOnlyLogAdmin):
    list_display = ("created_at", "kind", "user_link", "subject_link", "summary")
    list_filter = ("kind", DateRangeFilter)
    list_select_related = ("user",)
    search_fields = ("=kind", "=subject_type")
    fields = ("created_at", "kind", "user_link", "subject_link", "data")
    readonly_fields = fields

    @admin.display(description=_("user"))
    def user_link(self, obj):
        return admin_link(obj.user, obj.user.get_username()) if obj.user_id else "-"

    @admin.display(description=_("subject"))
    def subject_link(self, obj):
        if not obj.subject_type or obj.subject_id is None:
            return "-"
        app_label, _, model_name = obj.subject_type.partition(".")
        try:
            url = reverse(f"admin:{app_label}_{model_name}_change", args=[obj.subject_id])
        except Exception:  # noqa: BLE001 - a subject type without admin
            return f"{obj.subject_type}#{obj.subject_id}"
        return format_html('<a href="{}">{}#{}</a>', url, obj.subject_type, obj.subject_id)

    @admin.display(description=_("data"))
    def summary(self, obj):
        data = obj.data if isinstance(obj.data, dict) else {}
        return ", ".join(f"{k}={v}" for k, v in list(data.items())[:4])


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
