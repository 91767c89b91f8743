"""A model hub on loopback that answers the way huggingface.co does for huggingface_hub's downloads.

    hub = FakeHub().start()
    hub.add("org/repo", {"config.json": b"{}", "model.safetensors": bytes(4096)})
    os.environ["HF_ENDPOINT"] = hub.url

Endpoints: ``GET /api/models/<repo>/revision/<rev>`` (the repo's commit and file list, with sizes
and, for LFS files, sha256: what ``model_info(files_metadata=True)`` reads) and
``HEAD``/``GET /<repo>/resolve/<rev>/<path>`` with ``X-Repo-Commit``, ``ETag`` (the sha256 for
LFS files, as the hub's ``X-Linked-Etag``), ``Content-Length`` and ``Range`` (206) support.

The same hub answers ModelScope's API for the same repos: ``GET /api/v1/models/<repo>/repo/files``
(``{"Code": 200, "Data": {"Files": [{"Path", "Size", "Sha256", "Type"}]}}``) and
``GET /api/v1/models/<repo>/repo?Revision=..&FilePath=..`` (the file, with Range support).

Faults, per file path: ``hub.corrupt[path] = n`` serves a flipped byte for the next n GETs;
``hub.fail[path] = n`` answers HTTP 500 to the next n GETs;
``hub.cut[path] = nbytes`` closes the connection after nbytes of the next GET's body.
Every request is kept in ``hub.requests`` as (method, path, Range header or None, bytes sent).
"""

from __future__ import annotations

import hashlib
import json
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, unquote, urlsplit

LFS_FROM = 1024  # files this large are "LFS" files (sha256 etag), like weights on the hub


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request, client_address):
        if isinstance(sys.exc_info()[1], (ConnectionResetError, BrokenPipeError)):
            return
        super().handle_error(request, client_address)


class FakeHub:
    def __init__(self) -> None:
        self.repos: dict[str, dict[str, bytes]] = {}
        self.commits: dict[str, str] = {}
        self.corrupt: dict[str, int] = {}
        self.cut: dict[str, int] = {}
        self.fail: dict[str, int] = {}
        self.requests: list[tuple[str, str, str | None, int]] = []
        self._lock = threading.Lock()
        self._server: _Server | None = None

    def add(self, repo: str, files: dict[str, bytes]) -> None:
        self.repos[repo] = dict(files)
        self.commits[repo] = hashlib.sha1(repo.encode()).hexdigest()

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def gets(self, path: str) -> list[tuple[str, str, str | None, int]]:
        return [r for r in self.requests if r[0] == "GET" and r[1] == path]

    def start(self) -> FakeHub:
        hub = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def _split(self):
                split = urlsplit(self.path)
                path = unquote(split.path)
                parts = path.strip("/").split("/")
                if parts[:3] == ["api", "v1", "models"] and len(parts) == 7 and parts[5:] == ["repo", "files"]:
                    return "ms-api", "/".join(parts[3:5]), None
                if parts[:3] == ["api", "v1", "models"] and len(parts) == 6 and parts[5] == "repo":
                    return "file", "/".join(parts[3:5]), parse_qs(split.query).get("FilePath", [None])[0]
                if parts[:2] == ["api", "models"] and len(parts) >= 6 and parts[4] == "revision":
                    return "api", "/".join(parts[2:4]), None
                if len(parts) >= 5 and parts[2] == "resolve":
                    return "file", "/".join(parts[:2]), "/".join(parts[4:])
                return None, None, None

            def _missing(self, code=404, message="Repository not found"):
                body = json.dumps({"error": message}).encode()
                self.send_response(code)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.send_header("X-Error-Code", "RepoNotFound" if "Repository" in message else "EntryNotFound")
                self.send_header("X-Error-Message", message)
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(body)

            def do_HEAD(self):
                self._answer(head=True)

            def do_GET(self):
                self._answer(head=False)

            def _answer(self, *, head: bool):
                kind, repo, filename = self._split()
                files = hub.repos.get(repo or "")
                if files is None:
                    hub.requests.append((self.command, self.path, None, 0))
                    return self._missing()
                if kind == "ms-api":
                    listing = [{"Path": name, "Name": name.rsplit("/", 1)[-1], "Size": len(data), "Type": "blob",
                                "Sha256": hashlib.sha256(data).hexdigest(), "Revision": hub.commits[repo]}
                               for name, data in files.items()]
                    body = json.dumps({"Code": 200, "Data": {"Files": listing}, "Success": True}).encode()
                    hub.requests.append((self.command, self.path, None, len(body)))
                    self.send_response(200)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)
                    return
                if kind == "api":
                    siblings = []
                    for name, data in files.items():
                        entry = {"rfilename": name, "size": len(data), "blobId": hashlib.sha1(data).hexdigest()}
                        if len(data) >= LFS_FROM:
                            entry["lfs"] = {"size": len(data), "sha256": hashlib.sha256(data).hexdigest(),
                                            "pointerSize": 134}
                        siblings.append(entry)
                    body = json.dumps({"id": repo, "modelId": repo, "sha": hub.commits[repo], "private": False,
                                       "siblings": siblings}).encode()
                    hub.requests.append((self.command, self.path, None, len(body)))
                    self.send_response(200)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)
                    return
                if filename not in files:
                    hub.requests.append((self.command, filename or self.path, None, 0))
                    return self._missing(message="Entry not found")
                data = files[filename]
                if not head and hub.fail.get(filename, 0) > 0:
                    hub.fail[filename] -= 1
                    hub.requests.append(("GET", filename, self.headers.get("Range"), 0))
                    return self._missing(code=500, message="Internal error")
                lfs = len(data) >= LFS_FROM
                etag = hashlib.sha256(data).hexdigest() if lfs else hashlib.sha1(data).hexdigest()
                start, status = 0, 200
                wanted = self.headers.get("Range")
                if wanted and wanted.startswith("bytes=") and not head:
                    first = wanted[6:].split("-", 1)[0]
                    start = int(first or 0)
                    status = 206
                body = data[start:]
                with hub._lock:
                    if not head and hub.corrupt.get(filename, 0) > 0:
                        hub.corrupt[filename] -= 1
                        body = bytes([body[0] ^ 0xFF]) + body[1:] if body else body
                    cut = None if head else hub.cut.pop(filename, None)
                self.send_response(status)
                self.send_header("X-Repo-Commit", hub.commits[repo])
                self.send_header("ETag", f'"{etag}"')
                if lfs:
                    self.send_header("X-Linked-Etag", f'"{etag}"')
                    self.send_header("X-Linked-Size", str(len(data)))
                self.send_header("Accept-Ranges", "bytes")
                self.send_header("Content-Length", str(len(body)))
                if status == 206:
                    self.send_header("Content-Range", f"bytes {start}-{len(data) - 1}/{len(data)}")
                self.end_headers()
                if head:
                    hub.requests.append(("HEAD", filename, None, 0))
                    return
                sent = body if cut is None else body[:cut]
                self.wfile.write(sent)
                hub.requests.append(("GET", filename, wanted, len(sent)))
                if cut is not None:
                    self.wfile.flush()
                    self.close_connection = True
                    self.connection.shutdown(2)

        self._server = _Server(("127.0.0.1", 0), Handler)
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server:
            self._server.shutdown()
            self._server.server_close()
