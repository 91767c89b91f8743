"""Admin as the ops panel: system logs and events (the pieces every app's admin shares are in
``emotune.admin_kit``)."""

from __future__ import annotations

from datetime import datetime, timedelta
from datetime import time as dtime

from django.contrib import admin
from django.db import connections
from django.db.models import Count, F, Q
from django.urls import reverse
from django.utils import timezone
from django.utils.dateparse import parse_date
from django.utils.functional import lazy
from django.utils.html import format_html
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from emotune.admin_kit import (
    AuditedModelAdmin,
    CappedPaginator,
    admin_link,
    search_terms,
    usernames_to_ids,
)
from ops.models import Event, SystemLog
from ops.search import FullTextMatch, term_expression, term_word_starts
from ops.selectors import log_action_choices

admin.site.site_header = _("emotune operations")
admin.site.site_title = _("emotune ops")
admin.site.index_template = "admin/ops_index.html"


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


@admin.register(Event)
class EventAdmin(ReadOnlyLogAdmin):
    list_display = ("created_at", "kind", "user_link", "subject_link", "summary")
    list_filter = ("kind", DateRangeFilter)
    list_select_related = ("user",)
    search_fields = ("=kind", "=subject_type")
    fields = ("created_at", "kind", "user_link", "subject_link", "data")
    readonly_fields = fields

    def get_queryset(self, request):
        """Crisis events (care.crisis) only for staff with the permission to follow them up."""
        from voicechat.admin import CRISIS_PERMISSION

        queryset = super().get_queryset(request)
        return queryset if request.user.has_perm(CRISIS_PERMISSION) else queryset.exclude(kind__startswith="care.")

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


from ops import user_admin  # noqa: E402, F401 - registers the User admin
