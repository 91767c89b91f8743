"""A real OpenAI-compatible HTTP server on loopback, scripted by the test.

    server = FakeLLM().start()
    server.script = [{"content": '{"a": 1}'}, {"status": 500}, {"hang": 5}, {"tokens": ["Hi", " there."]}]

Each request takes the next entry (the last one repeats). Entries:
- ``content``: a normal completion with this message text (non-stream) or
  streamed word by word when the client asks for ``stream``;
- ``tokens``: streamed pieces (SSE), with ``first_delay`` and ``interval`` seconds;
- ``status``: an HTTP error with that code;
- ``hang``: sleep that many seconds before answering (a timeout for the client).
Requests are kept in ``server.requests`` (parsed JSON bodies); each streamed answer's
timing in ``server.streams``: when its request was read and when each piece was
written (``time.monotonic()``), so a benchmark can tell the model's time from the client's.
"""

from __future__ import annotations

import json
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class _Server(ThreadingHTTPServer):
    def handle_error(self, request, client_address):
        if isinstance(sys.exc_info()[1], (ConnectionResetError, BrokenPipeError)):
            return  # a client closed its kept-alive connection: normal, not worth a traceback
        super().handle_error(request, client_address)


class FakeLLM:
    def __init__(self) -> None:
        self.script: list[dict] = [{"content": "{}"}]
        self.requests: list[dict] = []
        self.streams: list[dict] = []
        self.peers: list[tuple] = []  # the client's address per request: the same one means a kept-alive connection
        self._index = 0
        self._lock = threading.Lock()
        self.httpd: ThreadingHTTPServer | None = None

    @property
    def base_url(self) -> str:
        host, port = self.httpd.server_address[:2]
        return f"http://{host}:{port}/v1"

    def next_entry(self) -> dict:
        with self._lock:
            entry = self.script[min(self._index, len(self.script) - 1)]
            self._index += 1
            return entry

    def start(self) -> FakeLLM:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):  # keep test output quiet
                pass

            def do_POST(self):
                length = int(self.headers.get("Content-Length", 0))
                body = json.loads(self.rfile.read(length) or b"{}")
                self.received_at = time.monotonic()
                fake.requests.append(body)
                fake.peers.append(self.client_address)
                entry = fake.next_entry()
                if "hang" in entry:
                    time.sleep(entry["hang"])
                if "status" in entry:
                    payload = json.dumps({"error": {"message": "scripted failure", "type": "server_error"}}).encode()
                    self._send(entry["status"], payload, "application/json")
                    return
                if body.get("stream"):
                    tokens = entry.get("tokens") or [w + " " for w in entry.get("content", "").split(" ")]
                    self._stream(tokens, entry.get("first_delay", 0.0), entry.get("interval", 0.0), body.get("model", "m"))
                    return
                message = {"role": "assistant", "content": entry.get("content", "")}
                payload = json.dumps(
                    {
                        "id": "cmpl-test", "object": "chat.completion", "created": int(time.time()),
                        "model": body.get("model", "m"),
                        "choices": [{"index": 0, "message": message, "finish_reason": "stop"}],
                        "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2},
                    }
                ).encode()
                self._send(200, payload, "application/json")

            def _send(self, status, payload, content_type):
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def _stream(self, tokens, first_delay, interval, model):
                self.send_response(200)
                self.send_header("Content-Type", "text/event-stream")
                self.send_header("Cache-Control", "no-cache")
                # Chunked, on a connection kept open, as vLLM, llama.cpp or OpenAI's servers answer.
                self.send_header("Transfer-Encoding", "chunked")
                self.end_headers()
                time.sleep(first_delay)
                timing = {"received_at": self.received_at, "token_at": []}
                fake.streams.append(timing)
                try:
                    for i, token in enumerate(tokens):
                        if i:
                            time.sleep(interval)
                        chunk = {
                            "id": "cmpl-test", "object": "chat.completion.chunk", "created": int(time.time()), "model": model,
                            "choices": [{"index": 0, "delta": {"content": token}, "finish_reason": None}],
                        }
                        self._chunk(f"data: {json.dumps(chunk)}\n\n".encode())
                        timing["token_at"].append(time.monotonic())
                    self._chunk(b"data: [DONE]\n\n")
                    self._chunk(b"")
                except (BrokenPipeError, ConnectionResetError):
                    self.close_connection = True

            def _chunk(self, data: bytes) -> None:
                self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))
                self.wfile.flush()

        self.httpd = _Server(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self.httpd:
            self.httpd.shutdown()
            self.httpd.server_close()
