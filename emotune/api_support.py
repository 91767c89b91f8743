"""What the API's endpoints share: the one error shape, bodies read after the
ownership check, Server-Sent Events. The APIs themselves are assembled in ``emotune/api.py``."""

from __future__ import annotations

import asyncio
import json
import logging
import threading

from django.core.exceptions import PermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import close_old_connections
from django.http import Http404, HttpRequest, JsonResponse, StreamingHttpResponse
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError
from ninja.errors import ValidationError as NinjaValidationError

from emotune.ratelimit import RateLimited

logger = logging.getLogger(__name__)

CODES = {400: "invalid", 401: "unauthorized", 403: "forbidden", 404: "not_found", 405: "method_not_allowed",
         409: "conflict", 413: "too_large", 415: "unsupported_media_type", 422: "invalid", 429: "rate_limited",
         503: "unavailable"}
# Ninja names where a bad value came from first; the client knows its fields by name only.
_SOURCES = {"body", "query", "path", "form", "file", "header", "cookie"}


def error_response(status: int, message: str, *, code: str | None = None, fields: dict | None = None) -> JsonResponse:
    body = {"error": {"code": code or CODES.get(status, "error"), "message": message, "fields": fields or {}}}
    response = JsonResponse(body, status=status, json_dumps_params={"ensure_ascii": False})
    if status == 401:
        response["WWW-Authenticate"] = 'Bearer realm="emotune"'
    return response


def _field_name(loc) -> str:
    """``("body", "payload", "params", "top_k")`` → ``params.top_k``; the whole body → ``__all__``."""
    parts = [str(p) for p in loc]
    if parts and parts[0] == "body":
        parts = parts[2:]  # the body's parameter name (``payload``) is ours, not the client's
    else:
        parts = [p for p in parts if p not in _SOURCES]
    return ".".join(parts) or "__all__"


def _fields_from_django(exc: DjangoValidationError) -> dict[str, list[str]]:
    if hasattr(exc, "error_dict"):
        return {name: [str(m) for m in messages] for name, messages in exc.message_dict.items()}
    return {"__all__": [str(m) for m in exc.messages]}


def _first(fields: dict[str, list[str]]) -> str:
    for name, messages in fields.items():
        if messages:
            return messages[0] if name == "__all__" else f"{name}: {messages[0]}"
    return "The request is not valid."


def form_errors(form) -> DjangoValidationError:
    """A bound, invalid Django form's errors as the API's ValidationError (field names kept)."""
    return DjangoValidationError({name: [str(e) for e in errors] for name, errors in form.errors.items()})


def body_of(request: HttpRequest, schema):
    """The request's JSON body validated by ``schema`` (a ninja Schema), for views that read it
    only after checking that the object is the user's: another user's request is then a 404
    whatever its body holds, as the site's pages answer. Ninja would validate it first."""
    import pydantic

    try:
        data = json.loads(request.body or b"{}")
    except ValueError:
        raise NinjaValidationError([{"loc": ("body", "payload"), "msg": "The body is not valid JSON."}]) from None
    try:
        return schema.model_validate(data)
    except pydantic.ValidationError as exc:
        raise NinjaValidationError([{"loc": ("body", "payload", *e["loc"]), "msg": e["msg"], "type": e["type"]}
                                    for e in exc.errors()]) from None


def body_doc(schema) -> dict:
    """``openapi_extra`` that documents a body read with :func:`body_of`."""
    return {"requestBody": {"required": True, "content": {"application/json": {"schema": schema.model_json_schema()}}}}


def install_error_handlers(api: NinjaAPI) -> None:
    @api.exception_handler(NinjaValidationError)
    def invalid_request(request, exc):
        fields: dict[str, list[str]] = {}
        for error in exc.errors:
            # pydantic's "Field required" reads as the site's forms say it
            message = "This field is required." if error.get("type") == "missing" else str(error.get("msg", "invalid"))
            fields.setdefault(_field_name(error.get("loc", ())), []).append(message)
        return error_response(400, _first(fields), fields=fields)

    @api.exception_handler(DjangoValidationError)
    def invalid_value(request, exc):
        fields = _fields_from_django(exc)
        return error_response(400, _first(fields), fields=fields)

    @api.exception_handler(AuthenticationError)
    def unauthorized(request, exc):
        return error_response(401, "Authentication required: send a valid API token (Authorization: Bearer …) "
                                   "or sign in.")

    @api.exception_handler(PermissionDenied)
    def forbidden(request, exc):
        return error_response(403, str(exc) or "Not allowed.")

    @api.exception_handler(Http404)
    def not_found(request, exc):
        return error_response(404, "Not found.")

    @api.exception_handler(HttpError)
    def http_error(request, exc):
        message = str(exc)
        if exc.status_code == 400:  # Ninja's own: a body it cannot parse
            if message.startswith("Cannot parse request body"):
                message = "The body could not be read: send JSON (Content-Type: application/json) or a form."
            return error_response(400, message, fields={"__all__": [message]})
        return error_response(exc.status_code, message)

    @api.exception_handler(RateLimited)
    def rate_limited(request, exc):
        response = error_response(429, str(exc))
        response["Retry-After"] = str(exc.result.retry_after)
        return response


def event_stream(events, *, stop: threading.Event) -> StreamingHttpResponse:
    """Server-Sent Events from ``events`` (a sync iterator of dicts with an ``event`` name).

    The iterator runs in a thread of its own (it may call the database and block on a model),
    and its events reach the server's loop through a queue, so each is sent as soon as it
    exists. When the client goes away, ``stop`` is set: the producer ends its work and saves
    what it has.
    """

    async def stream():
        loop = asyncio.get_running_loop()
        queue: asyncio.Queue = asyncio.Queue()

        def put(item) -> None:
            try:
                loop.call_soon_threadsafe(queue.put_nowait, item)
            except RuntimeError:  # the server's loop is gone with the client
                stop.set()

        def produce() -> None:
            try:
                for event in events:
                    put(event)
            except Exception as exc:  # never let the stream hang on a dead producer
                logger.exception("event stream failed")
                put({"event": "error", "code": "server_error", "message": f"{type(exc).__name__}: {exc}"[:300]})
            finally:
                close_old_connections()
                put(None)

        threading.Thread(target=produce, name="api-event-stream", daemon=True).start()
        try:
            while (event := await queue.get()) is not None:
                name = event.pop("event")
                yield f"event: {name}\ndata: {json.dumps(event, ensure_ascii=False)}\n\n"
        finally:
            stop.set()

    response = StreamingHttpResponse(stream(), content_type="text/event-stream; charset=utf-8")
    response["Cache-Control"] = "no-cache"
    response["X-Accel-Buffering"] = "no"  # nginx: pass each event on at once
    return response
