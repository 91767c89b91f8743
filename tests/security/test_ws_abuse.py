"""Websocket abuse against a real daphne process (issue #7 item 3).

Each case opens an abusive socket (oversized frames, malformed JSON, unknown
types, audio before ``start``, a message flood, a reader that never reads) while
a neighbour, another user on /ws/events/, pings in a loop. Each case must end
with the abusive socket closed with its documented code (emotune.websocket),
the server's RSS grown by less than ``RSS_BOUND_MB``, and the neighbour's p95
round trip below ``neighbour_bound``. Figure printed per case:

    ws abuse: <case>: closed <code>, RSS +X MB, neighbour p95 Y ms (idle Z ms)

Bounds. RSS: the most the server may hold for one socket is one frame at
daphne's cap (1 MiB) plus its decoded copy, and for a slow reader Twisted's
64 KiB write buffer plus what channels_redis buffers for a consumer that has
stopped (its ``capacity``, 1000 messages: 4 MB of the 4 KiB events used here);
16 MB leaves room for allocator noise, while without the guard the server kept
the slow reader open and held what it was sent (20 MB). Neighbour:
ten times its idle p95, at least 500 ms: on two shared cores the neighbour
shares the one event loop with the abuse, so it slows, but must not stall.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import socket
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import pytest
import websockets

from emotune.websocket import CLOSE_BAD_FRAMES, CLOSE_RATE, CLOSE_SLOW_READER, CLOSE_TOO_LARGE
from tests import helpers
from tests.helpers import ROOT, session_cookie
from voicechat.models import Conversation

pytestmark = [pytest.mark.django_db(transaction=True)]

RSS_BOUND_MB = 16
SEND_TIMEOUT_S = 1.5  # WS_SEND_TIMEOUT for this server: a slow reader is closed after it
DAPHNE_CAP = 1024 * 1024  # daphne's default --websocket-max-message-size


@dataclass
class Server:
    port: int
    proc: subprocess.Popen
    log: Path

    def rss_mb(self) -> float:
        for line in Path(f"/proc/{self.proc.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
        raise AssertionError("no VmRSS")

    def url(self, path: str) -> str:
        return f"ws://127.0.0.1:{self.port}{path}"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def server(django_db_setup, django_db_blocker, llm, tmp_path_factory):
    port, log = _free_port(), tmp_path_factory.mktemp("daphne") / "daphne.log"
    with django_db_blocker.unblock():
        env = helpers.child_env()
    env.update(
        DEBUG="1", ALLOWED_HOSTS="127.0.0.1,localhost", EMOTUNE_HTTPS="0",
        OPENAI_BASE_URL=llm.base_url, OPENAI_API_KEY="k", WS_SEND_TIMEOUT=str(SEND_TIMEOUT_S),
    )
    out = open(log, "w")
    proc = subprocess.Popen(
        [sys.executable, "-m", "daphne", "-b", "127.0.0.1", "-p", str(port), "emotune.asgi:application"],
        cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT,  # a file: a full pipe would block daphne
    )
    deadline = time.monotonic() + 30
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            break
        except OSError:
            if time.monotonic() > deadline or proc.poll() is not None:
                proc.kill()
                raise AssertionError(log.read_text()) from None
            time.sleep(0.2)
    yield Server(port, proc, log)
    proc.terminate()
    proc.wait(timeout=10)
    out.close()
    text = log.read_text()
    assert "Traceback" not in text, text[-5000:]


def connect(server: Server, path: str, cookie: str, **kwargs):
    headers = {"Cookie": f"sessionid={cookie}", "Origin": f"http://localhost:{server.port}"}
    return websockets.connect(
        server.url(path), additional_headers=headers, max_size=None, ping_interval=None,
        compression=None, open_timeout=10, close_timeout=2, **kwargs,
    )


async def close_code(ws, timeout: float = 10) -> tuple[int | None, list]:
    """Read (and keep) everything until the server closes; the close code it sent."""
    received = []
    try:
        async with asyncio.timeout(timeout):
            async for frame in ws:
                received.append(json.loads(frame) if isinstance(frame, str) else len(frame))
    except TimeoutError:
        return None, received
    except websockets.ConnectionClosed:
        pass
    return (ws.close_code if ws.close_code is not None else 1006), received


async def send_all(ws, frames) -> None:
    """Send until the server closes on us (a closing server is the expected end)."""
    try:
        for frame in frames:
            await ws.send(frame)
    except websockets.ConnectionClosed:
        pass


class Neighbour:
    """Another user's /ws/events/ socket: ping → pong round trips, in a loop."""

    def __init__(self, server: Server, cookie: str) -> None:
        self.server, self.cookie, self.rtts, self.errors = server, cookie, [], 0

    async def run(self, stop: asyncio.Event, *, count: int | None = None) -> list[float]:
        rtts = []
        async with connect(self.server, "/ws/events/", self.cookie) as ws:
            while not stop.is_set() and (count is None or len(rtts) < count):
                t0 = time.perf_counter()
                await ws.send('{"type": "ping"}')
                assert json.loads(await asyncio.wait_for(ws.recv(), 10)) == {"type": "pong"}
                rtts.append((time.perf_counter() - t0) * 1000)
                await asyncio.sleep(0.06)  # under the events socket's own rate cap (20/s)
        return rtts


def p95(values: list[float]) -> float:
    return statistics.quantiles(values, n=20)[-1] if len(values) > 1 else values[0]


async def abuse_case(server: Server, name: str, cookies: tuple[str, str], path: str, abuse) -> tuple[int | None, list]:
    """Run ``abuse()`` (returns (close code, frames received)) beside a pinging neighbour; check the bounds.

    A well-behaved socket on ``path`` goes first, so that lazy imports are not counted as growth.
    """
    async with connect(server, path, cookies[0]) as ws:
        await ws.send('{"type": "ping"}')
        assert json.loads(await asyncio.wait_for(ws.recv(), 10)) == {"type": "pong"}
    neighbour = Neighbour(server, cookies[1])
    idle = await neighbour.run(asyncio.Event(), count=30)
    rss_before = server.rss_mb()
    stop = asyncio.Event()
    busy = asyncio.create_task(neighbour.run(stop))
    try:
        code, received = await abuse()
        await asyncio.sleep(0.3)  # let the server release what the socket held
    finally:
        stop.set()
    during = await busy
    rss_after = server.rss_mb()
    grown = rss_after - rss_before
    bound = max(10 * p95(idle), 500.0)
    print(
        f"ws abuse: {name}: closed {code}, RSS {grown:+.1f} MB, neighbour p95 {p95(during):.1f} ms "
        f"(idle {p95(idle):.1f} ms; p50 {statistics.median(during):.1f} vs {statistics.median(idle):.1f} ms, "
        f"{len(during)} pings; RSS {rss_before:.0f} -> {rss_after:.0f} MB)"
    )
    assert grown < RSS_BOUND_MB, f"{name}: RSS grew {grown:.1f} MB"
    assert p95(during) < bound, f"{name}: neighbour p95 {p95(during):.0f} ms (idle {p95(idle):.0f} ms)"
    return code, received


@pytest.fixture
def cookies(user, other_user):
    return session_cookie(user), session_cookie(other_user)


@pytest.fixture
def voice_path(user):
    return f"/ws/voicechat/{Conversation.objects.create(user=user).pk}/"


START = json.dumps({"type": "start", "sample_rate": 16000, "format": "pcm16"})


def _errors(received: list) -> list[str]:
    return [f["code"] for f in received if isinstance(f, dict) and f.get("type") == "error"]


# --- oversized frames ---------------------------------------------------------------


@pytest.mark.parametrize("kind", ["text", "binary"])
async def test_oversized_frame_closes_4413(server, cookies, voice_path, kind):
    frame = json.dumps({"type": "text", "text": "x" * 200_000}) if kind == "text" else b"\x00" * 200_000

    async def abuse():
        async with connect(server, voice_path, cookies[0]) as ws:
            await send_all(ws, [frame])
            return await close_code(ws)

    code, received = await abuse_case(server, f"oversized {kind} (200 kB)", cookies, voice_path, abuse)
    assert code == CLOSE_TOO_LARGE and _errors(received) == ["too_large"]


async def test_frame_above_daphne_cap_drops_the_connection(server, cookies, voice_path):
    async def abuse():
        async with connect(server, voice_path, cookies[0]) as ws:
            await send_all(ws, [b"\x00" * (2 * DAPHNE_CAP)] * 3)
            return await close_code(ws)

    code, _ = await abuse_case(server, "binary above daphne cap (2 MiB x3)", cookies, voice_path, abuse)
    assert code == 1006  # autobahn drops the TCP connection: no close frame (emotune.websocket)


async def test_events_socket_oversized_frame_closes_4413(server, cookies):
    async def abuse():
        async with connect(server, "/ws/events/", cookies[0]) as ws:
            await send_all(ws, [json.dumps({"type": "ping", "pad": "x" * 20_000})])
            return await close_code(ws)

    code, received = await abuse_case(server, "events oversized (20 kB)", cookies, "/ws/events/", abuse)
    assert code == CLOSE_TOO_LARGE and _errors(received) == ["too_large"]


# --- bad frames: each gets an error; a client that sends nothing else is closed -------------


BAD_FRAMES = {
    "malformed json": ("voice", "{not json", "bad_json"),
    "unknown type": ("voice", '{"type": "dance"}', "bad_type"),
    "start with a bad sample rate": ("voice", '{"type": "start", "sample_rate": "fast"}', "bad_format"),
    "binary before start": ("voice", b"\x00\x00" * 320, "not_started"),
    "events malformed json": ("events", "[[[", "bad_json"),
    "events binary": ("events", b"\x01" * 64, "bad_type"),
}


@pytest.mark.parametrize("case", list(BAD_FRAMES))
async def test_bad_frames_get_errors_then_close_4400(server, cookies, voice_path, case, settings):
    socket_kind, frame, error = BAD_FRAMES[case]
    path = voice_path if socket_kind == "voice" else "/ws/events/"

    async def abuse():
        async with connect(server, path, cookies[0]) as ws:
            await ws.send(frame)  # one bad frame: an error, and the session stays usable
            assert json.loads(await asyncio.wait_for(ws.recv(), 5))["code"] == error
            await ws.send('{"type": "ping"}')
            assert json.loads(await asyncio.wait_for(ws.recv(), 5)) == {"type": "pong"}
            await send_all(ws, [frame] * 200)
            return await close_code(ws)

    code, received = await abuse_case(server, case, cookies, path, abuse)
    assert code == CLOSE_BAD_FRAMES
    assert set(_errors(received)) == {error} and len(_errors(received)) == settings.WS_MAX_BAD_FRAMES


# --- floods ---------------------------------------------------------------------------


@pytest.mark.parametrize("socket_kind", ["voice", "events"])
async def test_flood_above_rate_cap_closes_4429(server, cookies, voice_path, socket_kind):
    path = voice_path if socket_kind == "voice" else "/ws/events/"

    async def abuse():
        async with connect(server, path, cookies[0]) as ws:
            await send_all(ws, ['{"type": "ping"}'] * 5000)
            return await close_code(ws)

    code, received = await abuse_case(server, f"{socket_kind} flood (5000 pings)", cookies, path, abuse)
    assert code == CLOSE_RATE and _errors(received)[-1] == "rate_limited"
    assert len(received) < 1000  # the flood was cut off, not answered


# --- a reader that never reads -------------------------------------------------------


def _slow_socket(server: Server) -> socket.socket:
    """A client socket with a small receive window, so the server's writes back up quickly."""
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 16 * 1024)
    sock.connect(("127.0.0.1", server.port))
    return sock


async def server_gave_up(server: Server, path: str, seen: int, timeout: float = 20) -> None:
    """Wait for the server's log line saying it closed ``path`` for not reading."""
    line = f"websocket {path}: client stopped reading, closing {CLOSE_SLOW_READER}"
    deadline = time.monotonic() + timeout
    while server.log.read_text().count(line) <= seen:
        assert time.monotonic() < deadline, f"the server kept the slow reader open (RSS {server.rss_mb():.0f} MB)"
        await asyncio.sleep(0.05)


def _gave_up_count(server: Server, path: str) -> int:
    return server.log.read_text().count(f"websocket {path}: client stopped reading")


async def test_events_slow_reader_closed_4408(server, cookies, user):
    from emotune.realtime import asend_to_user

    async def abuse():
        seen = _gave_up_count(server, "/ws/events/")
        async with connect(server, "/ws/events/", cookies[0], sock=_slow_socket(server), max_queue=1) as ws:
            event = {"type": "job.progress", "pad": "x" * 4096}

            async def push():  # 20 MB of job events to a tab that never reads
                for _ in range(5000):
                    await asend_to_user(user.pk, event)

            pushing = asyncio.create_task(push())
            await server_gave_up(server, "/ws/events/", seen)
            # Stop pushing before reading: on a busy machine the push loop would starve the
            # reads past the server's close-handshake timeout, and the drop would read as 1006.
            pushing.cancel()
            result = await close_code(ws)  # reading now, within the close handshake, shows the code
            with contextlib.suppress(asyncio.CancelledError):
                await pushing
            return result

    code, received = await abuse_case(server, "events slow reader (20 MB pushed)", cookies, "/ws/events/", abuse)
    assert code == CLOSE_SLOW_READER
    assert len(received) < 1000  # most of it was never buffered for it


@pytest.fixture
def espeak_worker():
    proc = helpers.start_worker("gpu", env={"VOICE_TTS": "espeak"})
    yield proc
    proc.terminate()
    proc.wait(timeout=10)


@pytest.mark.long
async def test_voice_slow_reader_closed_4408(server, cookies, voice_path, llm, espeak_worker, settings):
    # A long spoken answer (minutes of audio) to a client that asked and never reads; the LLM
    # would go on for 2 MB, the answer cap stops it.
    sentence = "Let us breathe slowly together and notice how the shoulders soften a little more. "
    llm.script = [{"tokens": ["Hello there."]}, {"tokens": [sentence] * 25_000}]
    path = voice_path
    async with connect(server, path, cookies[0]) as ws:  # one ordinary turn first: LLM client and TTS warm
        await ws.send(json.dumps({"type": "text", "text": "hello"}))
        async with asyncio.timeout(60):
            while not (isinstance(frame := await ws.recv(), str) and json.loads(frame)["type"] == "turn.metrics"):
                pass

    async def abuse():
        seen = _gave_up_count(server, path)
        async with connect(server, path, cookies[0], sock=_slow_socket(server), max_queue=1) as ws:
            await ws.send(json.dumps({"type": "text", "text": "tell me everything"}))
            await server_gave_up(server, path, seen, timeout=60)
            return await close_code(ws)

    code, received = await abuse_case(server, "voice slow reader (spoken answer)", cookies, path, abuse)
    assert code == CLOSE_SLOW_READER
    tokens = "".join(f["text"] for f in received if isinstance(f, dict) and f.get("type") == "llm.token")
    assert len(tokens) <= settings.VOICE_MAX_ANSWER_CHARS
