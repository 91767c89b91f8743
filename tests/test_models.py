"""Every model round-trips through the configured database (MariaDB in `make test`)."""

import pytest
from django.db import connection

from accounts.models import Preferences
from emotion.models import EmotionReading
from music.models import Feedback, MusicGeneration
from ops.models import Event, SystemLog
from voicechat.models import Conversation, Message, Speaker

EMOJI = "心情不错 🎵😊"


@pytest.mark.django_db
def test_runs_on_mariadb_with_utf8mb4():
    assert connection.vendor == "mysql", "make test runs the suite against MariaDB"
    with connection.cursor() as cursor:
        cursor.execute("SELECT @@character_set_database")
        assert cursor.fetchone()[0] == "utf8mb4"


@pytest.mark.django_db
def test_all_models_round_trip_with_emoji(user):
    prefs = Preferences.objects.get(user=user)
    prefs.favourite_genres = ["lo-fi 🎧", "古典"]
    prefs.negative_prompt = EMOJI
    prefs.save()

    reading = EmotionReading.objects.create(
        user=user, source="image", media="readings/x.jpg", emotion="happy", confidence=0.9,
        scores={"happy": 0.9, "sad": 0.1}, timeline=[{"start": 0, "end": 1, "emotion": "happy"}], error=EMOJI,
    )
    generation = MusicGeneration.objects.create(
        user=user, reading=reading, description=EMOJI, prompt_final="calm piano", params={"duration": 10}
    )
    feedback = Feedback.objects.create(generation=generation, user=user, stars=5, liked=True, comment=EMOJI)
    conversation = Conversation.objects.create(user=user, title=EMOJI)
    message = Message.objects.create(conversation=conversation, role="user", text=EMOJI, telemetry={"total_ms": 812})
    speaker = Speaker.objects.create(user=user, name="我的声音 🎤", reference="speakers/a.wav", transcript=EMOJI, consent=True)
    log = SystemLog.objects.create(user=user, action="test", message=EMOJI, detail={"k": EMOJI}, ip="::1")
    event = Event.objects.create(kind="test", user=user, data={"emoji": EMOJI})

    prefs.refresh_from_db()
    assert prefs.favourite_genres == ["lo-fi 🎧", "古典"] and prefs.negative_prompt == EMOJI
    for obj, field in [
        (reading, "error"), (generation, "description"), (feedback, "comment"), (conversation, "title"),
        (message, "text"), (speaker, "transcript"), (log, "message"),
    ]:
        fresh = type(obj).objects.get(pk=obj.pk)
        assert getattr(fresh, field) == EMOJI
    assert EmotionReading.objects.get(pk=reading.pk).scores == {"happy": 0.9, "sad": 0.1}
    assert Event.objects.get(pk=event.pk).data == {"emoji": EMOJI}
    assert Speaker.objects.get(pk=speaker.pk).name == "我的声音 🎤"
    assert Message.objects.get(pk=message.pk).telemetry == {"total_ms": 812}
