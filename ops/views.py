"""Ops endpoints: health for load balancers, the staff dashboard, Prometheus metrics."""

from __future__ import annotations

import hmac

from django.conf import settings
from django.contrib import admin
from django.http import HttpResponse, HttpResponseForbidden, HttpResponseNotFound, JsonResponse
from django.template.response import TemplateResponse
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache

from ops import selectors


@never_cache
def healthz(request):
    """The process is up and serving."""
    return JsonResponse({"status": "ok"})


@never_cache
def readyz(request):
    """Can this instance do its work: database, Redis, a worker per queue, model files present."""
    checks = selectors.readiness()
    ready = all(check["ok"] for check in checks.values())
    return JsonResponse({"status": "ready" if ready else "not ready", "checks": checks}, status=200 if ready else 503)


def dashboard(request):
    context = {
        **admin.site.each_context(request),
        "title": _("Ops dashboard"),
        "data": selectors.dashboard_data(),
        "refresh_seconds": settings.WORKER_HEARTBEAT_SECONDS,
    }
    return TemplateResponse(request, "ops/dashboard.html", context)


def dashboard_json(request):
    return JsonResponse(selectors.dashboard_data())


def _metrics_token_ok(request) -> bool:
    expected = settings.METRICS_TOKEN
    header = request.headers.get("Authorization", "")
    given = header[7:] if header.startswith("Bearer ") else ""
    return bool(given) and hmac.compare_digest(given.encode(), expected.encode())


@never_cache
def metrics(request):
    """Prometheus text format; needs ``Authorization: Bearer $METRICS_TOKEN`` (off when the token is unset)."""
    if not settings.METRICS_TOKEN:
        return HttpResponseNotFound()
    if not _metrics_token_ok(request):
        return HttpResponseForbidden()
    from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

    from ops.metrics import registry

    return HttpResponse(generate_latest(registry()), content_type=CONTENT_TYPE_LATEST)
