from __future__ import annotations

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from emotion.models import Emotion
from emotune.models import JobRow


class MusicGeneration(JobRow):
    """A piece of music written for a user's mood."""

    job_type = "music.generate"
    job_handler = "music.jobs.generation_run"
    job_queue = "gpu"

    class PromptPath(models.TextChoices):
        LLM = "llm", _("LLM agents")
        TEMPLATE = "template", _("Template writer")
        MANUAL = "manual", _("Your own prompt")

    reading = models.ForeignKey(
        "emotion.EmotionReading", null=True, blank=True, on_delete=models.SET_NULL, related_name="generations"
    )
    emotion = models.CharField(max_length=16, choices=Emotion.choices, blank=True)
    description = models.TextField(blank=True)
    prompt_draft = models.TextField(blank=True)
    prompt_merged = models.TextField(blank=True)
    prompt_final = models.TextField(blank=True)
    prompt_path = models.CharField(max_length=16, choices=PromptPath.choices, blank=True)
    brief = models.JSONField(default=dict, blank=True)
    params = models.JSONField(default=dict, blank=True)
    engine = models.CharField(max_length=32, blank=True)
    model_name = models.CharField(max_length=200, blank=True)
    decoder = models.CharField(max_length=32, blank=True)
    audio = models.FileField(upload_to="music/%Y/%m/", max_length=255, blank=True)
    audio_preview = models.FileField(upload_to="music/%Y/%m/", max_length=255, blank=True)
    video = models.FileField(upload_to="music/%Y/%m/", max_length=255, blank=True)
    peaks = models.JSONField(default=list, blank=True)
    duration = models.FloatField(null=True, blank=True)
    sample_rate = models.PositiveIntegerField(null=True, blank=True)
    channels = models.PositiveSmallIntegerField(null=True, blank=True)
    score = models.FloatField(null=True, blank=True)
    score_parts = models.JSONField(default=dict, blank=True)
    timings = models.JSONField(default=dict, blank=True)
    # An uploaded clip that melody checkpoints follow (chroma conditioning).
    melody = models.FileField(upload_to="music/melody/%Y/%m/", max_length=255, blank=True)
    # Which agent steps fell back to the template writer, and why.
    agent_notes = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["user", "-created_at"], name="generation_history"),
            models.Index(fields=["user", "status", "-created_at"], name="generation_by_status"),
            models.Index(fields=["user", "emotion", "-created_at"], name="generation_by_emotion"),
            models.Index(fields=["engine", "-created_at"], name="generation_by_engine"),
        ]

    def __str__(self) -> str:
        return f"Generation #{self.pk} ({self.status})"

    @property
    def is_offline(self) -> bool:
        return self.engine == "offline"


class Feedback(models.Model):
    """A user's rating of a generation: stars and/or like/dislike, at most one per user."""

    generation = models.ForeignKey(MusicGeneration, on_delete=models.CASCADE, related_name="feedback")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="feedback")
    stars = models.PositiveSmallIntegerField(
        null=True, blank=True, validators=[MinValueValidator(1), MaxValueValidator(5)]
    )
    liked = models.BooleanField(null=True, blank=True)
    comment = models.CharField(max_length=1000, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name_plural = "feedback"
        constraints = [
            models.UniqueConstraint(fields=["generation", "user"], name="feedback_once_per_user"),
            models.CheckConstraint(
                condition=models.Q(stars__isnull=True) | models.Q(stars__gte=1, stars__lte=5),
                name="feedback_stars_range",
            ),
        ]

    def __str__(self) -> str:
        return f"Feedback on #{self.generation_id}: {self.stars}★ {self.liked}"
