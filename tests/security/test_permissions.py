"""Every URL and websocket route, called as anonymous, owner, another user and staff.

The table below classifies each route; a route missing from it fails the test,
so a new page cannot ship without a decision about who may reach it.
Figure printed: routes × identities × methods checked, unexpected successes.
"""

from __future__ import annotations

import re

import pytest
from asgiref.sync import sync_to_async
from django.core.files.base import ContentFile
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver

from emotion.models import EmotionReading
from music.models import MusicGeneration
from ops.models import Event, SystemLog
from tests.helpers import session_cookie, ws_client
from voicechat.models import Conversation, Speaker

PUBLIC, LOGIN, OWNER, OWNER_OR_STAFF, STAFF, TOKEN = "public", "login", "owner", "owner+staff", "staff", "token"

# Route name (namespace:name) → who may use it. Admin and django-rq routes are staff-only as a family.
ROUTES = {
    "home": LOGIN,
    "accounts:signup": PUBLIC, "accounts:login": PUBLIC, "accounts:logout": PUBLIC,
    "accounts:password_change": LOGIN, "accounts:password_done": LOGIN,
    "accounts:profile": LOGIN, "accounts:preferences": LOGIN,
    "set_language": PUBLIC, "healthz": PUBLIC, "readyz": PUBLIC, "metrics": TOKEN,
    "emotion:index": LOGIN, "emotion:history": LOGIN, "emotion:warmup": LOGIN, "emotion:detail": OWNER,
    "music:studio": LOGIN, "music:history": LOGIN, "music:detail": OWNER, "music:status": OWNER,
    "music:cancel": OWNER, "music:feedback": OWNER, "music:file": OWNER,
    "voicechat:index": LOGIN, "voicechat:speakers": LOGIN, "voicechat:new": LOGIN,
    "voicechat:conversation": OWNER, "voicechat:rename": OWNER, "voicechat:clear": OWNER, "voicechat:delete": OWNER,
    "voicechat:speaker_activate": OWNER, "voicechat:speaker_rename": OWNER, "voicechat:speaker_delete": OWNER,
    "media": OWNER_OR_STAFF,  # staff see media previews in the admin
    "admin:login": PUBLIC, "admin:logout": PUBLIC,
    "ops:dashboard": STAFF, "ops:dashboard_json": STAFF,
}
FAMILIES = {"admin:": STAFF, "django_rq:": STAFF}
WEBSOCKETS = {"/ws/events/": LOGIN, "/ws/voicechat/{conversation}/": OWNER}

# Routes that staff may use to change things: not POSTed by staff here, or later calls would break.
UNSAFE_FOR_STAFF = re.compile(r"(delete|clear|empty|requeue|enqueue|stop|actions|confirm|password)")
# django-rq's own staff pages answer 500 to made-up worker/scheduler/dashboard ids; staff only, not ours.
THIRD_PARTY = ("django_rq:", "admin:django_rq_")


def _walk(patterns, prefix="", namespace=""):
    for entry in patterns:
        if isinstance(entry, URLResolver):
            ns = f"{namespace}{entry.namespace}:" if entry.namespace else namespace
            yield from _walk(entry.url_patterns, prefix + str(entry.pattern), ns)
        elif isinstance(entry, URLPattern):
            yield prefix + str(entry.pattern), f"{namespace}{entry.name or ''}"


def _access(name: str) -> str:
    if name in ROUTES:
        return ROUTES[name]
    for family, access in FAMILIES.items():
        if name.startswith(family):
            return access
    raise AssertionError(f"route {name!r} is not in the permission table of tests/security/test_permissions.py")


def _concrete(pattern: str, name: str, objects: dict) -> str:
    """Fill a route's parameters with the owner's objects (or harmless values)."""
    app = name.split(":")[0]
    pk = {
        "emotion": objects["reading"].pk, "music": objects["generation"].pk,
        "voicechat": objects["speaker" if ":speaker_" in name else "conversation"].pk,
    }.get(app, objects["log"].pk)
    values = {
        "pk": pk, "object_id": objects["log"].pk if "systemlog" in name else pk, "kind": "audio",
        "path": objects["reading"].media.name, "queue_index": 0, "job_id": objects["job_id"], "result_id": "none",
        "key": "none", "token": "none", "scheduler_index": 0, "connection_index": 0, "scheduler_name": "none",
        "cron_job_name": "none", "content_type_id": objects["content_type_id"], "app_label": "emotion",
        "id": objects["reading"].user_id, "url": "no-such-page/",
    }
    url = re.sub(r"<(?:\w+:)?(\w+)>", lambda m: str(values[m.group(1)]), pattern)
    url = re.sub(r"\(\?P<(\w+)>(?:[^()]|\([^)]*\))*\)\??", lambda m: str(values[m.group(1)]), url)
    return "/" + url.replace("^", "").replace("$", "").replace("/?", "/").replace("//", "/").lstrip("/")


@pytest.fixture
def world(make_user, settings):
    owner, other, staff = make_user("owner"), make_user("other"), make_user("staff", staff=True)
    reading = EmotionReading(user=owner, source="image", status="succeeded", emotion="happy")
    reading.media.save("p.jpg", ContentFile(b"\xff\xd8\xff\xe0 jpeg"), save=True)
    generation = MusicGeneration(user=owner, status="succeeded")
    generation.audio.save("a.wav", ContentFile(b"RIFF....WAVE"), save=True)
    objects = {
        "reading": reading, "generation": generation,
        "conversation": Conversation.objects.create(user=owner, title="c"),
        "speaker": Speaker.objects.create(user=owner, name="v", reference="speakers/v.wav", transcript="t"),
        "log": SystemLog.objects.create(action="x"), "event": Event.objects.create(kind="x"),
    }
    import django_rq

    # A real queue entry (never run) for the django-rq job pages.
    from rq import Queue

    objects["job_id"] = Queue("default", connection=django_rq.get_connection("default")).enqueue("builtins.print", "x").id
    from django.contrib.contenttypes.models import ContentType

    objects["content_type_id"] = ContentType.objects.get_for_model(SystemLog).pk
    settings.METRICS_TOKEN = "metrics-token-for-tests"
    return {"owner": owner, "other": other, "staff": staff, "objects": objects}


def _client(user) -> Client:
    client = Client(raise_request_exception=False)
    if user is not None:
        client.force_login(user)
    return client


def _verdict(access: str, identity: str, status: int, location: str) -> str | None:
    """None when the answer is what the identity deserves, else a description of the leak."""
    refused = status in (401, 403, 404, 405) or (status == 302 and "login" in location)
    if status >= 500:
        return f"server error {status}"
    if access == PUBLIC:
        return None
    if access == TOKEN:
        return None if refused or status == 401 else f"answered {status} without the token"
    if identity == "anonymous":
        return None if refused else f"anonymous got {status}"
    if access == LOGIN:
        return None
    if access == OWNER or access == OWNER_OR_STAFF:
        if identity == "owner" or (identity == "staff" and access == OWNER_OR_STAFF):
            return None
        return None if status in (404, 405) else f"{identity} got {status} on another user's object"
    if access == STAFF:
        if identity == "staff":
            return None
        return None if refused else f"{identity} got {status} on a staff page"
    raise AssertionError(access)


@pytest.mark.django_db
def test_every_route_for_every_identity(world, capsys):
    routes = list(_walk(get_resolver().url_patterns))
    # The owner goes last: its POSTs may delete the object the others were refused.
    identities = {"anonymous": None, "other": world["other"], "staff": world["staff"], "owner": world["owner"]}
    clients = {name: _client(user) for name, user in identities.items()}
    checked, problems = 0, []
    for pattern, name in routes:
        access = _access(name)
        url = _concrete(pattern, name, world["objects"])
        for identity, client in clients.items():
            for method in ("get", "post"):
                if identity == "staff" and method == "post" and (access == STAFF or UNSAFE_FOR_STAFF.search(url)):
                    continue  # staff may do these; doing them here would only break the next calls
                if identity != "anonymous" and "logout" in url:
                    continue  # signing out would turn the next calls into anonymous ones
                response = getattr(client, method)(url)
                checked += 1
                status = response.status_code
                if (name == "readyz" and status == 503) or (identity == "staff" and name.startswith(THIRD_PARTY) and status == 500):
                    continue  # not ready (no worker in this test) is a health answer, not an error
                problem = _verdict(access, identity, status, response.get("Location", ""))
                if problem:
                    problems.append(f"{method.upper()} {url} ({name}): {problem}")
    # The token endpoint with its token.
    ok = clients["anonymous"].get("/metrics", HTTP_AUTHORIZATION="Bearer metrics-token-for-tests")
    assert ok.status_code == 200
    with capsys.disabled():
        print(f"\npermissions: {len(routes)} routes × {len(identities)} identities: {checked} calls, {len(problems)} unexpected")
    assert problems == [], "\n".join(problems)
    # Nothing the others did changed the owner's objects.
    reading = world["objects"]["reading"]
    reading.refresh_from_db()
    assert reading.status == "succeeded"
    assert MusicGeneration.objects.get(pk=world["objects"]["generation"].pk).status == "succeeded"


@pytest.mark.django_db(transaction=True)
async def test_every_websocket_route_for_every_identity(make_user):
    from emotune.routing import websocket_urlpatterns
    from voicechat.routing import websocket_urlpatterns as voice_patterns

    declared = {re.sub(r"<int:\w+>", "{conversation}", str(p.pattern)) for p in websocket_urlpatterns + voice_patterns}
    assert declared == {p.lstrip("/") for p in WEBSOCKETS}, "a websocket route is missing from WEBSOCKETS"
    owner = await sync_to_async(make_user)("owner")
    other = await sync_to_async(make_user)("other")
    staff = await sync_to_async(make_user)("staff", staff=True)
    conversation = await sync_to_async(Conversation.objects.create)(user=owner, title="c")
    cookies = {"anonymous": None, "owner": owner, "other": other, "staff": staff}
    for identity, user in cookies.items():
        cookies[identity] = await sync_to_async(session_cookie)(user) if user else None
    checked = 0
    for template, access in WEBSOCKETS.items():
        path = template.format(conversation=conversation.pk)
        for identity, cookie in cookies.items():
            communicator = ws_client(path, cookie=cookie)
            connected, _ = await communicator.connect()
            checked += 1
            expected = identity != "anonymous" if access == LOGIN else identity == "owner"
            assert connected == expected, (path, identity)
            if connected:
                await communicator.disconnect()
    assert checked == len(WEBSOCKETS) * 4
