"""Headless Chromium on the ops dashboard and the system log list, with a real worker behind them."""

from __future__ import annotations

import os
import signal
from pathlib import Path

import pytest
from channels.testing import ChannelsLiveServerTestCase
from django.conf import settings
from django.test import override_settings

from accounts.models import User
from emotion.models import EmotionReading
from emotune.logbook import event_record, log_write
from emotune.models import JobStatus
from tests.helpers import ROOT, session_cookie, start_worker

SHOTS = ROOT / ".data" / "screenshots"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]


@pytest.mark.browser
@override_settings(WORKER_HEARTBEAT_SECONDS=2)
class OpsPagesInChromium(ChannelsLiveServerTestCase):
    @classmethod
    def setUpClass(cls):
        # The daphne child prefixes TEST NAME-less databases with "test_" again; name the test database outright.
        from django.db import connection

        settings.DATABASES["default"].setdefault("TEST", {})["NAME"] = connection.settings_dict["NAME"]
        super().setUpClass()

    def setUp(self):
        # Playwright's sync API runs an event loop in this thread; put the flag back afterwards so that
        # later tests' subprocesses (check --deploy) do not inherit it.
        self._async_unsafe = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
        os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
        self.staff = User.objects.create_superuser("ops", password="x-Pa55word-ops")
        alice = User.objects.create_user("alice", password="x-Pa55word-alice")
        for status, message in (("success", "生成了平静的钢琴曲"), ("failed", "登录失败：密码错误"),
                                ("failed", "MusicGen ran out of memory"), ("success", "happy face read")):
            log_write(action="music.generate.run", status=status, user_id=alice.pk, message=message, ip="10.0.0.7")
        row = EmotionReading.objects.create(user=alice, source="image", media="readings/a.jpg",
                                            status=JobStatus.FAILED, error="No face found in the photo.")
        for outcome, seconds in (("succeeded", 1.2), ("succeeded", 3.4), ("failed", 0.3)):
            event_record(kind="job.finished", user_id=alice.pk, subject=row,
                         data={"job": "emotion.read", "outcome": outcome, "seconds": seconds, "queue": "gpu"})
        self.worker = start_worker("gpu", "default", env={"WORKER_HEARTBEAT_SECONDS": "1"})
        SHOTS.mkdir(parents=True, exist_ok=True)

    def tearDown(self):
        self.worker.send_signal(signal.SIGTERM)
        self.worker.wait(timeout=20)
        if self._async_unsafe is None:
            os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = self._async_unsafe

    def test_dashboard_and_log_list(self):
        from playwright.sync_api import sync_playwright

        cookie = session_cookie(self.staff)
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=ARGS)
            context = browser.new_context(viewport={"width": 1280, "height": 900})
            context.add_cookies([{"name": settings.SESSION_COOKIE_NAME, "value": cookie,
                                  "url": self.live_server_url}])
            page = context.new_page()
            polls = []
            page.on("request", lambda r: polls.append(r.url) if "dashboard.json" in r.url else None)

            page.goto(f"{self.live_server_url}/admin/ops/")
            # The worker's first heartbeat may come after the page: auto-refresh must bring it in.
            page.wait_for_selector(f"#ops-workers tr[data-worker*='{self.worker.pid}'], #ops-workers tr[data-worker]",
                                   timeout=20_000)
            assert "gpu, default" in page.inner_text("#ops-workers")
            assert "No face found in the photo." in page.inner_text("#ops-failures")
            # Times read in the reader's locale, not as raw ISO 8601 (which has a "T" and an offset).
            page.evaluate("window.opsDashboard.refresh()")
            for selector in ("#ops-updated", "#ops-failures time"):
                shown, iso = page.inner_text(selector), page.get_attribute(selector, "datetime")
                assert iso and "T" in iso and shown and "T" not in shown and "+00:00" not in shown
            stats = page.inner_text("#ops-stats")
            assert "emotion.read" in stats and "3.4" in stats
            page.screenshot(path=str(SHOTS / "ops-dashboard.png"), full_page=True)

            # Hidden tab: polling stops, and resumes when the tab is shown again.
            page.evaluate("""() => {
                Object.defineProperty(document, 'hidden', {configurable: true, get: () => true});
                document.dispatchEvent(new Event('visibilitychange'));
            }""")
            assert page.evaluate("window.opsDashboard.isPolling()") is False
            before = len(polls)
            page.wait_for_timeout(4500)
            assert len(polls) == before
            assert page.inner_text("#ops-refresh-state") == "auto-refresh paused"
            page.evaluate("""() => {
                Object.defineProperty(document, 'hidden', {configurable: true, get: () => false});
                document.dispatchEvent(new Event('visibilitychange'));
            }""")
            page.wait_for_timeout(500)
            assert len(polls) > before and page.evaluate("window.opsDashboard.isPolling()") is True

            page.goto(f"{self.live_server_url}/admin/ops/systemlog/?q=钢琴")
            rows = page.locator("#result_list tbody tr")
            assert rows.count() == 1 and "生成了平静的钢琴曲" in rows.first.inner_text()
            page.goto(f"{self.live_server_url}/admin/ops/systemlog/?status__exact=failed")
            assert "登录失败" in page.inner_text("#result_list")
            page.goto(f"{self.live_server_url}/admin/ops/systemlog/")
            assert page.locator("#result_list tbody tr").count() >= 4
            page.screenshot(path=str(SHOTS / "ops-systemlog.png"), full_page=True)
            browser.close()
        assert Path(SHOTS / "ops-dashboard.png").stat().st_size > 10_000
