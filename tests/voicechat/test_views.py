"""Voice pages: conversations (list, create, rename, clear, delete) and speakers
(upload validated with ffmpeg, transcript by ASR, limit, rename, activate, delete)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from accounts.models import Preferences
from emotune.audio import pcm16_to_float, wav_bytes
from voicechat.models import Conversation, Message, Speaker

pytestmark = pytest.mark.django_db
GOFORWARD = Path("/usr/share/pocketsphinx/test/data/goforward.raw")


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


def speech_clip(seconds_silence: float = 0.5) -> bytes:
    """Real speech (2.8 s) with a little silence around it, as a 16 kHz WAV."""
    pad = np.zeros(int(16000 * seconds_silence), dtype=np.float32)
    return wav_bytes(np.concatenate([pad, pcm16_to_float(GOFORWARD.read_bytes()), pad]))


def upload(client, *, name="Me", data=None, transcript="go forward ten meters", consent=True, filename="clip.wav"):
    payload = {"name": name, "transcript": transcript, "reference": SimpleUploadedFile(filename, data or speech_clip())}
    if consent:
        payload["consent"] = "on"
    return client.post(reverse("voicechat:speakers"), payload)


def test_index_creates_a_first_conversation_and_shows_it(alice_client, user):
    response = alice_client.get(reverse("voicechat:index"), follow=True)
    conversation = Conversation.objects.get(user=user)
    assert response.status_code == 200
    assert f"/ws/voicechat/{conversation.pk}/" in response.content.decode()


def test_conversation_of_someone_else_is_404(alice_client, other_user):
    theirs = Conversation.objects.create(user=other_user, title="secret")
    assert alice_client.get(reverse("voicechat:conversation", args=[theirs.pk])).status_code == 404
    assert alice_client.post(reverse("voicechat:delete", args=[theirs.pk])).status_code == 404
    assert Conversation.objects.filter(pk=theirs.pk).exists()


def test_conversation_new_rename_clear_delete(alice_client, user):
    alice_client.post(reverse("voicechat:new"))
    conversation = Conversation.objects.get(user=user)
    Message.objects.create(conversation=conversation, role="user", text="hi there")
    page = alice_client.get(reverse("voicechat:conversation", args=[conversation.pk])).content.decode()
    assert "hi there" in page
    alice_client.post(reverse("voicechat:rename", args=[conversation.pk]), {"name": "Evening talk"})
    conversation.refresh_from_db()
    assert conversation.title == "Evening talk"
    alice_client.post(reverse("voicechat:clear", args=[conversation.pk]))
    assert not conversation.messages.exists()
    alice_client.post(reverse("voicechat:delete", args=[conversation.pk]))
    assert not Conversation.objects.filter(pk=conversation.pk).exists()


def test_a_title_too_long_is_refused_in_words_and_keeps_the_old_one(alice_client, user):
    conversation = Conversation.objects.create(user=user, title="Evening talk")
    page = alice_client.post(reverse("voicechat:rename", args=[conversation.pk]), {"name": "x" * 121}, follow=True)
    assert "A title can be at most 120 characters (this one has 121); nothing was changed." in page.content.decode()
    conversation.refresh_from_db()
    assert conversation.title == "Evening talk"
    alice_client.post(reverse("voicechat:rename", args=[conversation.pk]), {"name": "  "})
    conversation.refresh_from_db()
    assert conversation.title == "" and str(conversation) == f"Conversation #{conversation.pk}"  # back to its default name


def test_speaker_upload_resamples_and_activates_first(alice_client, user):
    # A 44.1 kHz stereo-ish upload is stored as 16 kHz mono WAV.
    response = upload(alice_client)
    assert response.status_code == 302
    speaker = Speaker.objects.get(user=user)
    assert 3.0 <= speaker.reference_seconds <= 4.5 and speaker.consent and speaker.consent_at
    assert speaker.reference.name.endswith(".wav")
    assert Preferences.objects.get(user=user).active_speaker_id == speaker.pk


def test_speaker_transcript_from_asr_when_left_empty(alice_client, user):
    upload(alice_client, transcript="")
    from tests.voicechat.speech import normalise_words

    assert normalise_words(Speaker.objects.get(user=user).transcript)[:2] == ["go", "forward"]


@pytest.mark.parametrize(
    "data,consent,message",
    [
        (wav_bytes(np.zeros(16000, dtype=np.float32)), True, "must last between 3 and 30 seconds"),
        (wav_bytes(np.zeros(16000 * 31, dtype=np.float32)), True, "must last between 3 and 30 seconds"),
        (b"definitely not audio" * 100, True, "could not be read as audio"),
        (None, False, "This field is required"),
    ],
)
def test_speaker_upload_is_validated(alice_client, user, data, consent, message):
    response = upload(alice_client, data=data, consent=consent)
    assert response.status_code == 400 and message in response.content.decode()
    assert not Speaker.objects.filter(user=user).exists()


def test_speaker_limit_rename_activate_delete(alice_client, user):
    for name in ("A", "B", "C"):
        assert upload(alice_client, name=name).status_code == 302
    response = upload(alice_client, name="D")
    assert response.status_code == 400 and Speaker.objects.filter(user=user).count() == 3
    b = Speaker.objects.get(user=user, name="B")
    alice_client.post(reverse("voicechat:speaker_activate", args=[b.pk]))
    assert Preferences.objects.get(user=user).active_speaker_id == b.pk
    alice_client.post(reverse("voicechat:speaker_rename", args=[b.pk]), {"name": "Bee"})
    b.refresh_from_db()
    assert b.name == "Bee"
    path = Path(b.reference.path)
    alice_client.post(reverse("voicechat:speaker_delete", args=[b.pk]))
    assert not Speaker.objects.filter(pk=b.pk).exists() and not path.exists()


def test_speaker_of_someone_else_is_404(alice_client, other_user):
    from django.test import Client

    bob = Client()
    bob.force_login(other_user)
    upload(bob, name="Theirs")
    theirs = Speaker.objects.get(user=other_user)
    assert alice_client.post(reverse("voicechat:speaker_delete", args=[theirs.pk])).status_code == 404
    assert alice_client.post(reverse("voicechat:speaker_activate", args=[theirs.pk])).status_code == 404
