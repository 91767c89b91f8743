"""Headless Chromium: upload a photo on the emotion page and see the reading rendered."""

from __future__ import annotations

import os
from pathlib import Path
from unittest import mock

import pytest
from channels.testing import ChannelsLiveServerTestCase

from tests.emotion.media import astronaut_rgb, jpeg_bytes
from tests.helpers import session_cookie, start_worker

CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
SHOTS = Path(os.environ.get("EMOTUNE_SCREENSHOTS", "/tmp/emotune-shots"))


@pytest.mark.browser
class EmotionPageTest(ChannelsLiveServerTestCase):
    serve_static = True

    @classmethod
    def setUpClass(cls):
        # The live server process derives its database name from TEST.NAME (or prefixes
        # NAME with "test_" again): point it at the test database this run created.
        from django.db import connection

        connection.settings_dict.setdefault("TEST", {})["NAME"] = connection.settings_dict["NAME"]
        super().setUpClass()

    def setUp(self):
        # Playwright's sync API runs an event loop in this thread; only for this test,
        # never leaked into later tests or the processes they start.
        env = mock.patch.dict(os.environ, {"DJANGO_ALLOW_ASYNC_UNSAFE": "true"})
        env.start()
        self.addCleanup(env.stop)
        from accounts.services import user_create

        self.user = user_create(username="alice", password="tune-in-Pa55word")
        self.cookie = session_cookie(self.user)
        self.worker = start_worker("gpu")

    def tearDown(self):
        self.worker.terminate()
        self.worker.wait(10)
        from emotion.models import EmotionReading

        for reading in EmotionReading.objects.all():
            reading.media.delete(save=False)

    def test_upload_photo_and_see_result(self):
        from django.conf import settings
        from playwright.sync_api import expect, sync_playwright

        photo = Path(self._tmp()) / "astronaut.jpg"
        photo.write_bytes(jpeg_bytes(astronaut_rgb()))
        SHOTS.mkdir(parents=True, exist_ok=True)
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
            context = browser.new_context(viewport={"width": 1100, "height": 900})
            context.add_cookies([{"name": settings.SESSION_COOKIE_NAME, "value": self.cookie,
                                  "url": self.live_server_url}])
            page = context.new_page()
            page.goto(f"{self.live_server_url}/emotion/")
            page.screenshot(path=SHOTS / "emotion-index.png", full_page=True)
            page.set_input_files("#id_media", str(photo))
            page.click("#upload-form button[type=submit]")
            page.wait_for_url("**/emotion/*/")
            # The worker started in setUp imports torch and loads the face models first: slow on a busy machine.
            expect(page.locator("#verdict")).to_contain_text("Happy", timeout=120_000)
            expect(page.locator("#bars li")).to_have_count(7)
            expect(page.locator("#facebox")).to_be_visible()
            expect(page.locator("#make-music")).to_have_attribute("href", f"/music/?reading={self._reading_id()}&emotion=happy")
            page.wait_for_function("document.querySelector('.photo img').naturalWidth > 0")
            page.screenshot(path=SHOTS / "emotion-result.png", full_page=True)
            page.goto(f"{self.live_server_url}/emotion/history/")
            expect(page.locator(".readings li")).to_have_count(1)
            page.screenshot(path=SHOTS / "emotion-history.png", full_page=True)
            browser.close()

    def _reading_id(self) -> int:
        from emotion.models import EmotionReading

        return EmotionReading.objects.get(user=self.user).pk

    def _tmp(self) -> str:
        import tempfile

        return tempfile.mkdtemp(prefix="emotion-browser-")
