"""The `openai` Python client against a running emotune: speech synthesised by the companion's
engines on a real `gpu` worker, transcriptions heard by its recogniser processes."""

from __future__ import annotations

import struct

import numpy as np
import openai
import pytest

from accounts.models import ApiToken
from emotune.audio import audio_decode, wav_bytes
from tests.api.conftest import daphne_server, stop
from tests.helpers import start_worker
from tests.voicechat.speech import SPHINX, normalise_words, said_go_forward
from voicechat.models import Speaker

pytestmark = pytest.mark.django_db(transaction=True)

TEXT = "Go forward ten meters. Then take a slow, deep breath."


@pytest.fixture(scope="module")
def server(django_db_setup, django_db_blocker, tmp_path_factory):
    proc, srv = daphne_server(tmp_path_factory, env={"VOICE_TTS": "piper"})
    worker = start_worker("gpu", env={"VOICE_TTS": "piper"})
    yield srv
    worker.terminate()
    worker.wait(timeout=30)
    stop(proc)


def client_for(server, secret: str) -> openai.OpenAI:
    return openai.OpenAI(base_url=f"{server.url}/v1", api_key=secret, max_retries=0, timeout=120)


def wav_samples(data: bytes) -> tuple[np.ndarray, int]:
    """Samples of a streamed mono PCM16 WAV (its sizes are unknown while it streams, so the header says 'maximum')."""
    assert data[:4] == b"RIFF" and data[8:16] == b"WAVEfmt "
    channels, rate = struct.unpack("<HI", data[22:28])
    assert channels == 1 and data[36:40] == b"data"
    return np.frombuffer(data[44:], dtype="<i2").astype(np.float32) / 32768, rate


def words_of(text: str) -> set[str]:
    return set(normalise_words(text))


def test_speech_and_transcription_through_the_openai_client(make_user, token_for, server):
    user = make_user("alice")
    client = client_for(server, token_for(user))

    with client.audio.speech.with_streaming_response.create(
            model="tts-1", voice="alloy", input=TEXT, response_format="wav") as response:
        assert response.headers["content-type"] == "audio/wav"
        assert response.headers["x-voice"] == "piper:en_US-joe-medium"
        chunks = list(response.iter_bytes())
    wav = b"".join(chunks)
    samples, rate = wav_samples(wav)
    seconds = len(samples) / rate
    assert rate == 22050 and 2.0 < seconds < 10.0 and np.abs(samples).max() > 0.1  # speech, not silence
    assert len(chunks) >= 2  # streamed sentence by sentence, not as one body

    # The synthesised speech, heard back by the recogniser: the words come through.
    heard = client.audio.transcriptions.create(model="whisper-1", file=("speech.wav", wav), language="en")
    said = {"go", "forward", "meters", "then", "take", "slow", "deep", "breath"}
    assert len(said & words_of(heard.text)) >= 6, heard.text  # Piper's voice varies a little between runs

    # A real recording (LibriVox / CMU test data), without a language: Whisper picks it.
    raw = (SPHINX / "goforward.raw").read_bytes()
    recording = wav_bytes(np.frombuffer(raw, dtype="<i2"))
    verbose = client.audio.transcriptions.create(model="whisper-1", file=("goforward.wav", recording),
                                                 response_format="verbose_json")
    assert said_go_forward(verbose.text) and verbose.language == "en" and verbose.duration == pytest.approx(2.7, abs=0.5)
    text = client.audio.transcriptions.create(model="whisper-1", file=("g.wav", recording), response_format="text")
    assert said_go_forward(text)

    # MP3 and raw PCM (24 kHz, as OpenAI's) of the same words last as long as the WAV.
    mp3 = client.audio.speech.create(model="tts-1", voice="en", input=TEXT, response_format="mp3").content
    assert mp3[:2] in (b"\xff\xfb", b"\xff\xf3", b"\xff\xf2") or mp3[:3] == b"ID3"
    assert len(audio_decode(mp3)) / 16000 == pytest.approx(seconds, abs=0.6)
    pcm = client.audio.speech.create(model="tts-1", voice="auto", input=TEXT, response_format="pcm").content
    assert len(pcm) % 2 == 0 and len(pcm) / 2 / 24000 == pytest.approx(seconds, abs=0.3)


def test_speech_speaks_in_one_of_the_users_voices(make_user, token_for, server, settings):
    """A speaker of the user is accepted by name; where cloning is off, the built-in engine speaks and says so."""
    from django.core.files.base import ContentFile

    from tests.hostile import tone_wav

    user = make_user("bob")
    speaker = Speaker(user=user, name="Calm", transcript="hello", reference_seconds=4, consent=True)
    speaker.reference.save("calm.wav", ContentFile(tone_wav()), save=True)
    client = client_for(server, token_for(user))
    response = client.audio.speech.create(model="tts-1", voice="Calm", input="Hello there.", response_format="wav")
    assert response.response.headers["x-voice"] == "piper:en_US-joe-medium" and len(response.content) > 10_000
    assert client.audio.speech.create(model="tts-1", voice=f"speaker:{speaker.pk}", input="Hi there.",
                                      response_format="pcm").content


def test_bad_requests_get_clear_errors(make_user, token_for, server):
    user, other = make_user("carol"), make_user("dave")
    mine = Speaker.objects.create(user=other, name="Theirs", reference="speakers/x.wav", transcript="x")
    client = client_for(server, token_for(user))
    cases = [
        (dict(voice="nobody", input="Hi."), "voice", "Unknown voice"),
        (dict(voice=f"speaker:{mine.pk}", input="Hi."), "voice", "Unknown voice"),  # another user's voice
        (dict(voice="Theirs", input="Hi."), "voice", "Unknown voice"),
        (dict(voice="alloy", input=""), "input", ""),
        (dict(voice="alloy", input="x" * 5000), "input", ""),
        (dict(voice="alloy", input="Hi.", response_format="opus"), "response_format", ""),
        (dict(voice="alloy", input="Hi.", speed=2.0), "speed", ""),
        (dict(voice="alloy", input="...!"), "input", "nothing to say"),
    ]
    for kwargs, field, words in cases:
        with pytest.raises(openai.BadRequestError) as caught:
            client.audio.speech.create(model="tts-1", **kwargs)
        error = caught.value.body["error"] if "error" in caught.value.body else caught.value.body
        assert field in error["fields"] and words in error["message"], (kwargs, error)
    for name, data in [("notes.txt", b"hello"), ("speech.wav", b"RIFF not really"), ("empty.wav", b"")]:
        with pytest.raises(openai.BadRequestError) as caught:
            client.audio.transcriptions.create(model="whisper-1", file=(name, data))
        assert "file" in caught.value.body["fields"], caught.value.body
    with pytest.raises(openai.BadRequestError):
        client.audio.transcriptions.create(model="whisper-1", file=("a.wav", wav_bytes(np.zeros(16000, "float32"))),
                                           language="english")


def test_tokens_decide_who_may_speak(make_user, token_for, server):
    user = make_user("erin")
    secret = token_for(user)
    with pytest.raises(openai.AuthenticationError):
        client_for(server, "emt_not-a-token-0000000000000000000000000").audio.speech.create(
            model="tts-1", voice="alloy", input="Hi.")
    token = ApiToken.objects.get(user=user)
    from accounts.services import token_revoke

    token_revoke(token=token)
    with pytest.raises(openai.AuthenticationError):
        client_for(server, secret).audio.transcriptions.create(model="whisper-1", file=("a.wav", b"x"))


def test_models_voices_and_a_language_for_every_transcription(make_user, token_for, server):
    user = make_user("frank")
    client = client_for(server, token_for(user))
    ids = {m.id for m in client.models.list()}
    assert {"tts-1", "whisper-1"} <= ids
    assert client.models.retrieve("whisper-1").owned_by == "emotune"
    with pytest.raises(openai.NotFoundError):
        client.models.retrieve("gpt-nothing")

    speaker = Speaker.objects.create(user=user, name="Mum", transcript="hello", consent=True)
    voices = client.get("/audio/voices", cast_to=object)
    assert {"id": f"speaker:{speaker.pk}", "name": "Mum", "kind": "yours", "active": False} in voices["data"]
    assert {v["id"] for v in voices["data"] if v["kind"] == "builtin"} == {"auto", "en", "zh"}

    # Silence: nothing heard, but still a language (OpenAI clients read it as a string).
    silent = client.audio.transcriptions.create(model="whisper-1", file=("quiet.wav", wav_bytes(np.zeros(16000, "float32"))),
                                                response_format="verbose_json")
    assert silent.text.strip() == "" and silent.language == "en"

    # Without a key: 401 with the API's JSON error, never a CSRF page.
    import json
    import urllib.error
    import urllib.request

    for request in (urllib.request.Request(f"{server.url}/v1/audio/speech", method="POST",
                                           data=json.dumps({"model": "tts-1", "input": "Hi.", "voice": "alloy"}).encode(),
                                           headers={"Content-Type": "application/json"}),
                    urllib.request.Request(f"{server.url}/v1/models")):
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(request, timeout=30)
        assert refused.value.code == 401 and json.loads(refused.value.read())["error"]["code"] == "unauthorized"
