from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from emotune.admin_kit import AuditedModelAdmin, CappedPaginator, admin_link, audio_player
from voicechat.models import CareResource, Conversation, Message, Speaker

CRISIS_PERMISSION = "voicechat.view_crisis"


class MessageInline(admin.TabularInline):
    model = Message
    extra = 0
    fields = ("role", "text", "interrupted", "telemetry", "created_at")
    readonly_fields = ("role", "text", "interrupted", "telemetry", "created_at")

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Conversation)
class ConversationAdmin(AuditedModelAdmin):
    list_display = ("id", "user_link", "title", "created_at", "updated_at")
    list_select_related = ("user",)
    list_filter = ("created_at",)
    search_fields = ("=user__username", "title")
    date_hierarchy = "created_at"
    raw_id_fields = ("user",)
    readonly_fields = ("created_at", "updated_at")
    inlines = [MessageInline]
    paginator = CappedPaginator
    show_full_result_count = False

    def get_exclude(self, request, obj=None):
        """Careful mode tells of a crisis: only for staff with the permission to follow them up."""
        excluded = tuple(super().get_exclude(request, obj) or ())
        return excluded if request.user.has_perm(CRISIS_PERMISSION) else (*excluded, "careful_since")

    @admin.display(description=_("user"), ordering="user__username")
    def user_link(self, obj):
        return admin_link(obj.user, obj.user.get_username())


class CrisisFilter(admin.SimpleListFilter):
    """Messages recognised as a crisis (or answers the screen stopped), for the staff who follow
    them up: shown only with the view_crisis permission."""

    title = _("crisis")
    parameter_name = "crisis"

    def lookups(self, request, model_admin):
        return [("yes", _("Crisis")), ("no", _("Not a crisis"))]

    def queryset(self, request, queryset):
        if not request.user.has_perm(CRISIS_PERMISSION):
            return queryset
        if self.value() == "yes":
            return queryset.filter(crisis=True)
        if self.value() == "no":
            return queryset.filter(crisis=False)
        return queryset


@admin.register(Message)
class MessageAdmin(AuditedModelAdmin):
    list_display = ("id", "conversation_link", "role", "short_text", "interrupted", "latency", "created_at")
    list_filter = ("role", "interrupted", "created_at")
    list_select_related = ("conversation",)
    search_fields = ("text",)
    raw_id_fields = ("conversation",)
    readonly_fields = ("telemetry", "created_at")
    date_hierarchy = "created_at"
    paginator = CappedPaginator
    show_full_result_count = False

    # Whether a message was a crisis is seen only by staff with the view_crisis permission.
    def get_list_filter(self, request):
        filters = super().get_list_filter(request)
        return (*filters, CrisisFilter) if request.user.has_perm(CRISIS_PERMISSION) else filters

    def get_list_display(self, request):
        shown = super().get_list_display(request)
        return (*shown, "crisis") if request.user.has_perm(CRISIS_PERMISSION) else shown

    def get_exclude(self, request, obj=None):
        excluded = tuple(super().get_exclude(request, obj) or ())
        return excluded if request.user.has_perm(CRISIS_PERMISSION) else (*excluded, "crisis")

    def lookup_allowed(self, lookup, value, request=None):
        if lookup.startswith("crisis") and (request is None or not request.user.has_perm(CRISIS_PERMISSION)):
            return False  # ?crisis__exact=1 in the address must not filter for staff without it
        return super().lookup_allowed(lookup, value, request)

    @admin.display(description=_("conversation"))
    def conversation_link(self, obj):
        return admin_link(obj.conversation)

    @admin.display(description=_("text"))
    def short_text(self, obj):
        return obj.text[:80]

    @admin.display(description=_("total ms"))
    def latency(self, obj):
        return (obj.telemetry or {}).get("total_ms", "-")


@admin.register(Speaker)
class SpeakerAdmin(AuditedModelAdmin):
    list_display = ("id", "user_link", "name", "reference_seconds", "consent", "created_at")
    list_select_related = ("user",)
    list_filter = ("consent", "created_at")
    search_fields = ("=user__username", "name")
    raw_id_fields = ("user",)
    readonly_fields = ("consent_at", "embedding", "reference_player", "created_at")

    @admin.display(description=_("user"), ordering="user__username")
    def user_link(self, obj):
        return admin_link(obj.user, obj.user.get_username())

    @admin.display(description=_("reference clip"))
    def reference_player(self, obj):
        return audio_player(obj.reference)


@admin.register(CareResource)
class CareResourceAdmin(AuditedModelAdmin):
    """The helplines shown with the safe answer. A language with active rows here uses them
    instead of the defaults (README "Crisis safety"): set your local lines."""

    list_display = ("name", "contact", "note", "language", "order", "active")
    list_editable = ("order", "active")
    list_filter = ("language", "active")
    search_fields = ("name", "contact")
