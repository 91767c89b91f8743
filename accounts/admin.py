"""Preferences and API tokens. The User admin, which links a user's rows in every app, is the
ops panel's (ops/user_admin.py)."""

from django.contrib import admin, messages
from django.utils.translation import gettext_lazy as _

from accounts.models import ApiToken, Preferences
from accounts.services import token_revoke
from emotune.admin_kit import AuditedModelAdmin
from emotune.logbook import client_ip


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
