from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.utils.html import format_html_join
from django.utils.translation import gettext_lazy as _

from accounts.models import ApiToken, Preferences, User
from accounts.services import token_revoke, user_deactivate
from emotion.models import EmotionReading
from music.models import Feedback, MusicGeneration
from ops.admin import AuditedAdmin, AuditedModelAdmin, changelist_link
from ops.models import SystemLog
from ops.services import client_ip, user_media_purge
from voicechat.models import Conversation, Speaker


class PreferencesInline(admin.StackedInline):
    model = Preferences
    can_delete = False
    raw_id_fields = ("active_speaker",)


# The rows a user owns, linked from the user's list row and page (no counts: one query per row would not scale).
RELATED = (
    (EmotionReading, _("readings")),
    (MusicGeneration, _("generations")),
    (Conversation, _("conversations")),
    (Speaker, _("voices")),
    (Feedback, _("feedback")),
    (SystemLog, _("logs")),
)


@admin.register(User)
class UserAdmin(AuditedAdmin, BaseUserAdmin):
    inlines = [PreferencesInline]
    list_display = ("username", "email", "is_active", "is_staff", "date_joined", "last_login", "related")
    list_filter = ("is_active", "is_staff", "is_superuser", "date_joined")
    date_hierarchy = "date_joined"
    readonly_fields = ("last_login", "date_joined", "related")
    actions = ("deactivate_users", "purge_user_media")

    def get_fieldsets(self, request, obj=None):
        fieldsets = super().get_fieldsets(request, obj)
        if obj is None:
            return fieldsets
        return [*fieldsets, (_("Activity"), {"fields": ("related",)})]

    @admin.display(description=_("activity"))
    def related(self, obj):
        return format_html_join(
            " · ", "{}", ((changelist_link(model, label, user__id__exact=obj.pk),) for model, label in RELATED)
        )

    @admin.action(description=_("Deactivate selected users (signs them out, closes their sockets)"))
    def deactivate_users(self, request, queryset):
        count = 0
        for user in queryset.filter(is_active=True).exclude(pk=request.user.pk):
            user_deactivate(user=user, by=request.user)
            count += 1
        if queryset.filter(pk=request.user.pk).exists():
            self.message_user(request, _("You cannot deactivate yourself."), messages.WARNING)
        self.message_user(request, _("%(count)d user(s) deactivated.") % {"count": count}, messages.SUCCESS)

    @admin.action(description=_("Delete selected users' media (readings, music, voices)"))
    def purge_user_media(self, request, queryset):
        rows = files = 0
        for user in queryset:
            totals = user_media_purge(user=user, by=request.user, ip=client_ip(request))
            rows, files = rows + totals["rows"], files + totals["files"]
        self.message_user(
            request, _("Deleted %(rows)d row(s) and %(files)d file(s).") % {"rows": rows, "files": files},
            messages.SUCCESS,
        )


@admin.register(Preferences)
class PreferencesAdmin(AuditedModelAdmin):
    list_display = ("user", "bpm_min", "bpm_max", "ui_language", "updated_at")
    list_select_related = ("user",)
    list_filter = ("ui_language",)
    search_fields = ("=user__username",)
    raw_id_fields = ("user", "active_speaker")


@admin.register(ApiToken)
class ApiTokenAdmin(AuditedModelAdmin):
    """Personal API tokens: who has which, when each was last used; staff can revoke, never read a secret."""

    list_display = ("name", "user", "prefix", "created_at", "last_used_at", "revoked_at")
    list_select_related = ("user",)
    list_filter = (("revoked_at", admin.EmptyFieldListFilter), "created_at")
    search_fields = ("=user__username", "prefix", "name")
    date_hierarchy = "created_at"
    readonly_fields = ("user", "name", "prefix", "created_at", "last_used_at", "revoked_at")
    exclude = ("digest",)
    actions = ("revoke_tokens",)

    def has_add_permission(self, request):
        return False  # a token is made by its owner, on the profile page, where its secret is shown once

    @admin.action(description=_("Revoke selected tokens"))
    def revoke_tokens(self, request, queryset):
        live = list(queryset.filter(revoked_at__isnull=True))
        for token in live:
            token_revoke(token=token, ip=client_ip(request))
        self.message_user(request, _("%(count)d token(s) revoked.") % {"count": len(live)}, messages.SUCCESS)
