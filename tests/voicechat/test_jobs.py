"""Sentence synthesis jobs: numbered chunks to the connection's channel, cancellation
between chunks (barge-in), and the engine list for ``manage.py emotune_models``.
The CosyVoice2 path runs against UpstreamLikeCosyVoice2 (the upstream call signature)."""

from __future__ import annotations

import asyncio
import uuid

import numpy as np
import pytest
from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.core.files.base import ContentFile

from emotune.audio import wav_bytes
from tests.voicechat.test_engines import UpstreamLikeCosyVoice2
from voicechat import engines, jobs, tts
from voicechat.services import speaker_create

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def cosy(monkeypatch, settings, tmp_path, user):
    settings.MEDIA_ROOT = tmp_path
    clip = ContentFile(wav_bytes(np.zeros(16000 * 4, dtype=np.float32) + 0.01), name="ref.wav")
    speaker = speaker_create(user=user, name="Mum", reference=clip, reference_seconds=4.0, transcript="hello", consent=True)

    class SlowUpstream(UpstreamLikeCosyVoice2):
        def inference_zero_shot(self, *args, **kwargs):
            for piece in super().inference_zero_shot(*args, **kwargs):
                self.on_piece(len(self.yielded))
                self.yielded.append(piece)
                yield piece

    model = SlowUpstream()
    model.yielded, model.on_piece = [], lambda n: None
    engine = tts.CosyVoice2Synthesizer(model)
    monkeypatch.setattr(engines, "tts_engine", lambda backend=None, language=None: engine)
    return model, speaker


def drain(channel: str) -> list[dict]:
    layer = get_channel_layer()
    out = []
    while True:
        message = async_to_sync(asyncio.wait_for)(layer.receive(channel), 10)
        out.append(message)
        if message["kind"] in ("end", "error"):
            return out


def test_sentence_job_streams_numbered_chunks_in_order(cosy):
    _model, speaker = cosy
    channel = f"voicetest.{uuid.uuid4().hex}"  # a plain channel: receivable from any event loop
    outcome = jobs.tts_sentence(channel=channel, turn="t1", seq=3, text="one three sevennnn", speaker_id=speaker.pk)
    messages = drain(channel)
    assert outcome == "succeeded"
    assert [m["kind"] for m in messages][0] == "start" and messages[0]["sample_rate"] == 24000
    audio = [m for m in messages if m["kind"] == "audio"]
    assert [m["index"] for m in audio] == list(range(len(audio))) and all(m["seq"] == 3 for m in messages)
    assert all(len(m["data"]) <= jobs.CHUNK_BYTES for m in audio)
    assert sum(len(m["data"]) for m in audio) == 2 * 2400 * (3 + 5 + 8)
    assert messages[-1]["chunks"] == len(audio)


def test_cancelled_turn_stops_between_chunks_and_skips_queued_sentences(cosy):
    model, speaker = cosy
    channel = f"voicetest.{uuid.uuid4().hex}"  # a plain channel: receivable from any event loop
    model.on_piece = lambda n: jobs.turn_cancel("t2") if n == 1 else None  # barge-in during the second word
    outcome = jobs.tts_sentence(channel=channel, turn="t2", seq=0, text="aaaa bbbbbbbbbbbbbbb ccccccccccccccc", speaker_id=speaker.pk)
    messages = drain(channel)
    assert outcome == "cancelled" and messages[-1].get("cancelled")
    assert len(model.yielded) == 2  # the third word was never synthesised
    # A sentence queued behind the interrupted one never starts.
    assert jobs.tts_sentence(channel=channel, turn="t2", seq=1, text="later", speaker_id=speaker.pk) == "cancelled"


def test_engines_describe_and_warmup(settings):
    settings.VOICE_TTS = "espeak"
    rows = {row["name"]: row for row in engines.engines_describe()}
    assert set(rows["tts:espeak"]) == {"name", "kind", "active", "path", "present", "size_bytes", "note"}
    assert rows["asr:whisper"]["active"] and rows["asr:whisper"]["present"] and rows["asr:whisper"]["size_bytes"] > 1.4e8
    assert rows["asr:pocketsphinx"]["present"] and not rows["asr:pocketsphinx"]["active"]
    assert rows["vad:silero"]["present"] and rows["tts:espeak"]["active"]
    assert not rows["tts:cosyvoice2"]["present"]
    assert engines.engines_warmup() == ["asr:whisper", "vad:silero", "tts:espeak"]


def test_embedded_cancel_marks_run_out_like_the_redis_ones(settings, monkeypatch):
    """In-process cancel marks expire after CANCEL_SECONDS and are pruned: a long-lived server
    that cancels many turns does not keep every turn id forever."""
    import time

    from emotune.backends import backend
    from voicechat import jobs

    settings.JOBS_BACKEND = "inprocess"
    monkeypatch.setattr(jobs, "CANCEL_SECONDS", 0.2)
    marks: dict[str, float] = {}
    monkeypatch.setattr(backend(), "_marks", marks)
    for n in range(50):
        jobs.turn_cancel(f"old-{n}")
    assert jobs.turn_cancelled("old-0")
    time.sleep(0.25)
    assert not jobs.turn_cancelled("old-0")
    jobs.turn_cancel("new")
    assert set(marks) == {jobs.CANCEL_KEY.format(turn="new")} and jobs.turn_cancelled("new")


def test_a_failed_sentence_is_in_the_system_log_with_its_cause_and_found_by_searching_tts(cosy, staff_user):
    from django.test import Client

    from ops.models import SystemLog

    model, speaker = cosy

    def broken(n):
        raise EOFError("the stream ended early")

    model.on_piece = broken
    channel = f"voicetest.{uuid.uuid4().hex}"
    assert jobs.tts_sentence(channel=channel, turn="t9", seq=0, text="hello there", speaker_id=speaker.pk) == "failed"
    assert drain(channel)[-1] == {"type": "voice.tts", "turn": "t9", "seq": 0, "kind": "error",
                                  "message": "EOFError: the stream ended early"}
    row = SystemLog.objects.get(action="voice.tts")
    assert row.status == "failed" and "EOFError: the stream ended early" in row.message and row.user_id == speaker.user_id
    staff = Client()
    staff.force_login(staff_user)
    found = staff.get("/admin/ops/systemlog/", {"q": "tts"}).content.decode()
    assert "EOFError: the stream ended early" in found
    # One status for a failure: the filter offers "Failed" once, never "Failure".
    page = staff.get("/admin/ops/systemlog/").content.decode()
    assert "?status__exact=failed" in page and "status__exact=failure" not in page and ">Failure<" not in page
