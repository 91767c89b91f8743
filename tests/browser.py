"""What the headless-Chromium tests share: a live daphne on the test database, Chromium's flags.

    @pytest.mark.browser
    class MyPageTest(LiveBrowserTestCase):
        def test_it(self):
            with sync_playwright() as p:
                browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_FLAGS)
"""

from __future__ import annotations

import os
from functools import partial

from channels.testing import ChannelsLiveServerTestCase
from daphne.testing import DaphneProcess
from django.conf import settings
from django.db import connection

# Debian's chromium, headless, nothing reaching the network (never `playwright install`).
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync"]


def _use_database(name: str) -> None:
    """Runs in the forked server process: the test database, and a channel layer of its own
    (a layer instance inherited from the parent is bound to the parent's event loops)."""
    from channels.layers import channel_layers

    settings.DATABASES["default"]["NAME"] = name
    channel_layers.backends = {}


class TestDatabaseDaphne(DaphneProcess):
    """channels' live server prefixes "test_" again in a forked child that already has the test name."""

    def __init__(self, host, get_application, kwargs=None, setup=None, teardown=None):
        super().__init__(host, get_application, kwargs, partial(_use_database, connection.settings_dict["NAME"]),
                         teardown)


class LiveBrowserTestCase(ChannelsLiveServerTestCase):
    """A live daphne serving the test database and the static files; Playwright's sync API may
    touch the ORM from its event loop while the class runs."""

    serve_static = True
    ProtocolServerProcess = TestDatabaseDaphne

    @classmethod
    def setUpClass(cls):
        cls._async_unsafe = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
        os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
        super().setUpClass()

    @classmethod
    def tearDownClass(cls):
        super().tearDownClass()
        # later tests' subprocesses (manage.py check --deploy) must not inherit it
        if cls._async_unsafe is None:
            os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = cls._async_unsafe
