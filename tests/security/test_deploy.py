"""Deployment guarantees: production settings pass ``check --deploy``, cookies are
secure and HSTS is on, every form carries a CSRF token and every POST without one
is refused, secrets come only from the environment (or NAME_FILE), and media are
stored under random names and served so that a browser never runs them.

Figures printed: deploy check issues, forms with CSRF, POSTs refused, media names.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
import secrets
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pytest
from django.apps import apps
from django.conf import settings as django_settings
from django.core import serializers
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import get_resolver, reverse

from emotion.models import EmotionReading
from emotune.audio import wav_bytes
from emotune.media import SAFE_TYPES
from music.models import MusicGeneration
from tests.helpers import ROOT, child_env, run_worker_burst, ws_client
from tests.hostile import image_corpus, small_jpeg
from tests.security.test_permissions import STAFF, _access, _concrete, _walk, world  # noqa: F401 (fixture)
from voicechat.models import Speaker

# --- production settings ----------------------------------------------------------------


def _production_env(**extra) -> dict:
    env = {k: v for k, v in child_env().items() if not k.endswith("_FILE")}
    env.pop("DEBUG", None)
    env.update(
        DEBUG="0", SECRET_KEY=secrets.token_urlsafe(60), ALLOWED_HOSTS="emotune.example.org",
        DB_HOST="127.0.0.1", DB_USER="emotune", DB_PASSWORD="emotune",
        REDIS_URL=django_settings.REDIS_URL or "redis://127.0.0.1:6379/14",
    )
    env.update(extra)
    return {k: v for k, v in env.items() if v is not None}


def _manage(*args, env: dict) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=120)


def _shell(code: str, env: dict) -> dict:
    """Run ``code`` (which prints one JSON line last) under ``env``; return that JSON."""
    done = _manage("shell", "-c", code, env=env)
    assert done.returncode == 0, done.stderr[-2000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


SECURITY_SETTINGS = (
    "DEBUG", "SESSION_COOKIE_SECURE", "SESSION_COOKIE_HTTPONLY", "CSRF_COOKIE_SECURE", "SECURE_HSTS_SECONDS",
    "SECURE_HSTS_INCLUDE_SUBDOMAINS", "SECURE_SSL_REDIRECT", "SECURE_CONTENT_TYPE_NOSNIFF", "X_FRAME_OPTIONS",
    "SECURE_REFERRER_POLICY", "ALLOWED_HOSTS", "MIDDLEWARE",
)


@pytest.mark.django_db
def test_check_deploy_is_clean_and_production_settings_are_secure(capsys):
    env = _production_env()
    check = _manage("check", "--deploy", "--fail-level", "WARNING", env=env)
    assert check.returncode == 0, check.stdout + check.stderr
    assert "System check identified no issues (0 silenced)" in check.stdout, check.stdout
    assert "WARNING" not in check.stdout + check.stderr
    code = ("import json; from django.conf import settings as s; "
            f"print(json.dumps({{k: getattr(s, k) for k in {SECURITY_SETTINGS!r}}}))")
    values = _shell(code, env)
    assert values["DEBUG"] is False
    assert values["SESSION_COOKIE_SECURE"] and values["CSRF_COOKIE_SECURE"] and values["SESSION_COOKIE_HTTPONLY"]
    assert values["SECURE_HSTS_SECONDS"] >= 31536000 and values["SECURE_HSTS_INCLUDE_SUBDOMAINS"]
    assert values["SECURE_SSL_REDIRECT"] and values["SECURE_CONTENT_TYPE_NOSNIFF"]
    assert values["X_FRAME_OPTIONS"] == "DENY"
    assert values["ALLOWED_HOSTS"] == ["emotune.example.org"]
    assert "django.middleware.csrf.CsrfViewMiddleware" in values["MIDDLEWARE"]
    with capsys.disabled():
        shown = {k: v for k, v in values.items() if k != "MIDDLEWARE"}
        print(f"\ndeploy: check --deploy: 0 issues; production settings: {shown}")


def test_production_headers_and_cookies(client, settings, user):
    """The production values above, applied: HTTPS redirect, HSTS, secure cookies on the wire."""
    settings.SECURE_SSL_REDIRECT = settings.SESSION_COOKIE_SECURE = settings.CSRF_COOKIE_SECURE = True
    settings.SECURE_HSTS_SECONDS, settings.SECURE_HSTS_INCLUDE_SUBDOMAINS = 31536000, True
    plain = client.get("/accounts/login/")
    assert plain.status_code == 301 and plain["Location"].startswith("https://")
    page = client.get("/accounts/login/", secure=True)
    assert page.status_code == 200
    assert page["Strict-Transport-Security"].startswith("max-age=31536000")
    assert page["X-Content-Type-Options"] == "nosniff" and page["X-Frame-Options"] == "DENY"
    assert page.cookies["csrftoken"]["secure"]
    signed_in = client.post("/accounts/login/", {"username": "alice", "password": "tune-in-Pa55word"}, secure=True)
    assert signed_in.status_code == 302
    session = signed_in.cookies[settings.SESSION_COOKIE_NAME]
    assert session["secure"] and session["httponly"]


# --- secrets only from the environment ---------------------------------------------------


def test_production_refuses_to_start_without_secret_key():
    env = _production_env(SECRET_KEY=None)
    done = _manage("check", env=env)
    assert done.returncode != 0
    assert "ImproperlyConfigured: SECRET_KEY is required when DEBUG is off" in done.stderr, done.stderr[-1000:]
    weak = _manage("check", env=_production_env(SECRET_KEY="changeme"))
    assert weak.returncode != 0 and "SECRET_KEY must be at least 50 characters" in weak.stderr


@pytest.mark.django_db
def test_secrets_are_read_from_files(tmp_path):
    key, api_key = secrets.token_urlsafe(60), "sk-" + secrets.token_hex(16)
    files = {"SECRET_KEY": key, "DB_PASSWORD": "emotune", "OPENAI_API_KEY": api_key}
    env = _production_env(SECRET_KEY=None, DB_PASSWORD=None, OPENAI_API_KEY=None)
    for name, value in files.items():
        path = tmp_path / name.lower()
        path.write_text(value + "\n")  # files written by editors end with a newline
        env[f"{name}_FILE"] = str(path)
    code = ("import hashlib, json; from django.conf import settings as s; from django.db import connection; "
            "connection.ensure_connection(); h = lambda v: hashlib.sha256(v.encode()).hexdigest(); "
            "print(json.dumps([h(s.SECRET_KEY), h(s.DATABASES['default']['PASSWORD']), h(s.OPENAI_API_KEY)]))")
    digest = [hashlib.sha256(files[n].encode()).hexdigest() for n in ("SECRET_KEY", "DB_PASSWORD", "OPENAI_API_KEY")]
    assert _shell(code, env) == digest  # and the database accepted the password read from its file
    (tmp_path / "db_password").write_text("not-the-password")
    refused = _manage("shell", "-c", "from django.db import connection; connection.ensure_connection()", env=env)
    assert refused.returncode != 0 and "Access denied" in refused.stderr
    env["OPENAI_API_KEY_FILE"] = str(tmp_path / "missing")
    missing = _manage("check", env=env)
    assert missing.returncode != 0 and "OPENAI_API_KEY_FILE: cannot read" in missing.stderr


def test_no_secret_is_written_in_the_code():
    settings_src = (ROOT / "emotune" / "settings.py").read_text()
    for name in ("SECRET_KEY", "DB_PASSWORD", "OPENAI_API_KEY", "METRICS_TOKEN"):
        assert f'env_str("{name}"' in settings_src or (name == "DB_PASSWORD" and 'env_str("DB_PASSWORD", "")' in settings_src)
    assert not re.search(r"""SECRET_KEY\s*=\s*["']""", settings_src)


# --- CSRF on every form, every POST without a token refused ------------------------------


class _Forms(HTMLParser):
    def __init__(self):
        super().__init__()
        self.forms: list[dict] = []
        self._open: dict | None = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "form":
            self._open = {"method": (attrs.get("method") or "get").lower(), "action": attrs.get("action"), "token": ""}
            self.forms.append(self._open)
        elif tag == "input" and self._open is not None and attrs.get("name") == "csrfmiddlewaretoken":
            self._open["token"] = attrs.get("value") or ""

    def handle_endtag(self, tag):
        if tag == "form":
            self._open = None


def _routes():
    return list(_walk(get_resolver().url_patterns))


@pytest.mark.django_db
def test_every_post_form_carries_a_csrf_token(world, capsys):  # noqa: F811 (the imported fixture)
    owner, staff = Client(raise_request_exception=False), Client(raise_request_exception=False)
    owner.force_login(world["owner"])
    staff.force_login(world["staff"])
    pages, forms, missing = 0, 0, []
    for pattern, name in _routes():
        if "logout" in name:
            continue
        url = _concrete(pattern, name, world["objects"])
        for client in (owner, staff) if _access(name) != STAFF else (staff,):
            response = client.get(url)
            if response.status_code != 200 or "html" not in response.get("Content-Type", ""):
                continue
            pages += 1
            parser = _Forms()
            parser.feed(response.content.decode())
            for form in parser.forms:
                if form["method"] == "post":
                    forms += 1
                    if len(form["token"]) < 32:
                        missing.append(f"{url} form action={form['action']}")
    with capsys.disabled():
        print(f"\ndeploy: pages rendered: {pages}; forms with CSRF: {forms - len(missing)}/{forms}")
    assert forms >= 20  # the walk reached the app's and the admin's forms
    assert missing == []


def _snapshot() -> str:
    """Every row of every model, serialised: a POST that changed anything shows here."""
    skip = {"sessions.session"}
    rows = []
    for model in apps.get_models():
        if model._meta.label_lower not in skip and model._meta.managed:
            rows.append(serializers.serialize("json", model.objects.order_by("pk")))
    return "".join(rows)


@pytest.mark.django_db
def test_post_without_csrf_token_is_refused_and_changes_nothing(world, capsys):  # noqa: F811 (the imported fixture)
    clients = {}
    for identity in ("owner", "staff"):
        clients[identity] = Client(enforce_csrf_checks=True, raise_request_exception=False)
        clients[identity].force_login(world[identity])
        # The victim's browser holds a CSRF cookie; the forged request just lacks the token.
        clients[identity].get(reverse("home"))
        assert clients[identity].cookies["csrftoken"].value
    before = _snapshot()
    tried, accepted = 0, []
    for pattern, name in _routes():
        url = _concrete(pattern, name, world["objects"])
        for identity, client in clients.items():
            data = {"name": "changed", "stars": 1, "action": "delete", "post": "yes", "_selected_action": "1"}
            response = client.post(url, data)
            tried += 1
            # An API route that takes no POST refuses it before any authentication (405; the root: 404).
            refused = (403, 404, 405) if name.startswith(("api:", "openai:")) else (403,)
            if response.status_code not in refused:
                accepted.append(f"{identity} POST {url} ({name}): {response.status_code}")
    # Token in a header but from another session: refused too.
    forged = clients["owner"].post(reverse("voicechat:new"), HTTP_X_CSRFTOKEN="a" * 64)
    with capsys.disabled():
        print(f"\ndeploy: POSTs without token refused: {tried - len(accepted)}/{tried}")
    assert accepted == []
    assert forged.status_code == 403
    assert _snapshot() == before
    # The same client with a token is let through: the refusals above are CSRF, not something else.
    client = Client(enforce_csrf_checks=True)
    client.force_login(world["owner"])
    client.get(reverse("home"))
    ok = client.post(reverse("voicechat:new"), {"csrfmiddlewaretoken": client.cookies["csrftoken"].value})
    assert ok.status_code == 302


@pytest.mark.django_db(transaction=True)
async def test_websocket_from_another_origin_is_refused(make_user):
    from asgiref.sync import sync_to_async

    from tests.helpers import session_cookie

    cookie = await sync_to_async(session_cookie)(await sync_to_async(make_user)("owner"))
    evil = ws_client("/ws/events/", cookie=cookie, origin="https://evil.example")
    assert (await evil.connect())[0] is False
    good = ws_client("/ws/events/", cookie=cookie)
    assert (await good.connect())[0] is True
    await good.disconnect()


# --- media: random names, never run ----------------------------------------------------------

RANDOM_NAME = re.compile(r"[0-9a-f]{32}\.(jpg|png|webp|mp4|webm|wav|mp3|pt)")
DISPOSITION = re.compile(r'(inline|attachment); filename="[\w.-]{1,80}"')


def _tone(seconds: float = 4.0, rate: int = 16000) -> bytes:
    t = np.arange(int(seconds * rate)) / rate
    return wav_bytes((0.3 * np.sin(2 * np.pi * 220 * t)).astype(np.float32), rate=rate)


def _name_parts(name: str) -> set[str]:
    return {part for part in re.split(r"[^a-z0-9]+", Path(name).stem.lower()) if len(part) >= 3}


def _assert_safe_response(response, where: str) -> None:
    assert response.status_code == 200, where
    assert response["X-Content-Type-Options"] == "nosniff", where
    assert "sandbox" in response["Content-Security-Policy"], where
    assert response["Content-Type"] in SAFE_TYPES | {"application/octet-stream"}, where
    assert "html" not in response["Content-Type"] and "svg" not in response["Content-Type"], where
    assert DISPOSITION.fullmatch(response["Content-Disposition"]), (where, response["Content-Disposition"])


@pytest.mark.django_db(transaction=True)
def test_stored_names_are_random_and_media_are_served_safely(alice_client, user, settings, tmp_path, capsys):
    settings.MEDIA_ROOT = tmp_path / "media"
    uploads = {
        "photo": ("My Holiday Photo-2024 alice.jpg", small_jpeg()),
        "photo again": ("My Holiday Photo-2024 alice.jpg", small_jpeg()),
        "voice": ("grandma-voice-private.wav", _tone()),
        "melody": ("secret-song-draft.wav", _tone(5.0, 32000)),
    }
    for key in ("photo", "photo again"):
        name, data = uploads[key]
        response = alice_client.post("/emotion/", {"media": SimpleUploadedFile(name, data, "image/jpeg")})
        assert response.status_code == 302, response.content[-500:]
    name, data = uploads["voice"]
    response = alice_client.post(reverse("voicechat:speakers"), {
        "name": "Grandma", "transcript": "hello there", "consent": "on",
        "reference": SimpleUploadedFile(name, data, "audio/wav")})
    assert response.status_code == 302, response.content[-500:]
    name, data = uploads["melody"]
    response = alice_client.post("/music/", {
        "emotion": "happy", "engine": "offline", "duration": "5", "top_k": "250", "top_p": "0", "temperature": "1",
        "cfg_coef": "3", "decoder": "default", "melody": SimpleUploadedFile(name, data, "audio/wav")})
    assert response.status_code == 302, response.content[-500:]
    # A real worker renders the music: its outputs are stored files too.
    worker = run_worker_burst(env={"MEDIA_ROOT": str(settings.MEDIA_ROOT)}, timeout=300)
    generation = MusicGeneration.objects.get(user=user)
    assert generation.status == "succeeded", worker.stdout[-3000:] + worker.stderr[-3000:]

    fields = [r.media for r in EmotionReading.objects.filter(user=user)]
    fields += [s.reference for s in Speaker.objects.filter(user=user)]
    fields += [f for f in (generation.melody, generation.audio, generation.audio_preview, generation.video) if f]
    names = [f.name for f in fields]
    on_disk = [p for p in Path(settings.MEDIA_ROOT).rglob("*") if p.is_file()]
    parts = set().union(*(_name_parts(n) for n, _ in uploads.values()))
    leaking = [n for n in names + [str(p) for p in on_disk] if any(part in Path(n).name.lower() for part in parts)]
    not_random = [p.name for p in on_disk if not RANDOM_NAME.fullmatch(p.name)]
    assert len(names) == 6 and len(set(names)) == len(names)  # the same upload twice got two names
    assert sorted(Path(settings.MEDIA_ROOT, n) for n in names) == sorted(on_disk)  # nothing else left on disk
    assert leaking == [] and not_random == []

    served = 0
    for field in fields:
        response = alice_client.get(field.url)
        _assert_safe_response(response, field.name)
        served += 1
    for kind in ("audio", "audio_preview"):
        response = alice_client.get(reverse("music:file", args=[generation.pk, kind]))
        _assert_safe_response(response, kind)
        served += 1
    bits = math.log2(16) * 32
    with capsys.disabled():
        print(f"\ndeploy: media names: {len(on_disk)} stored files, all {bits:.0f}-bit random, "
              f"{len(leaking)} contain part of the upload name; served with nosniff+sandbox: {served}/{served}")


HOSTILE_TYPES = [".html", ".htm", ".svg", ".xhtml", ".xml", ".js"]


@pytest.mark.django_db
@pytest.mark.parametrize("suffix", HOSTILE_TYPES)
def test_active_content_in_storage_is_never_served_as_a_page(alice_client, user, settings, tmp_path, suffix):
    """Even a file of a dangerous type in storage (older data, a bug) is only a download."""
    settings.MEDIA_ROOT = tmp_path
    speaker = Speaker(user=user, name="v", transcript="t")
    speaker.reference.save(f"x{suffix}", ContentFile(b"<svg onload=alert(1)><script>alert(1)</script></svg>"))
    generation = MusicGeneration.objects.create(user=user, status="succeeded")
    generation.audio.save(f"y{suffix}", ContentFile(b"<html><script>alert(1)</script></html>"))
    for url in (speaker.reference.url, reverse("music:file", args=[generation.pk, "audio"])):
        response = alice_client.get(url)
        _assert_safe_response(response, url)
        assert response["Content-Type"] == "application/octet-stream"
        assert response["Content-Disposition"].startswith("attachment")


@pytest.mark.django_db
def test_html_and_svg_uploads_are_refused_and_nothing_is_stored(alice_client, user, settings, tmp_path, capsys):
    settings.MEDIA_ROOT = tmp_path
    corpus = [c for c in image_corpus() if c[0] in ("html", "svg with script")]
    corpus += [("svg as voice", "voice.svg", b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>'),
               ("html as melody", "tune.html", b"<!doctype html><script>alert(1)</script>")]
    refused = 0
    for label, name, data in corpus:
        emotion = alice_client.post("/emotion/", {"media": SimpleUploadedFile(name, data, "text/html")})
        voice = alice_client.post(reverse("voicechat:speakers"), {
            "name": "x", "transcript": "x", "consent": "on", "reference": SimpleUploadedFile(name, data, "text/html")})
        music = alice_client.post("/music/", {
            "emotion": "happy", "engine": "offline", "duration": "5", "top_k": "250", "top_p": "0", "temperature": "1",
            "cfg_coef": "3", "decoder": "default", "melody": SimpleUploadedFile(name, data, "text/html")})
        assert emotion.status_code == 400 and "neither a photo" in emotion.content.decode(), label
        for page in (voice, music):  # refused by its name (no audio extension) or, failing that, by its content
            text = page.content.decode()
            assert page.status_code == 400 and ("audio extension" in text or "could not be read as audio" in text), label
        refused += 3
    assert not EmotionReading.objects.exists() and not Speaker.objects.exists()
    assert not MusicGeneration.objects.exists()
    assert [p for p in Path(tmp_path).rglob("*") if p.is_file()] == []
    with capsys.disabled():
        print(f"\ndeploy: html/svg uploads refused: {refused}/{refused}, stored: 0")


# --- the permission table still guards new routes -----------------------------------------------


def test_a_route_missing_from_the_permission_table_fails(settings):
    settings.ROOT_URLCONF = "tests.security.unlisted_urls"
    names = [name for _pattern, name in _walk(get_resolver().url_patterns)]
    assert "unlisted" in names
    with pytest.raises(AssertionError, match="'unlisted' is not in the permission table"):
        for name in names:
            _access(name)
