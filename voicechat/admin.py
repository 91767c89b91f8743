from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from emotune.admin_kit import AuditedModelAdmin, CappedPaginator, admin_link, audio_player
from voicechat.models import Conversation, Message, Speaker


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

    @admin.display(description=_("user"), ordering="user__username")
    def user_link(self, obj):
        return admin_link(obj.user, obj.user.get_username())


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
