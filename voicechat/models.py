from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

MAX_SPEAKERS_PER_USER = 3


class Conversation(models.Model):
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="conversations")
    title = models.CharField(max_length=120, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)
    # Since when the conversation is in careful mode: a crisis was recognised in it (the
    # companion's prompt says so for every later turn; voicechat.care).
    careful_since = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-updated_at", "-id"]
        indexes = [models.Index(fields=["user", "-updated_at"], name="conversation_recent")]

    def __str__(self) -> str:
        return self.title or f"Conversation #{self.pk}"


class Message(models.Model):
    class Role(models.TextChoices):
        USER = "user", _("You")
        ASSISTANT = "assistant", _("Companion")

    conversation = models.ForeignKey(Conversation, on_delete=models.CASCADE, related_name="messages")
    role = models.CharField(max_length=16, choices=Role.choices)
    text = models.TextField()
    interrupted = models.BooleanField(default=False)
    # Per-turn latency (ms): asr_final, llm_first_token, tts_first_audio, total.
    telemetry = models.JSONField(default=dict, blank=True)
    # Language of the text (ISO 639-1, e.g. "zh", "en"): detected by ASR for a spoken user
    # turn, the answer language for an assistant turn; blank when unknown.
    language = models.CharField(max_length=8, blank=True)
    # Which model produced the text: the recogniser for a spoken user turn, the LLM for an answer.
    model = models.CharField(max_length=120, blank=True)
    # Which TTS engine and voice spoke an answer ("piper:en_US-joe-medium", "espeak:cmn", ...).
    voice = models.CharField(max_length=120, blank=True)
    # A user message recognised as a crisis (suicidal thoughts, a plan, self-harm), or an answer
    # the answer screen stopped; the safe answer replaced the LLM's. Seen in the admin only by
    # staff with the view_crisis permission.
    crisis = models.BooleanField(default=False)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [
            models.Index(fields=["conversation", "created_at"], name="message_order"),
            models.Index(fields=["crisis", "-created_at"], name="message_crisis", condition=models.Q(crisis=True)),
        ]
        permissions = [("view_crisis", "Can see which messages were recognised as a crisis")]

    def __str__(self) -> str:
        return f"{self.role}: {self.text[:40]}"


class Speaker(models.Model):
    """A voice cloned from a short reference clip (at most three per user)."""
    holds_media = True  # its files are the owner's: served, purged and kept (emotune.media.media_models)

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="speakers")
    name = models.CharField(max_length=60)
    reference = models.FileField(upload_to="speakers/%Y/%m/", max_length=255)
    reference_seconds = models.FloatField(default=0)
    transcript = models.TextField()
    # Prompt features computed once by the TTS engine, reused by every turn.
    embedding = models.FileField(upload_to="speakers/cache/", max_length=255, blank=True)
    consent = models.BooleanField(default=False)
    consent_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [models.UniqueConstraint(fields=["user", "name"], name="speaker_name_per_user")]

    def __str__(self) -> str:
        return self.name


class CareResource(models.Model):
    """A helpline shown with the safe answer (voicechat.care), per language, set by the operator.
    When a language has active rows they replace the defaults (README "Crisis safety")."""

    class Language(models.TextChoices):
        EN = "en", "English"
        ZH = "zh", "中文"

    language = models.CharField(max_length=8, choices=Language.choices)
    name = models.CharField(max_length=120)
    contact = models.CharField(max_length=120, help_text=_("A number, a text line or an address, as the user should read it."))
    note = models.CharField(max_length=200, blank=True, help_text=_("Hours, cost, who answers."))
    order = models.PositiveSmallIntegerField(default=0)
    active = models.BooleanField(default=True)

    class Meta:
        ordering = ["language", "order", "id"]

    def __str__(self) -> str:
        return f"{self.name} ({self.contact})"
