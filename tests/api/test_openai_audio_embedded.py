"""The OpenAI-compatible speech endpoint in the embedded mode: no Redis, no worker; the server
process synthesises the sentences itself, through the same job function, one at a time."""

from __future__ import annotations

import numpy as np
import openai
import pytest

from tests.api.conftest import daphne_server, stop
from tests.api.test_openai_audio import client_for, wav_samples, words_of

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(scope="module")
def server(django_db_setup, django_db_blocker, tmp_path_factory):
    # REDIS_URL empty: in-memory channel layer, jobs in the server process, limits counted in its memory.
    proc, srv = daphne_server(tmp_path_factory, env={"REDIS_URL": "", "VOICE_TTS": "piper", "RATE_TTS": "4"})
    yield srv
    stop(proc)


def test_speech_runs_in_the_server_process_and_counts_against_the_spoken_reply_limit(make_user, token_for, server):
    user = make_user("alice")
    client = client_for(server, token_for(user))
    with client.audio.speech.with_streaming_response.create(
            model="tts-1", voice="auto", input="Breathe in slowly. Now breathe out.", response_format="wav") as r:
        assert r.headers["x-voice"] == "piper:en_US-joe-medium"
        wav = r.read()
    samples, rate = wav_samples(wav)
    assert len(samples) / rate > 1.5 and np.abs(samples).max() > 0.1
    heard = client.audio.transcriptions.create(model="whisper-1", file=("s.wav", wav), language="en")
    assert {"breathe", "slowly"} <= words_of(heard.text), heard.text
    # Two sentences used, two left of RATE_TTS=4: three more sentences are refused, nothing spoken.
    with pytest.raises(openai.RateLimitError) as caught:
        client.audio.speech.create(model="tts-1", voice="auto", input="This is the first. This is the second. This is the third.", response_format="pcm")
    assert caught.value.response.headers["retry-after"] and "sentences an hour" in caught.value.message
