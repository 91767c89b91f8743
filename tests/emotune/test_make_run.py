"""What `make run` serves: the embedded install with DEBUG off, as people run it. The commands
are the Makefile's own (``make -n run``), run against a fresh data folder; the pages are Django's
friendly 404 and 500 in both languages, never its debug pages."""

from __future__ import annotations

import json
import os
import re
import shlex
import stat
import subprocess
import urllib.error
import urllib.request

import pytest
from django.conf import settings
from django.test import Client, RequestFactory
from django.utils import translation
from django.views.defaults import server_error

from tests.api.conftest import stop
from tests.helpers import ROOT, free_port, wait_for_port


def _make_run_commands(port: int) -> list[str]:
    """migrate, collectstatic and daphne, as `make run` would run them (``make -n`` prints them)."""
    printed = subprocess.run(["make", "-n", "run", "HOST=127.0.0.1", f"PORT={port}"], cwd=ROOT, capture_output=True,
                             text=True, timeout=60, check=True).stdout.splitlines()
    commands = [line for line in printed if re.search(r"manage\.py (?:migrate|collectstatic)|/daphne ", line)]
    assert len(commands) == 3, printed
    return commands


def _get(url: str, language: str = "en") -> tuple[int, dict, str]:
    request = urllib.request.Request(url, headers={"Accept-Language": language})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, dict(response.headers), response.read().decode(errors="replace")
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read().decode(errors="replace")


def test_make_run_serves_the_site_without_debug_pages(tmp_path):
    port = free_port()
    env = {k: v for k, v in os.environ.items()
           if k not in {"DEBUG", "SECRET_KEY", "DATABASE_URL", "DB_HOST", "DB_PORT", "DB_USER", "DB_PASSWORD",
                        "DB_NAME", "REDIS_URL", "EMOTUNE_HTTPS", "ALLOWED_HOSTS"} and not k.endswith("_FILE")}
    env.update(EMOTUNE_DATA_DIR=str(tmp_path / "data"), EMOTUNE_MODELS_DIR=str(settings.MODELS_DIR), ENGINE_WARMUP="0")
    *setup, serve = _make_run_commands(port)
    for command in setup:
        done = subprocess.run(["bash", "-c", command], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
        assert done.returncode == 0, done.stderr[-2000:]
    key = tmp_path / "data" / "secret_key"
    assert key.exists() and stat.S_IMODE(key.stat().st_mode) == 0o600 and len(key.read_text().strip()) >= 50
    log = (tmp_path / "daphne.log").open("w")
    proc = subprocess.Popen(["bash", "-c", "exec env " + serve], cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        assert wait_for_port(port, timeout=60), (tmp_path / "daphne.log").read_text()[-2000:]
        base = f"http://127.0.0.1:{port}"
        status, _, login = _get(f"{base}/accounts/login/")
        assert status == 200
        # Static files from WhiteNoise under their hashed names, cached for good.
        stylesheet = re.search(r'href="(/static/css/app\.[0-9a-f]{12}\.css)"', login)
        assert stylesheet, login[:1000]
        status, headers, css = _get(base + stylesheet[1])
        assert status == 200 and "max-age=315360000" in headers.get("Cache-Control", "") and "body" in css
        # The favicon every browser asks for, and the manifest a phone installs the site from.
        status, _, _ = _get(f"{base}/favicon.ico")
        assert status == 200
        status, headers, manifest = _get(f"{base}/manifest.webmanifest")
        assert status == 200 and headers["Content-Type"] == "application/manifest+json"
        for icon in json.loads(manifest)["icons"]:
            assert _get(base + icon["src"])[0] == 200, icon
        # A page that is not there: the friendly page, in the reader's language, no URL list.
        for language, words in (("en", "Page not found"), ("zh-hans", "找不到这个页面")):
            status, _, page = _get(f"{base}/music/generations/424242/nothing-here/", language)
            assert status == 404 and words in page, page[:500]
            assert "URLconf" not in page and "DEBUG = True" not in page and "Traceback" not in page
    finally:
        stop(proc)
        log.close()
    assert shlex.split(serve)[0].startswith("EMOTUNE_HTTPS=0")  # plain HTTP on this machine


@pytest.mark.django_db
def test_another_users_things_are_a_friendly_404_in_both_languages(make_user):
    from music.models import MusicGeneration

    owner, other = make_user("owner"), make_user("other")
    generation = MusicGeneration.objects.create(user=owner, emotion="sad")
    client = Client()
    client.force_login(other)
    for language, words in (("en", "There is nothing here, or it belongs to someone else."),
                            ("zh-hans", "这里什么也没有，或者它属于别人。")):
        page = client.get(f"/music/generations/{generation.pk}/", HTTP_ACCEPT_LANGUAGE=language)
        assert page.status_code == 404 and words in page.content.decode()


def test_the_500_page_is_friendly_in_both_languages():
    request = RequestFactory().get("/")
    for language, words in (("en", "Something went wrong"), ("zh-hans", "出了点问题")):
        with translation.override(language):
            response = server_error(request)
        assert response.status_code == 500 and words in response.content.decode()


@pytest.mark.django_db
def test_every_page_links_its_icons_and_manifest_and_the_favicon_is_there(client):
    page = client.get("/accounts/login/").content.decode()
    for link in ('rel="icon"', 'rel="apple-touch-icon"', 'rel="manifest" href="/manifest.webmanifest"',
                 'name="theme-color"'):
        assert link in page, link
    favicon = client.get("/favicon.ico", follow=True)
    assert favicon.status_code == 200 and b"".join(favicon.streaming_content)[:4] == b"\x00\x00\x01\x00"  # an ICO
    manifest = client.get("/manifest.webmanifest", HTTP_ACCEPT_LANGUAGE="zh-hans").json()
    assert manifest["start_url"] == "/" and manifest["display"] == "standalone" and manifest["lang"] == "zh-hans"
    assert manifest["description"] == "用音乐和声音照顾你的心情"
    sizes = {icon["sizes"] for icon in manifest["icons"]}
    assert {"192x192", "512x512"} <= sizes and any(icon.get("purpose") == "maskable" for icon in manifest["icons"])
    for icon in manifest["icons"]:
        served = client.get(icon["src"])
        assert served.status_code == 200, icon

