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

from accounts.services import token_create, token_revoke
from emotion.models import EmotionReading
from music.models import Journey, MusicGeneration
from ops.models import Event, SystemLog
from tests.helpers import session_cookie, ws_client
from voicechat.models import Conversation, Speaker

PUBLIC, LOGIN, OWNER, OWNER_OR_STAFF, STAFF, TOKEN = "public", "login", "owner", "owner+staff", "staff", "token"

# Route name (namespace:name) → who may use it. Admin and django-rq routes are staff-only as a family.
ROUTES = {
    "home": LOGIN, "favicon": PUBLIC, "manifest": PUBLIC,
    "accounts:signup": PUBLIC, "accounts:login": PUBLIC, "accounts:logout": PUBLIC,
    "accounts:password_change": LOGIN, "accounts:password_done": LOGIN,
    "accounts:profile": LOGIN, "accounts:preferences": LOGIN,
    "accounts:token_create": LOGIN, "accounts:token_revoke": OWNER,
    "set_language": PUBLIC, "healthz": PUBLIC, "readyz": PUBLIC, "metrics": TOKEN,
    "emotion:index": LOGIN, "emotion:history": LOGIN, "emotion:warmup": LOGIN, "emotion:detail": OWNER,
    "emotion:correct": OWNER,
    "music:studio": LOGIN, "music:history": LOGIN, "music:detail": OWNER, "music:status": OWNER,
    "music:cancel": OWNER, "music:feedback": OWNER, "music:file": OWNER,
    "music:journey_new": LOGIN, "music:mood": LOGIN, "music:journey": OWNER, "music:journey_status": OWNER,
    "music:journey_cancel": OWNER, "music:journey_checkin": OWNER, "music:journey_rate": OWNER, "music:journey_file": OWNER,
    "voicechat:index": LOGIN, "voicechat:speakers": LOGIN, "voicechat:new": LOGIN,
    "voicechat:conversation": OWNER, "voicechat:rename": OWNER, "voicechat:clear": OWNER, "voicechat:delete": OWNER,
    "voicechat:speaker_activate": OWNER, "voicechat:speaker_rename": OWNER, "voicechat:speaker_delete": OWNER,
    "media": OWNER_OR_STAFF,  # staff see media previews in the admin
    "admin:login": PUBLIC, "admin:logout": PUBLIC,
    "ops:dashboard": STAFF, "ops:dashboard_json": STAFF,
}
# The HTTP API (emotune/api.py): a token or the session; objects reached by id are the owner's.
API_ROUTES = {
    "api:openapi-json": PUBLIC, "api:openapi-view": PUBLIC, "api:api-root": PUBLIC,
    "openai:openapi-json": PUBLIC, "openai:openapi-view": PUBLIC, "openai:api-root": PUBLIC,
    "api:me": LOGIN, "api:preferences_read": LOGIN, "api:preferences_update": LOGIN,
    "api:readings": LOGIN, "api:reading_new": LOGIN, "api:reading_detail": OWNER, "api:reading_media": OWNER,
    "api:generations": LOGIN, "api:generation_new": LOGIN, "api:generation_detail": OWNER,
    "api:generation_cancel": OWNER, "api:generation_file": OWNER, "api:feedback_read": OWNER, "api:feedback_put": OWNER,
    "api:conversations": LOGIN, "api:conversation_new": LOGIN, "api:conversation_detail": OWNER,
    "api:conversation_rename": OWNER, "api:conversation_delete": OWNER, "api:conversation_clear": OWNER,
    "api:messages": OWNER, "api:turn": OWNER,
    "api:speakers": LOGIN, "api:speaker_new": LOGIN, "api:speaker_activate": OWNER, "api:speaker_delete": OWNER,
    "openai:audio_speech": LOGIN, "openai:audio_transcriptions": LOGIN, "openai:audio_voices": LOGIN,
    "openai:models_list": LOGIN, "openai:models_retrieve": LOGIN,
}
ROUTES.update(API_ROUTES)
# Which of the owner's objects an API route's {pk} names (by a word of its name).
API_OBJECT = {"reading": "reading", "generation": "generation", "feedback": "generation", "conversation": "conversation",
              "messages": "conversation", "turn": "conversation", "speaker": "speaker"}
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
        "emotion": objects["reading"].pk,
        "music": objects["journey" if ":journey" in name else "generation"].pk,
        "voicechat": objects["speaker" if ":speaker_" in name else "conversation"].pk,
        "accounts": objects["token"].pk if "token" in objects else 0,
    }.get(app, objects["log"].pk)
    if app in ("api", "openai"):
        pk = next((objects[key].pk for word, key in API_OBJECT.items() if word in name), 0)
    values = {
        "pk": pk, "object_id": objects["log"].pk if "systemlog" in name else pk, "kind": "audio",
        "path": objects["reading"].media.name, "queue_index": 0, "job_id": objects["job_id"], "result_id": "none",
        "key": "none", "token": "none", "scheduler_index": 0, "connection_index": 0, "scheduler_name": "none",
        "cron_job_name": "none", "content_type_id": objects["content_type_id"], "app_label": "emotion",
        "id": objects["reading"].user_id, "url": "no-such-page/", "model": "whisper-1",
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
    journey = Journey(user=owner, status="succeeded", start_emotion="sad", target="calm")
    journey.audio.save("j.wav", ContentFile(b"RIFF....WAVE"), save=True)
    objects = {
        "reading": reading, "generation": generation, "journey": journey,
        "conversation": Conversation.objects.create(user=owner, title="c"),
        "speaker": Speaker.objects.create(user=owner, name="v", reference="speakers/v.wav", transcript="t"),
        "log": SystemLog.objects.create(action="x"), "event": Event.objects.create(kind="x"),
        "token": token_create(user=owner, name="owner's")[0],
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
    assert not Journey.objects.get(pk=world["objects"]["journey"].pk).checkins.exclude(user=world["owner"]).exists()


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


def _api_operations():
    """(method, path template, route name) for every operation in the API schemas."""
    from emotune.api import api, openai_api

    names = {name for name in API_ROUTES if API_ROUTES[name] != PUBLIC}
    found = []
    for schema in (api.get_openapi_schema(), openai_api.get_openapi_schema()):
        for path, operations in schema["paths"].items():
            for method, operation in operations.items():
                namespace = "openai" if path.startswith("/v1/") else "api"
                name = next((n for n in names if n.startswith(namespace + ":")
                             and operation["operationId"].endswith("_api_" + n.split(":", 1)[1])), None)
                assert name, f"{method} {path} ({operation['operationId']}) is not in API_ROUTES"
                found.append((method.upper(), path, name))
    return found


@pytest.mark.django_db
def test_every_api_operation_with_no_revoked_another_users_and_the_owners_token(world, capsys):
    """Each API operation, with every method it has: no token and a revoked token get 401, another
    user's token gets 404 on the owner's objects, the owner is never answered with a server error."""
    owner, other = world["owner"], world["other"]
    revoked_token, revoked = token_create(user=owner, name="old")
    token_revoke(token=revoked_token)
    tokens = {"no token": None, "revoked token": revoked, "other's token": token_create(user=other, name="o")[1],
              "owner's token": token_create(user=owner, name="mine")[1]}
    operations = _api_operations()
    # The owner goes last and deletes last: its DELETEs would leave the others nothing to be refused.
    operations.sort(key=lambda op: op[0] == "DELETE")
    client = Client(raise_request_exception=False)
    checked, problems = 0, []
    for identity, secret in tokens.items():
        if identity == "owner's token":
            continue
        for method, path, name in operations:
            url = _concrete(path.replace("{", "<").replace("}", ">"), name, world["objects"])
            headers = {"HTTP_AUTHORIZATION": f"Bearer {secret}"} if secret else {}
            response = client.generic(method, url, data=b"{}", content_type="application/json", **headers)
            checked += 1
            status, access = response.status_code, API_ROUTES[name]
            if status >= 500:
                problems.append(f"{identity} {method} {url}: server error {status}")
            elif identity in ("no token", "revoked token") and status != 401:
                problems.append(f"{identity} {method} {url}: {status}, not 401")
            elif identity == "other's token" and access == OWNER and status != 404:
                problems.append(f"{identity} {method} {url}: {status} on another user's object")
            if status < 500 and status != 204:
                assert "error" in response.json() or status < 400, (method, url, response.content[:300])
    # Nothing the others did changed the owner's objects.
    objects = world["objects"]
    assert Conversation.objects.filter(pk=objects["conversation"].pk).exists()
    assert Speaker.objects.filter(pk=objects["speaker"].pk).exists()
    assert MusicGeneration.objects.get(pk=objects["generation"].pk).status == "succeeded"
    owner_secret = tokens["owner's token"]
    for method, path, name in operations:
        url = _concrete(path.replace("{", "<").replace("}", ">"), name, world["objects"])
        response = client.generic(method, url, data=b"{}", content_type="application/json",
                                  HTTP_AUTHORIZATION=f"Bearer {owner_secret}")
        checked += 1
        # The owner reaches every route (only a rating not given yet is not found); bodies of {} may be invalid.
        if response.status_code >= 500 or response.status_code in (401, 403) \
                or (response.status_code == 404 and name != "api:feedback_read"):
            problems.append(f"owner {method} {url}: {response.status_code} {response.content[:200]!r}")
    with capsys.disabled():
        print(f"\npermissions (API): {len(operations)} operations × {len(tokens)} tokens: {checked} calls, "
              f"{len(problems)} unexpected")
    assert problems == [], "\n".join(problems)
