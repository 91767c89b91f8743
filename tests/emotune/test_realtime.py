import pytest
from asgiref.sync import sync_to_async

from emotune import realtime
from tests.helpers import session_cookie, ws_client

pytestmark = pytest.mark.django_db(transaction=True)


async def test_anonymous_socket_is_refused():
    communicator = ws_client("/ws/events/")
    connected, code = await communicator.connect()
    assert not connected and code == 4401


async def test_foreign_origin_is_refused(make_user):
    user = await sync_to_async(make_user)("alice")
    communicator = ws_client("/ws/events/", cookie=await sync_to_async(session_cookie)(user), origin="http://evil.example")
    connected, _ = await communicator.connect()
    assert not connected


async def test_events_reach_only_their_user(make_user):
    alice, bob = await sync_to_async(make_user)("alice"), await sync_to_async(make_user)("bob")
    a = ws_client("/ws/events/", cookie=await sync_to_async(session_cookie)(alice))
    b = ws_client("/ws/events/", cookie=await sync_to_async(session_cookie)(bob))
    assert (await a.connect())[0] and (await b.connect())[0]
    await realtime.asend_to_user(alice.pk, {"type": "hello", "n": 1})
    assert await a.receive_json_from(timeout=5) == {"type": "hello", "n": 1}
    assert await b.receive_nothing(timeout=0.3)
    await a.send_json_to({"type": "ping"})
    assert await a.receive_json_from(timeout=5) == {"type": "pong"}
    await a.disconnect()
    await b.disconnect()


async def test_deactivated_user_socket_is_closed(make_user):
    from accounts.services import user_deactivate

    user = await sync_to_async(make_user)("alice")
    communicator = ws_client("/ws/events/", cookie=await sync_to_async(session_cookie)(user))
    assert (await communicator.connect())[0]
    await sync_to_async(user_deactivate)(user=user)
    output = await communicator.receive_output(timeout=5)
    assert output == {"type": "websocket.close", "code": 4403}


@pytest.mark.parametrize(("language", "message"), [
    ("zh-hans", "文本帧必须是 JSON 对象。"),
    (None, "Text frames must be JSON objects."),
])
async def test_socket_errors_speak_the_page_language(make_user, language, message):
    user = await sync_to_async(make_user)("alice")
    socket = ws_client("/ws/events/", cookie=await sync_to_async(session_cookie)(user), language=language)
    assert (await socket.connect())[0]
    await socket.send_to(text_data="{not json")
    event = await socket.receive_json_from(timeout=5)
    assert event["type"] == "error" and event["message"] == message
    await socket.disconnect()
