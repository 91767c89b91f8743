"""Every page a reader sees, in headless Chromium at phone width (390 px) and on a desktop (1280 px).

On the phone no page may scroll sideways, the main menu starts collapsed, and on the voice page the
Talk button and the text input are on the first screen. On the desktop the menu is shown as it is.
Screenshots land in .data/screenshots/phone/; the figures measured in .data/screenshots/phone/layout.json.
"""

from __future__ import annotations

import io
import json

import numpy as np
import pytest
from django.conf import settings
from django.core.files.base import ContentFile

from tests.browser import CHROMIUM_FLAGS, LiveBrowserTestCase
from tests.helpers import ROOT, session_cookie

SHOTS = ROOT / ".data" / "screenshots" / "phone"
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}
LANGUAGES = ("en", "zh-hans")

# What the page says about itself: its width, the menu's, and where the voice page's controls are.
MEASURE = """(width) => {
  const doc = document.documentElement, nav = document.querySelector('.mainnav');
  const box = (el) => { if (!el) return null; const r = el.getBoundingClientRect();
                        return {top: r.top, bottom: r.bottom, left: r.left, right: r.right, width: r.width, height: r.height}; };
  const shown = (el) => !!el && el.getClientRects().length > 0 && getComputedStyle(el).visibility !== 'hidden';
  const links = nav ? [...nav.querySelectorAll('a')] : [];
  const wide = [...document.querySelectorAll('body *')].filter((el) => {
      const r = el.getBoundingClientRect(); return r.width > 0 && r.right > width + 1; })
    .slice(0, 6).map((el) => el.tagName.toLowerCase() + (el.id ? '#' + el.id : '') +
                             (el.className && typeof el.className === 'string' ? '.' + el.className.trim().split(/\\s+/).join('.') : '') +
                             ' ' + Math.round(el.getBoundingClientRect().right));
  return {scrollWidth: doc.scrollWidth, innerWidth: window.innerWidth, innerHeight: window.innerHeight,
          header: box(document.querySelector('.topbar')), nav: box(nav), links: links.length,
          linksShown: links.filter(shown).length, wide,
          mic: box(document.querySelector('#mic')), text: box(document.querySelector('#text'))};
}"""


def _wav(seconds: float = 2.0, rate: int = 16000) -> bytes:
    from emotune.audio import wav_bytes

    t = np.arange(int(seconds * rate)) / rate
    return wav_bytes((0.2 * np.sin(2 * np.pi * 220 * t)).astype(np.float32), rate=rate)


def _jpeg() -> bytes:
    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (640, 480), (200, 180, 170)).save(out, "JPEG")
    return out.getvalue()


@pytest.mark.browser
class PhoneLayoutTest(LiveBrowserTestCase):
    def _objects(self):
        """A signed-in reader with one of everything the pages show, made as finished work."""
        from accounts.services import token_create, user_create
        from emotion.models import EmotionReading
        from emotune.models import JobStatus
        from music.journeys import plan_build
        from music.models import Journey, MusicGeneration
        from voicechat.models import Conversation, Message, Speaker

        user = user_create(username="phone-reader", password="tune-in-Pa55word")
        reading = EmotionReading(user=user, source="image", status=JobStatus.SUCCEEDED, emotion="sad", face_found=True,
                                 confidence=0.71, scores={"sad": 0.71, "neutral": 0.15, "happy": 0.05, "angry": 0.03,
                                                          "fear": 0.03, "surprise": 0.02, "disgust": 0.01},
                                 face_box={"x": 200, "y": 120, "w": 220, "h": 220, "image_w": 640, "image_h": 480}, engine="offline", progress=1.0)
        reading.media.save("phone.jpg", ContentFile(_jpeg()), save=False)
        reading.save()
        peaks = [round(abs(np.sin(i / 9)), 3) for i in range(400)]
        generation = MusicGeneration(
            user=user, reading=reading, emotion="sad", status=JobStatus.SUCCEEDED, progress=1.0, engine="offline",
            description="a slow, warm piano piece for a grey afternoon when everything feels far away",
            prompt_final="calm piano, 70 BPM, C major, soft strings, gentle, warm, lo-fi, rain, evening, reflective",
            brief={"bpm": 70, "key": "C", "mode": "major", "genre": "piano", "instruments": ["piano", "strings"]},
            params={"duration": 20, "temperature": 1.0, "top_k": 250, "guidance": 3.0, "engine": "offline"},
            score=0.82, score_parts={"tempo": 0.9, "key": 0.8, "energy": 0.7, "measured_bpm": 71, "measured_seconds": 20},
            peaks=peaks, duration=20.0, sample_rate=16000, channels=1)
        generation.audio.save("phone.wav", ContentFile(_wav()), save=False)
        generation.save()
        plan = plan_build(emotion="sad", target="calm", minutes=3, sections=4)
        journey = Journey(user=user, reading=reading, start_emotion="sad", target="calm", plan=plan, plan_path="template",
                          params={"engine": "offline"}, engine="offline", status=JobStatus.SUCCEEDED, progress=1.0,
                          peaks=peaks, duration=180.0, sample_rate=16000, channels=1, sections_done=4,
                          markers=[0, 45, 90, 135])
        journey.audio.save("phone-journey.wav", ContentFile(_wav()), save=False)
        journey.save()
        conversation = Conversation.objects.create(user=user, title="A long evening talk about sleeping better")
        for i in range(8):
            Message.objects.create(conversation=conversation, role="user" if i % 2 == 0 else "assistant",
                                   text="I could not sleep again last night, and the day felt very long. " * (1 + i % 3))
        Message.objects.create(conversation=conversation, role="assistant",
                               text="Try this page: https://example.org/" + "sleep-hygiene-" * 12 + " and breathe slowly.")
        speaker = Speaker(user=user, name="Grandma's voice", reference_seconds=8.0, consent=True,
                          transcript="The quick brown fox jumps over the lazy dog.")
        speaker.reference.save("phone-speaker.wav", ContentFile(_wav()), save=False)
        speaker.save()
        token_create(user=user, name="laptop script")
        self.files = [reading.media, generation.audio, journey.audio, speaker.reference]
        return user, reading, generation, journey, conversation

    def tearDown(self):
        for field in getattr(self, "files", []):
            field.delete(save=False)

    def test_every_page_fits_a_phone_and_keeps_the_desktop_menu(self):
        from playwright.sync_api import sync_playwright

        user, reading, generation, journey, conversation = self._objects()
        signed_in = ["/", "/emotion/", "/emotion/history/", f"/emotion/{reading.pk}/", "/music/", "/music/history/",
                     f"/music/{generation.pk}/", "/music/journeys/new/", f"/music/journeys/{journey.pk}/",
                     "/music/mood/", f"/voice/c/{conversation.pk}/", "/voice/speakers/", "/accounts/profile/",
                     "/accounts/preferences/", "/no-such-page/"]
        signed_out = ["/accounts/login/", "/accounts/signup/"]
        cookie = session_cookie(user)
        SHOTS.mkdir(parents=True, exist_ok=True)
        figures, problems = {}, []
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_FLAGS)
            for viewport in (PHONE, DESKTOP):
                for lang in LANGUAGES:
                    for paths, session in ((signed_in, cookie), (signed_out, None)):
                        context = browser.new_context(viewport=viewport, device_scale_factor=1,
                                                      is_mobile=viewport is PHONE, has_touch=viewport is PHONE)
                        cookies = [{"name": settings.LANGUAGE_COOKIE_NAME, "value": lang, "url": self.live_server_url}]
                        if session:
                            cookies.append({"name": settings.SESSION_COOKIE_NAME, "value": session,
                                            "url": self.live_server_url})
                        context.add_cookies(cookies)
                        page = context.new_page()
                        for path in paths:
                            page.goto(self.live_server_url + path)
                            page.wait_for_load_state("load")
                            page.wait_for_timeout(150)  # scripts draw waveforms and charts after load
                            m = page.evaluate(MEASURE, viewport["width"])
                            where = f"{path} {lang} {viewport['width']}px"
                            figures[where] = {"scrollWidth": m["scrollWidth"], "innerWidth": m["innerWidth"],
                                              "menu": round(m["header"]["height"]) if m["header"] else None, "wide": m["wide"]}
                            name = (path.strip("/").replace("/", "_") or "dashboard") + f"-{lang}-{viewport['width']}"
                            page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)
                            # A mobile Chromium zooms out to show a page wider than the screen, and then
                            # innerWidth grows with it: compare with the screen's own width.
                            if m["scrollWidth"] > viewport["width"] + 1 or m["innerWidth"] > viewport["width"]:
                                problems.append(f"{where}: scrolls sideways, {m['scrollWidth']} px > {viewport['width']} px"
                                                f" ({m['wide']})")
                            if session and viewport is PHONE and m["linksShown"]:
                                problems.append(f"{where}: the menu is open by default ({m['linksShown']} links shown,"
                                                f" header {m['header'] and m['header']['height']} px)")
                            if session and viewport is DESKTOP and m["linksShown"] != m["links"]:
                                problems.append(f"{where}: the desktop menu hides links ({m['linksShown']} of {m['links']})")
                            if path.startswith("/voice/c/") and viewport is PHONE:
                                for control in ("mic", "text"):
                                    rect = m[control]
                                    if not rect or rect["top"] < 0 or rect["bottom"] > viewport["height"] \
                                            or rect["right"] > viewport["width"] or rect["width"] == 0:
                                        problems.append(f"{where}: #{control} is not on the first screen: {rect}")
                                problems += self._keyboard_open(page, where)
                            if session and viewport is PHONE and path == "/":
                                problems += self._menu_opens(page, where)
                        context.close()
            browser.close()
        (SHOTS / "layout.json").write_text(json.dumps(figures, indent=1, ensure_ascii=False))
        assert not problems, "\n".join(problems)

    def _menu_opens(self, page, where: str) -> list[str]:
        """On the phone the collapsed menu opens from its toggle and shows every link, still within the width."""
        toggle = page.locator(".menu-toggle")
        if not toggle.count():
            return [f"{where}: no menu toggle"]
        toggle.first.click()
        page.wait_for_timeout(100)
        m = page.evaluate(MEASURE, PHONE["width"])
        page.screenshot(path=str(SHOTS / f"menu-open-{where.split()[1]}.png"), full_page=True)
        out = []
        if m["linksShown"] != m["links"]:
            out.append(f"{where}: the opened menu shows {m['linksShown']} of {m['links']} links")
        if m["scrollWidth"] > PHONE["width"] + 1:
            out.append(f"{where}: the opened menu scrolls sideways")
        toggle.first.click()
        return out

    def _keyboard_open(self, page, where: str) -> list[str]:
        """With the on-screen keyboard up (the window about 480 px high), typing in the text box still shows
        the Talk button and the box itself."""
        page.set_viewport_size({"width": PHONE["width"], "height": 480})
        page.focus("#text")
        page.wait_for_timeout(100)
        m = page.evaluate(MEASURE, PHONE["width"])
        page.screenshot(path=str(SHOTS / f"voice-keyboard-{where.split()[1]}.png"))
        page.set_viewport_size(PHONE)
        return [f"{where}: with the keyboard open #{control} is off screen: {m[control]}" for control in ("mic", "text")
                if not m[control] or m[control]["top"] < 0 or m[control]["bottom"] > 480]
