"""The voice page in Debian's Chromium with a fake microphone playing real speech.

Production topology: daphne + Redis channel layer + a gpu rqworker + the
loopback LLM. The page must show the live transcript, the streamed answer,
and play the synthesised audio.
"""

from __future__ import annotations

import time
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import pytest
from django.conf import settings

from emotune.audio import pcm16_to_float, resample, wav_bytes
from tests.helpers import session_cookie
from tests.voicechat.speech import said_go_forward
from voicechat.models import Conversation, Speaker

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
GOFORWARD = Path("/usr/share/pocketsphinx/test/data/goforward.raw")
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--autoplay-policy=no-user-gesture-required", "--use-fake-ui-for-media-stream", "--use-fake-device-for-media-stream",
]
SHOTS = Path(settings.DATA_DIR) / "screenshots"


def fake_mic_wav(path: Path) -> Path:
    """1 s silence, "go forward ten meters", then 10 s silence, at 44.1 kHz (Chromium loops the file)."""
    speech = pcm16_to_float(GOFORWARD.read_bytes())
    clip = np.concatenate([np.zeros(16000), speech, np.zeros(160000)]).astype(np.float32)
    path.write_bytes(wav_bytes(resample(clip, 16000, 44100), rate=44100))
    return path



@contextmanager
def signed_in_browser(user, port: int, *, mic: Path | None = None, width: int = 1200, height: int = 800):
    """A Chromium context signed in as ``user`` on the test daphne; ``mic``: a WAV the fake microphone plays."""
    from playwright.sync_api import sync_playwright

    args = [*CHROMIUM_ARGS, f"--use-file-for-fake-audio-capture={mic}"] if mic else CHROMIUM_ARGS
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=args)
        context = browser.new_context(viewport={"width": width, "height": height})
        context.add_cookies([{"name": settings.SESSION_COOKIE_NAME, "value": session_cookie(user),
                              "url": f"http://127.0.0.1:{port}"}])
        try:
            yield context
        finally:
            browser.close()

def test_speaking_into_the_page_shows_transcript_answer_and_plays(user, fake_llm, daphne_server, gpu_worker, tmp_path, monkeypatch):
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")  # undone after the test: check --deploy refuses it
    fake_llm.script = [{"tokens": ["Going", " forward", " is", " brave.", " Take", " small", " steps."], "interval": 0.02}]
    conversation = Conversation.objects.create(user=user, title="Morning")
    base = f"http://127.0.0.1:{daphne_server}"
    SHOTS.mkdir(parents=True, exist_ok=True)
    with signed_in_browser(user, daphne_server, mic=fake_mic_wav(tmp_path / "speech.wav"), height=900) as context:
        page = context.new_page()
        page.goto(f"{base}/voice/c/{conversation.pk}/")
        page.wait_for_selector('#state[data-state="idle"]', timeout=15000)
        page.click("#mic")
        page.wait_for_selector(".bubble.user", timeout=40000)
        assert said_go_forward(page.inner_text(".bubble.user"))
        page.wait_for_function("document.querySelector('.bubble.assistant')?.innerText.includes('Take small steps.')",
                               timeout=20000)
        page.wait_for_function("window.voiceDebug.audioChunks > 0", timeout=30000)
        page.wait_for_function("window.voiceDebug.level > 0.02", timeout=10000)  # the sphere follows real audio
        page.screenshot(path=str(SHOTS / "voice_chat.png"))
        debug = page.evaluate("window.voiceDebug")
        assert debug["audioBytes"] > 22050
        assert debug["events"].index("asr.partial") < debug["events"].index("asr.final")
    # Closing the page mid-turn: the server saves the answer as its socket closes, a moment later.
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline and not conversation.messages.filter(role="assistant").exclude(text="").exists():
        time.sleep(0.2)
    messages = list(conversation.messages.values_list("role", "text"))
    assert messages[0][0] == "user" and said_go_forward(messages[0][1])
    assert messages[1] == ("assistant", "Going forward is brave. Take small steps.")


def test_speakers_page_screenshot(user, daphne_server, tmp_path, monkeypatch):
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")  # undone after the test: check --deploy refuses it
    base = f"http://127.0.0.1:{daphne_server}"
    clip = wav_bytes(np.concatenate([pcm16_to_float(GOFORWARD.read_bytes()), np.zeros(8000, dtype=np.float32)]))
    (tmp_path / "clip.wav").write_bytes(clip)
    SHOTS.mkdir(parents=True, exist_ok=True)
    with signed_in_browser(user, daphne_server) as context:
        page = context.new_page()
        page.goto(f"{base}/voice/speakers/")
        page.fill("#id_name", "My voice")
        page.set_input_files("#id_reference", str(tmp_path / "clip.wav"))
        page.check("#id_consent")
        page.click("#speaker-new button[type=submit]")
        page.wait_for_selector(".speakers-list .pill.succeeded", timeout=30000)
        page.screenshot(path=str(SHOTS / "voice_speakers.png"))
    speaker = Speaker.objects.get(user=user)
    assert said_go_forward(speaker.transcript)  # filled in by ASR


def test_recording_a_voice_in_the_page_makes_a_speaker(user, daphne_server, gpu_worker, tmp_path, monkeypatch):
    """The Record button captures the (fake) microphone with MediaRecorder and the form accepts the clip."""
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")  # undone after the test: check --deploy refuses it
    base = f"http://127.0.0.1:{daphne_server}"
    with signed_in_browser(user, daphne_server, mic=fake_mic_wav(tmp_path / "speech.wav")) as context:
        page = context.new_page()
        page.goto(f"{base}/voice/speakers/")
        idle_label = page.inner_text("#record")
        page.click("#record")
        page.wait_for_selector('#record[aria-pressed="true"]')
        assert page.inner_text("#record") != idle_label  # now says Stop
        page.wait_for_timeout(5000)  # 1 s of silence, "go forward ten meters", silence
        page.click("#record")
        page.wait_for_function("document.getElementById('id_reference').files.length === 1", timeout=10000)
        assert page.inner_text("#record") == idle_label and "Recorded" in page.inner_text("#record-state")
        page.fill("#id_name", "Recorded voice")
        page.check("#id_consent")
        page.click("#speaker-new button[type=submit]")
        page.wait_for_selector(".speakers-list .pill.succeeded", timeout=30000)
    speaker = Speaker.objects.get(user=user)
    assert speaker.name == "Recorded voice" and 4.0 <= speaker.reference_seconds <= 6.5
    assert "forward" in speaker.transcript  # the recording held the speech


def test_a_voice_page_over_the_socket_cap_says_why(user, daphne_server, monkeypatch):
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")  # undone after the test: check --deploy refuses it
    conversation = Conversation.objects.create(user=user, title="Tabs")
    base = f"http://127.0.0.1:{daphne_server}"
    with signed_in_browser(user, daphne_server) as context:
        pages = []
        for _ in range(settings.VOICE_MAX_SOCKETS_PER_USER):
            page = context.new_page()
            page.goto(f"{base}/voice/c/{conversation.pk}/")
            page.wait_for_selector('#state[data-state="idle"]', timeout=15000)
            pages.append(page)
        extra = context.new_page()
        extra.goto(f"{base}/voice/c/{conversation.pk}/")
        extra.wait_for_selector('#state[data-state="closed"]', timeout=15000)
        assert f"You already have {settings.VOICE_MAX_SOCKETS_PER_USER} voice chats open" in extra.inner_text("#state")
        pages.pop().close()  # closing a tab frees its place
        extra.wait_for_timeout(500)
        extra.reload()
        extra.wait_for_selector('#state[data-state="idle"]', timeout=15000)
