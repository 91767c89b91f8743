"""Headless Chromium: the mood history charts on real data, and a journey planned, edited and played."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.conf import settings
from django.utils import timezone

from tests.browser import CHROMIUM_FLAGS, LiveBrowserTestCase
from tests.helpers import session_cookie, start_worker
from tests.music.test_browser import SHOTS


@pytest.mark.browser
class JourneyBrowserTest(LiveBrowserTestCase):
    def _context(self, p, user, *, camera: bool = False):
        fake_camera = ["--use-fake-ui-for-media-stream", "--use-fake-device-for-media-stream"] if camera else []
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_FLAGS + fake_camera)
        context = browser.new_context(viewport={"width": 1280, "height": 1000})
        host = self.live_server_url.split("//")[1].split(":")[0]
        context.add_cookies([{"name": settings.SESSION_COOKIE_NAME, "value": session_cookie(user), "domain": host,
                              "path": "/"}])
        return browser, context

    def test_mood_history_charts_show_the_users_sessions_and_readings(self):
        from playwright.sync_api import expect, sync_playwright

        from accounts.services import user_create
        from emotion.models import EmotionReading
        from music.models import Journey
        from music.services import checkin_set, run_journey

        user = user_create(username="alice", password="tune-in-Pa55word")
        other = user_create(username="bob", password="tune-in-Pa55word")
        pairs = [("sad", 5, "calm", 4, "calm"), ("angry", 4, "neutral", 3, "focused"), ("fear", 3, "fear", 4, "sleep")]
        for n, (start, si, end, ei, target) in enumerate(pairs):
            made = run_journey(user=user, emotion=start, target=target, minutes=2, sections=3,
                               params={"engine": "offline", "seed": n})
            journey = Journey.objects.get(pk=made["journey_id"])
            checkin_set(user=user, journey=journey, moment="before", mood=start, intensity=si)
            checkin_set(user=user, journey=journey, moment="after", mood=end, intensity=ei)
        old = Journey.objects.filter(user=user).order_by("id").first()
        Journey.objects.filter(pk=old.pk).update(created_at=timezone.now() - timedelta(days=20))
        for i, emotion in enumerate(["sad", "neutral", "happy", "angry", "happy"]):
            EmotionReading.objects.create(user=user, source="webcam", media="readings/x.jpg", status="succeeded",
                                          emotion=emotion, confidence=0.8,
                                          created_at=timezone.now() - timedelta(days=5 - i))
        EmotionReading.objects.create(user=other, source="webcam", media="readings/y.jpg", status="succeeded",
                                      emotion="fear", confidence=0.9)
        SHOTS.mkdir(parents=True, exist_ok=True)
        with sync_playwright() as p:
            browser, context = self._context(p, user)
            page = context.new_page()
            errors: list[str] = []
            page.on("pageerror", lambda e: errors.append(str(e)))
            page.on("response", lambda r: errors.append(f"{r.status} {r.url}")
                    if r.status >= 400 and not r.url.endswith("/favicon.ico") else None)
            page.goto(self.live_server_url + "/music/mood/?period=all")
            page.wait_for_selector("body[data-charts-ready='true']", timeout=15_000)
            charts = page.evaluate("""() => Object.fromEntries([...document.querySelectorAll('canvas')].map(c => {
                const chart = Chart.getChart(c);
                return [c.id, {labels: chart.data.labels, data: chart.data.datasets.map(d => d.data)}];
            }))""")
            assert set(charts) == {"chart-sessions", "chart-readings", "chart-targets", "chart-styles"}, errors
            sessions = charts["chart-sessions"]
            assert len(sessions["labels"]) == 3
            before, after = sessions["data"]
            assert after[0] > before[0] and after[1] > before[1] and after[2] < before[2]  # the third did not help
            assert len(charts["chart-readings"]["labels"]) == 5  # bob's reading is not shown
            assert charts["chart-readings"]["data"][0] == [-0.7, 0.0, 0.8, -0.6, 0.8]
            assert charts["chart-targets"]["labels"][0].startswith(("Calm", "Focused"))
            # something was drawn: the canvas is not blank
            inked = page.evaluate("""() => { const c = document.getElementById('chart-sessions');
                const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
                let n = 0; for (let i = 3; i < d.length; i += 4) if (d[i] > 0) n++; return n; }""")
            assert inked > 2000
            expect(page.locator("#checkin-rule")).to_contain_text("0.15 closer")
            page.screenshot(path=str(SHOTS / "mood_history.png"), full_page=True)
            page.goto(self.live_server_url + "/music/mood/?period=7")
            page.wait_for_selector("body[data-charts-ready='true']")
            assert page.evaluate("Chart.getChart(document.getElementById('chart-sessions')).data.labels.length") == 2
            assert not errors, errors
            browser.close()

    def test_plan_edit_render_progress_markers_and_checkin(self):
        from playwright.sync_api import expect, sync_playwright

        from accounts.services import user_create
        from music.models import Journey

        user = user_create(username="carol", password="tune-in-Pa55word")
        worker = start_worker("gpu")
        try:
            with sync_playwright() as p:
                browser, context = self._context(p, user, camera=True)
                page = context.new_page()
                page.goto(self.live_server_url + "/music/journeys/new/")
                page.select_option("#id_emotion", "sad")
                page.select_option("#id_target", "calm")
                page.fill("#id_minutes", "2")
                page.select_option("#id_engine", "offline")
                page.click("#plan-btn")
                expect(page.locator(".section-row")).to_have_count(3)
                page.fill("input[name='s2-genre']", "new age")
                page.screenshot(path=str(SHOTS / "journey_plan.png"), full_page=True)
                page.click("#render-btn")
                page.wait_for_url("**/music/journeys/*/")
                expect(page.locator("#player-box")).to_be_visible(timeout=120_000)
                expect(page.locator("#status-pill")).to_have_text("Succeeded")
                expect(page.locator("#markers .marker")).to_have_count(3)
                expect(page.locator(".marker-jump")).to_have_count(3)
                page.wait_for_function("document.querySelector('#waveform > div')?.shadowRoot?.querySelector('canvas')")
                worker.terminate()  # the snapshot's reading stays queued: the check-in attaches it as it is
                worker.wait(10)
                expect(page.locator("#saved-before")).to_contain_text("Sad")  # from the journey's request
                page.select_option("#id_after-mood", "calm")
                page.click("#webcam-after-start")
                page.wait_for_function("document.querySelector('#checkin-after video').videoWidth > 0")
                page.click("#webcam-after-snap")
                expect(page.locator("#checkin-after .webcam-msg")).to_contain_text("attached", timeout=15_000)
                page.click("#checkin-after-save")
                expect(page.locator("#saved-after")).to_contain_text("Calm")
                expect(page.locator("#saved-after")).to_contain_text("reading #")
                page.screenshot(path=str(SHOTS / "journey_detail.png"), full_page=True)
                browser.close()
        finally:
            worker.terminate()
            worker.wait(10)
        journey = Journey.objects.get(user=user)
        assert journey.status == "succeeded" and journey.sections[2]["genre"] == "new age"
        after = journey.checkins.get(moment="after")
        assert after.mood == "calm" and after.reading.source == "webcam" and after.reading.user == user
