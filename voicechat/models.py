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
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["conversation", "created_at"], name="message_order")]

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
