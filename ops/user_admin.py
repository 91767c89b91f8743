"""The User admin: a user's rows in every app, deactivation and media purge (registered by ops/admin.py)."""

from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.utils.html import format_html_join
from django.utils.translation import gettext_lazy as _

from accounts.models import Preferences, User
from accounts.services import user_deactivate
from emotion.models import EmotionReading
from emotune.admin_kit import AuditedAdmin, changelist_link
from emotune.logbook import client_ip
from music.models import Feedback, MusicGeneration
from ops.models import SystemLog
from ops.services import user_media_purge
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
