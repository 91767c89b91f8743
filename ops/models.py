from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from ops.search import search_text_for


class SystemLog(models.Model):
    """Who did what, when, from where, and how it went."""

    class Status(models.TextChoices):
        SUCCESS = "success", _("Success")
        FAILED = "failed", _("Failed")  # one word for every failure (sign-ins wrote "failure" before migration 0004)
        CANCELLED = "cancelled", _("Cancelled")
        INFO = "info", _("Info")

    created_at = models.DateTimeField(default=timezone.now)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    action = models.CharField(max_length=64)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.SUCCESS)
    message = models.CharField(max_length=500, blank=True)
    detail = models.JSONField(default=dict, blank=True)
    ip = models.GenericIPAddressField(null=True, blank=True)
    # Machine-written from message, action and user on every save (ops/search.py); on MySQL/MariaDB
    # it carries the FULLTEXT index the admin's keyword search uses (migration 0003).
    search_text = models.TextField(blank=True, default="", editable=False)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["-created_at", "-id"], name="syslog_recent"),
            models.Index(fields=["action", "-created_at"], name="syslog_action"),
            models.Index(fields=["status", "-created_at"], name="syslog_status"),
            # action + status together is the commonest ops question ("failed sign-ins"); without this
            # MariaDB walks one index and filters the other: 5 s on a million rows.
            models.Index(fields=["action", "status", "-created_at"], name="syslog_action_status"),
            models.Index(fields=["user", "-created_at"], name="syslog_user"),
        ]

    def __str__(self) -> str:
        return f"{self.created_at:%Y-%m-%d %H:%M:%S} {self.action} {self.status}"

    def save(self, *args, **kwargs):
        self.search_text = self.build_search_text()
        update_fields = kwargs.get("update_fields")
        if update_fields is not None and "search_text" not in update_fields:
            kwargs["update_fields"] = [*update_fields, "search_text"]
        super().save(*args, **kwargs)

    def build_search_text(self) -> str:
        return search_text_for(self.message, self.action, user_id=self.user_id)


class Event(models.Model):
    """A typed, machine-written fact: a rule score, a job's timing, a turn's latency."""

    created_at = models.DateTimeField(default=timezone.now)
    kind = models.CharField(max_length=64)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    subject_type = models.CharField(max_length=64, blank=True)
    subject_id = models.BigIntegerField(null=True, blank=True)
    data = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["kind", "-created_at"], name="event_kind"),
            models.Index(fields=["subject_type", "subject_id"], name="event_subject"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.subject_type}#{self.subject_id}"
