from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from emotune.models import JobRow

EMOTIONS = ("angry", "disgust", "fear", "happy", "sad", "surprise", "neutral")


class Emotion(models.TextChoices):
    ANGRY = "angry", _("Angry")
    DISGUST = "disgust", _("Disgust")
    FEAR = "fear", _("Fear")
    HAPPY = "happy", _("Happy")
    SAD = "sad", _("Sad")
    SURPRISE = "surprise", _("Surprise")
    NEUTRAL = "neutral", _("Neutral")


class EmotionReading(JobRow):
    """One photo, snapshot or video read for its emotion."""
    holds_media = True  # its files are the owner's: served, purged and kept (emotune.media.media_models)

    job_type = "emotion.read"
    job_handler = "emotion.jobs.reading_run"
    job_queue = "gpu"

    class Source(models.TextChoices):
        IMAGE = "image", _("Photo")
        VIDEO = "video", _("Video")
        WEBCAM = "webcam", _("Webcam snapshot")

    source = models.CharField(max_length=8, choices=Source.choices)
    media = models.FileField(upload_to="readings/%Y/%m/", max_length=255)
    # Outcome: emotion is blank when no face was found or the evidence was too thin.
    emotion = models.CharField(max_length=16, choices=Emotion.choices, blank=True)
    uncertain = models.BooleanField(default=False)
    face_found = models.BooleanField(null=True)
    confidence = models.FloatField(null=True, blank=True)
    scores = models.JSONField(default=dict, blank=True)
    face_box = models.JSONField(null=True, blank=True)
    timeline = models.JSONField(default=list, blank=True)
    frames_analysed = models.PositiveIntegerField(default=0)
    frames_without_face = models.PositiveIntegerField(default=0)
    media_seconds = models.FloatField(null=True, blank=True)
    engine = models.CharField(max_length=32, blank=True)
    model_name = models.CharField(max_length=200, blank=True)
    timings = models.JSONField(default=dict, blank=True)
    # What the person says they feel (emotion.services.reading_correct): a label for the next
    # calibration fit, and the emotion music is made from. Blank until they say.
    corrected_emotion = models.CharField(max_length=16, choices=Emotion.choices, blank=True)
    corrected_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["user", "-created_at"], name="reading_history"),
            models.Index(fields=["user", "emotion", "-created_at"], name="reading_by_emotion"),
        ]

    def __str__(self) -> str:
        return f"Reading #{self.pk} ({self.emotion or self.status})"

    @property
    def felt(self) -> str:
        """The emotion to act on: the person's own word when they gave one, else the reading's."""
        return self.corrected_emotion or self.emotion

    def likeliest(self, n: int = 2) -> list[tuple[str, float]]:
        """The ``n`` likeliest emotions with their probability, best first (none without scores)."""
        ranked = sorted(((e, float(p)) for e, p in self.scores.items() if e in EMOTIONS), key=lambda x: -x[1])
        return ranked[:n]
