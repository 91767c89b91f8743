from __future__ import annotations

import json
import mimetypes

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import Http404, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from emotune.media import safe_file_response
from emotune.ratelimit import has_upload, rate_limited
from music import services
from music.forms import FeedbackForm, HistoryFilterForm, StudioForm
from music.models import MusicGeneration
from music.scoring import WEIGHTS
from music.selectors import feedback_get, generation_get, generation_list, generation_queue_position

PAGE_SIZE = 20


@login_required
@rate_limited("upload", when=has_upload)  # a melody clip
def studio(request):
    initial = {}
    if request.GET.get("emotion"):
        initial["emotion"] = request.GET["emotion"]
    if request.GET.get("reading"):
        initial["reading"] = request.GET["reading"]
    posted = request.method == "POST"  # an empty POST (a file part with no usable name) still binds
    form = StudioForm(request.POST if posted else None, request.FILES if posted else None, user=request.user,
                      initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            generation = services.generation_create(
                user=request.user, params=data["params"], emotion=data["emotion"], description=data["description"],
                manual_prompt=data["manual_prompt"], reading=data["reading"], melody_file=data.get("melody"),
            )
        except ValidationError as exc:
            for field, errors in exc.message_dict.items():
                form.add_error(field if field in form.fields else None, errors)
        else:
            return redirect("music:detail", pk=generation.pk)
    recent = generation_list(user=request.user)[:5]
    status = 400 if request.method == "POST" else 200  # a POST that gets here was refused
    return render(request, "music/studio.html", {"form": form, "recent": recent}, status=status)


def _file_url(generation: MusicGeneration, kind: str, *, download: bool = False) -> str | None:
    if not getattr(generation, kind):
        return None
    url = reverse("music:file", kwargs={"pk": generation.pk, "kind": kind})
    return url + "?download=1" if download else url


def generation_state(generation: MusicGeneration) -> dict:
    """What the generation page needs to draw itself (also its JSON endpoint)."""
    done = generation.status == "succeeded"
    return {
        "id": generation.pk, "status": generation.status, "progress": generation.progress,
        "note": generation.progress_note, "error": generation.error,
        "queue_position": generation_queue_position(generation=generation),
        "audio": _file_url(generation, "audio") if done else None,
        "preview": _file_url(generation, "audio_preview") if done else None,
        "downloads": {k: _file_url(generation, k, download=True) for k in ("audio", "audio_preview", "video")} if done else {},
        "peaks": generation.peaks if done else [],
        "duration": generation.duration,
    }


@login_required
def detail(request, pk: int):
    generation = generation_get(user=request.user, pk=pk)
    feedback = feedback_get(user=request.user, generation=generation)
    return render(request, "music/detail.html", {
        "g": generation, "feedback": feedback, "state": generation_state(generation),
        "nudge_rule": _(services.NUDGE_RULE), "stars_range": range(1, 6),
        "score_parts": [(k, generation.score_parts[k]) for k in WEIGHTS if k in (generation.score_parts or {})],
    })


@login_required
def status(request, pk: int):
    return JsonResponse(generation_state(generation_get(user=request.user, pk=pk)))


@login_required
@require_POST
def cancel(request, pk: int):
    generation = generation_get(user=request.user, pk=pk)
    if services.generation_cancel(generation=generation):
        messages.success(request, _("Generation cancelled."))
    return redirect("music:detail", pk=pk)


@login_required
@require_POST
def feedback(request, pk: int):
    generation = generation_get(user=request.user, pk=pk)
    if generation.status != "succeeded":
        return JsonResponse({"error": _("Only finished music can be rated.")}, status=400)
    payload = json.loads(request.body or b"{}") if request.content_type == "application/json" else request.POST
    form = FeedbackForm(payload)
    if not form.is_valid():
        return JsonResponse({"errors": form.errors}, status=400)
    data = form.cleaned_data
    saved = services.feedback_set(user=request.user, generation=generation, stars=data["stars"], liked=data["liked"],
                                  comment=data["comment"] or "")
    return JsonResponse({"stars": saved.stars, "liked": saved.liked, "message": _("Thanks, your rating is saved.")})


@login_required
def file(request, pk: int, kind: str):
    if kind not in ("audio", "audio_preview", "video"):
        raise Http404
    generation = generation_get(user=request.user, pk=pk)
    field = getattr(generation, kind)
    if not field:
        raise Http404
    content_type = mimetypes.guess_type(field.name)[0] or "application/octet-stream"
    download_name = f"emotune-{generation.pk}{field.name[field.name.rfind('.'):]}"
    return safe_file_response(field.open("rb"), content_type=content_type,
                              as_attachment=bool(request.GET.get("download")), filename=download_name)


@login_required
def history(request):
    filters = HistoryFilterForm(request.GET or None)
    criteria = filters.cleaned_data if filters.is_valid() else {}
    qs = generation_list(user=request.user, **{k: v for k, v in criteria.items() if v})
    page = Paginator(qs, PAGE_SIZE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return render(request, "music/history.html", {"filters": filters, "page": page, "query": query.urlencode()})
