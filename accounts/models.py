from __future__ import annotations

from django.contrib.auth.models import AbstractUser
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

BPM_MIN, BPM_MAX = 40, 200


class User(AbstractUser):
    """emotune's user, custom from the first migration so it can grow."""

    class Meta:
        db_table = "accounts_user"


class Preferences(models.Model):
    """A user's music taste and interface choices (one row per user)."""

    class Language(models.TextChoices):
        ENGLISH = "en", "English"
        CHINESE = "zh-hans", "简体中文"

    user = models.OneToOneField(User, on_delete=models.CASCADE, related_name="preferences")
    favourite_genres = models.JSONField(_("favourite genres"), default=list, blank=True)
    instruments = models.JSONField(_("instruments"), default=list, blank=True)
    bpm_min = models.PositiveSmallIntegerField(_("slowest tempo (BPM)"), default=60)
    bpm_max = models.PositiveSmallIntegerField(_("fastest tempo (BPM)"), default=100)
    negative_prompt = models.CharField(_("things to avoid"), max_length=300, blank=True)
    ui_language = models.CharField(_("language"), max_length=8, choices=Language.choices, default=Language.ENGLISH)
    active_speaker = models.ForeignKey(
        "voicechat.Speaker", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name_plural = "preferences"
        constraints = [
            models.CheckConstraint(condition=Q(bpm_min__lte=F("bpm_max")), name="preferences_bpm_range"),
            models.CheckConstraint(
                condition=Q(bpm_min__gte=BPM_MIN) & Q(bpm_max__lte=BPM_MAX), name="preferences_bpm_bounds"
            ),
        ]

    def __str__(self) -> str:
        return f"Preferences of {self.user}"


class ApiToken(models.Model):
    """A personal API token. Only the SHA-256 of the secret is stored; the secret is shown once.

    ``prefix`` (the secret's first characters) lets a user tell tokens apart in the list."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(_("name"), max_length=60)
    prefix = models.CharField(max_length=16)
    digest = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["user", "-created_at"], name="apitoken_list")]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    @property
    def active(self) -> bool:
        return self.revoked_at is None
