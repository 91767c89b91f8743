"""Objects reached by id are scoped to their owner: another user gets a 404."""

import pytest
from django.core.files.base import ContentFile
from django.http import Http404

from emotion.models import EmotionReading
from emotion.selectors import reading_get
from emotune.jobs import JobError
from music.models import MusicGeneration
from music.selectors import generation_get
from voicechat.models import MAX_SPEAKERS_PER_USER, Conversation, Speaker
from voicechat.selectors import conversation_for_socket, conversation_get, speaker_get
from voicechat.services import SpeakerLimitReached, speaker_create, speaker_delete


@pytest.mark.django_db
def test_selectors_hide_other_users_objects(user, other_user):
    reading = EmotionReading.objects.create(user=user, source="image", media="readings/a.jpg")
    generation = MusicGeneration.objects.create(user=user)
    conversation = Conversation.objects.create(user=user)
    speaker = Speaker.objects.create(user=user, name="v", reference="speakers/a.wav", transcript="hi")
    for getter, obj in [(reading_get, reading), (generation_get, generation), (conversation_get, conversation), (speaker_get, speaker)]:
        assert getter(user=user, pk=obj.pk) == obj
        with pytest.raises(Http404):
            getter(user=other_user, pk=obj.pk)
    assert conversation_for_socket(user_id=other_user.pk, pk=conversation.pk) is None


def _clip():
    return ContentFile(b"RIFF....WAVE", name="voice.wav")


@pytest.mark.django_db
def test_at_most_three_speakers_per_user(user, other_user):
    made = [
        speaker_create(user=user, name=f"voice {i}", reference=_clip(), reference_seconds=5, transcript="hello", consent=True)
        for i in range(MAX_SPEAKERS_PER_USER)
    ]
    with pytest.raises(SpeakerLimitReached):
        speaker_create(user=user, name="one too many", reference=_clip(), reference_seconds=5, transcript="x", consent=True)
    assert Speaker.objects.filter(user=user).count() == MAX_SPEAKERS_PER_USER
    # The first voice became the active one; the limit is per user.
    user.preferences.refresh_from_db()
    assert user.preferences.active_speaker == made[0]
    speaker_create(user=other_user, name="voice 0", reference=_clip(), reference_seconds=5, transcript="x", consent=True)
    # Deleting one frees a place, and its file.
    path = made[1].reference.path
    speaker_delete(speaker=made[1])
    import os

    assert not os.path.exists(path)
    speaker_create(user=user, name="voice 3", reference=_clip(), reference_seconds=5, transcript="x", consent=True)


@pytest.mark.django_db
def test_speaker_requires_consent(user):
    with pytest.raises(JobError):
        speaker_create(user=user, name="v", reference=_clip(), reference_seconds=5, transcript="x", consent=False)
    assert not Speaker.objects.filter(user=user).exists()
