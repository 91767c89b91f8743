from __future__ import annotations

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from emotion.models import Emotion
from emotune.models import JobRow


class MusicGeneration(JobRow):
    """A piece of music written for a user's mood."""
    holds_media = True  # its files are the owner's: served, purged and kept (emotune.media.media_models)

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


class Journey(JobRow):
    """A mood journey: sections rendered as one piece, from the listener's mood to a target."""
    holds_media = True  # its files are the owner's: served, purged and kept (emotune.media.media_models)

    job_type = "music.journey"
    job_handler = "music.jobs.journey_run"
    job_queue = "gpu"

    class Target(models.TextChoices):
        CALM = "calm", _("Calm")
        UPLIFTED = "uplifted", _("Uplifted")
        FOCUSED = "focused", _("Focused")
        SLEEP = "sleep", _("Sleep")

    reading = models.ForeignKey(
        "emotion.EmotionReading", null=True, blank=True, on_delete=models.SET_NULL, related_name="journeys"
    )
    start_emotion = models.CharField(max_length=16)
    # The mood word the person chose in the journey form ("fear" there reads "Anxious"); blank when the
    # journey started from a reading. What the pages show as the journey's start.
    start_mood = models.CharField(max_length=16, blank=True)
    target = models.CharField(max_length=16, choices=Target.choices)
    # The validated plan (music.journeys.plan_validate): start, target, total_seconds, sections.
    plan = models.JSONField(default=dict)
    plan_path = models.CharField(max_length=16, blank=True)  # "llm" or "template"
    plan_notes = models.JSONField(default=list, blank=True)
    params = models.JSONField(default=dict, blank=True)
    engine = models.CharField(max_length=32, blank=True)
    model_name = models.CharField(max_length=200, blank=True)
    audio = models.FileField(upload_to="music/journeys/%Y/%m/", max_length=255, blank=True)
    audio_preview = models.FileField(upload_to="music/journeys/%Y/%m/", max_length=255, blank=True)
    peaks = models.JSONField(default=list, blank=True)
    duration = models.FloatField(null=True, blank=True)
    sample_rate = models.PositiveIntegerField(null=True, blank=True)
    channels = models.PositiveSmallIntegerField(null=True, blank=True)
    sections_done = models.PositiveSmallIntegerField(default=0)
    # Section start times (s) in the rendered file, for the player's markers.
    markers = models.JSONField(default=list, blank=True)
    timings = models.JSONField(default=dict, blank=True)
    stars = models.PositiveSmallIntegerField(null=True, blank=True,
                                             validators=[MinValueValidator(1), MaxValueValidator(5)])
    liked = models.BooleanField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["user", "-created_at"], name="journey_history")]

    def __str__(self) -> str:
        return f"Journey #{self.pk} ({self.start_emotion} → {self.target}, {self.status})"

    @property
    def start_label(self) -> str:
        """The journey's start in the person's own words, in the active language ("Anxious", not "fear")."""
        from emotune.labels import emotion_label, mood_label

        return mood_label(self.start_mood) if self.start_mood else emotion_label(self.start_emotion)

    @property
    def sections(self) -> list[dict]:
        return list((self.plan or {}).get("sections") or [])

    @property
    def style(self) -> str:
        """The arrival's style (last section's genre and lead instrument): what the history ranks."""
        last = (self.sections or [{}])[-1]
        return " · ".join(x for x in (last.get("genre", ""), (last.get("instruments") or [""])[0]) if x)


class CheckIn(models.Model):
    """How the listener felt before or after a journey: a mood and its intensity, maybe a reading."""

    class Moment(models.TextChoices):
        BEFORE = "before", _("Before listening")
        AFTER = "after", _("After listening")

    MOODS = [
        ("happy", _("Happy")), ("calm", _("Calm")), ("neutral", _("Neutral")), ("tired", _("Tired")),
        ("sad", _("Sad")), ("fear", _("Anxious")), ("angry", _("Angry")), ("surprise", _("Surprised")),
        ("disgust", _("Disgusted")),
    ]

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="checkins")
    journey = models.ForeignKey(Journey, on_delete=models.CASCADE, related_name="checkins")
    moment = models.CharField(max_length=8, choices=Moment.choices)
    mood = models.CharField(max_length=16, choices=MOODS)
    intensity = models.PositiveSmallIntegerField(validators=[MinValueValidator(1), MaxValueValidator(5)])
    note = models.CharField(max_length=500, blank=True)
    reading = models.ForeignKey("emotion.EmotionReading", null=True, blank=True, on_delete=models.SET_NULL,
                                related_name="checkins")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["journey", "moment"], name="checkin_once_per_moment"),
            models.CheckConstraint(condition=models.Q(intensity__gte=1, intensity__lte=5), name="checkin_intensity_range"),
        ]
        indexes = [models.Index(fields=["user", "created_at"], name="checkin_history")]

    def __str__(self) -> str:
        return f"Check-in {self.moment} journey #{self.journey_id}: {self.mood} {self.intensity}/5"
