from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from emotion.forms import HistoryFilter, UploadForm
from emotion.media import MediaError
from emotion.models import EMOTIONS, Emotion
from emotion.selectors import reading_get, reading_list
from emotion.services import reading_correct, reading_create
from emotune.backends import backend
from emotune.labels import job_labels
from emotune.logbook import client_ip
from emotune.ratelimit import has_upload, rate_limited

HISTORY_PAGE_SIZE = 20


@login_required
@rate_limited("upload", when=has_upload)
def index(request):
    posted = request.method == "POST"  # an empty POST (a file part with no usable name) still binds
    form = UploadForm(request.POST if posted else None, request.FILES if posted else None)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                reading = reading_create(user=request.user, upload=form.cleaned_data["media"],
                                         webcam=form.cleaned_data["webcam"], ip=client_ip(request))
            except MediaError as exc:
                form.add_error("media", str(exc))
            else:
                return redirect("emotion:detail", pk=reading.pk)
        status = 400
    context = {"form": form, "readings": reading_list(user=request.user)[:5],
               "max_seconds": settings.EMOTION_VIDEO_MAX_SECONDS}
    return render(request, "emotion/index.html", context, status=status)


@login_required
def detail(request, pk: int):
    reading = reading_get(user=request.user, pk=pk)
    labels = dict(Emotion.choices)
    bars = [{"emotion": e, "label": labels[e], "p": reading.scores.get(e, 0.0)} for e in EMOTIONS] \
        if reading.scores else []
    timeline = []
    if reading.timeline and reading.media_seconds:
        for seg in reading.timeline:
            width = (seg["end"] - seg["start"]) / reading.media_seconds * 100
            label = labels.get(seg["emotion"], _("no face"))
            if seg.get("uncertain"):
                label = _("%(emotion)s (uncertain)") % {"emotion": label}
            timeline.append({**seg, "width": round(width, 3), "label": label})
    box = None
    if reading.face_box and reading.face_box.get("image_w"):
        fb = reading.face_box
        box = {k: round(v, 3) for k, v in {
            "left": fb["x"] / fb["image_w"] * 100, "top": fb["y"] / fb["image_h"] * 100,
            "width": fb["w"] / fb["image_w"] * 100, "height": fb["h"] / fb["image_h"] * 100}.items()}
    likeliest = [{"emotion": e, "label": labels[e], "p": p} for e, p in reading.likeliest(2)]
    return render(request, "emotion/detail.html",
                  {"reading": reading, "bars": bars, "timeline": timeline, "box": box, "likeliest": likeliest,
                   "choices": Emotion.choices, "felt_label": labels.get(reading.felt, ""), "job_labels": job_labels()})


@login_required
@require_POST
def correct(request, pk: int):
    """The person says which emotion is right (one of the likeliest, or their own)."""
    reading = reading_get(user=request.user, pk=pk)
    try:
        reading_correct(reading=reading, emotion=request.POST.get("emotion", ""))
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, _("Saved: you feel %(emotion)s. Music will be made from that.")
                         % {"emotion": reading.get_corrected_emotion_display()})
    return redirect("emotion:detail", pk=pk)


@login_required
def history(request):
    filters = HistoryFilter(request.GET or None)
    data = filters.cleaned_data if filters.is_valid() else {}
    qs = reading_list(user=request.user, emotion=data.get("emotion") or None, source=data.get("source") or None)
    page = Paginator(qs, HISTORY_PAGE_SIZE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return render(request, "emotion/history.html", {"filters": filters, "page": page, "query": query.urlencode()})


@login_required
@require_POST
def warmup(request):
    """Load the face models where readings run: the gpu worker, or this process when embedded."""
    backend().call("gpu", "emotion.jobs.engines_warmup_run", timeout=300, description="emotion-warmup")
    messages.success(request, _("Warming up the face models; the next reading starts faster."))
    return redirect("emotion:index")
