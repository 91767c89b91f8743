from __future__ import annotations

import json
import mimetypes
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import Http404, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from emotune.labels import error_label, job_labels, mood_label, note_label, status_label
from emotune.media import safe_file_response
from emotune.ratelimit import has_upload, rate_limited
from music import services
from music.forms import FeedbackForm, HistoryFilterForm, StudioForm
from music.models import MusicGeneration
from music.scoring import WEIGHTS
from music.selectors import feedback_get, generation_get, generation_list, generation_queue_position

PAGE_SIZE = 20
RECENT_JOURNEYS = 10  # listed under the new-journey form
# The rule score's parts (music.scoring.WEIGHTS), named on the generation page.
SCORE_LABELS = {"length": gettext_lazy("length"), "tempo": gettext_lazy("tempo"), "dynamics": gettext_lazy("dynamics"),
                "clipping": gettext_lazy("clipping"), "silence": gettext_lazy("silence"), "style": gettext_lazy("style")}


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
        "id": generation.pk, "status": generation.status, "status_label": status_label(generation.status),
        "progress": generation.progress, "note": generation.progress_note, "note_label": note_label(generation.progress_note),
        "error": error_label(generation.error),
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
        "g": generation, "feedback": feedback, "state": generation_state(generation), "job_labels": job_labels(),
        "nudge_rule": _(services.NUDGE_RULE), "stars_range": range(1, 6),
        "score_parts": [(SCORE_LABELS.get(k, k), generation.score_parts[k]) for k in WEIGHTS
                        if k in (generation.score_parts or {})],
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


# --- mood journeys ----------------------------------------------------------------------


def _plan_edits(post, plan: dict) -> dict[int, dict]:
    """The plan editor's fields (s<index>-<field>) as plan_edit's edits."""
    from music.journeys import EDITABLE

    edits: dict[int, dict] = {}
    for i in range(len(plan.get("sections") or [])):
        for name in EDITABLE:
            key = f"s{i}-{name}"
            if key in post:
                edits.setdefault(i, {})[name] = post[key].strip()
    return edits


def _edited(section: dict, changes: dict) -> dict:
    shown = {**section, **changes}
    if isinstance(shown.get("instruments"), str):
        shown["instruments"] = [i.strip() for i in shown["instruments"].split(",") if i.strip()]
    return shown


PLAN_NOTES_KEY = "journey_plan_notes"  # the agent's notes on the last plan written: for staff, never on a page


@login_required
def journey_new(request):
    """Step 1: where from and where to → a written plan; step 2: the (edited) plan → rendering."""
    from music.brief import KEYS, MODES
    from music.forms import JourneyStartForm
    from music.journeys import DYNAMICS, TARGETS, PlanError, plan_edit
    from music.selectors import journey_list

    initial = {k: request.GET[k] for k in ("emotion", "reading", "target") if request.GET.get(k)}
    form = JourneyStartForm(request.POST or None, user=request.user, initial=initial)
    context = {"form": form, "plan": None, "keys": KEYS, "modes": MODES, "dynamics": DYNAMICS, "targets": TARGETS,
               "recent": journey_list(user=request.user)[:RECENT_JOURNEYS], "start_label": ""}
    status = 200
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        context["start_label"] = "" if data.get("reading") else mood_label(data.get("emotion") or "")
        try:
            if request.POST.get("action") == "render":
                written = json.loads(request.POST.get("plan") or "{}")
                edits = _plan_edits(request.POST, written)
                try:
                    plan = plan_edit(written, edits)
                except (PlanError, KeyError, TypeError, AttributeError) as exc:
                    # shown again with the user's edits in place, to be corrected
                    shown = {**written, "sections": [_edited(s, edits.get(i, {})) for i, s in enumerate(written["sections"])]}
                    context.update(plan=shown, plan_json=json.dumps(written), plan_path=request.POST.get("plan_path"),
                                   plan_error=str(exc))
                    return render(request, "music/journey_new.html", context, status=400)
                start = data["reading"].felt if data.get("reading") else data.get("emotion")
                journey = services.journey_create(
                    user=request.user, plan=plan, params=form.params(), reading=data.get("reading"),
                    plan_path=request.POST.get("plan_path", "template"), plan_notes=request.session.pop(PLAN_NOTES_KEY, []),
                    start_mood="" if data.get("reading") else data.get("emotion") or "",
                    before={"mood": start, "intensity": data.get("intensity") or 3} if start else None,
                )
                return redirect("music:journey", pk=journey.pk)
            written = services.journey_plan(user=request.user, target=data["target"], minutes=data["minutes"],
                                            sections=data["sections"], emotion=data.get("emotion") or "",
                                            reading=data.get("reading"), intensity=data.get("intensity"))
            services.journey_params(form.params())  # an engine problem shows now, not after editing
        except ValidationError as exc:
            for field, errors in exc.message_dict.items():
                form.add_error(field if field in form.fields else None, errors)
            status = 400
        except ValueError:
            form.add_error(None, _("The plan could not be read; write it again."))
            status = 400
        else:
            context.update(plan=written["plan"], plan_json=json.dumps(written["plan"]), plan_path=written["path"])
            request.session[PLAN_NOTES_KEY] = [str(note)[:200] for note in written["notes"][:20]]
    elif request.method == "POST":
        status = 400
    return render(request, "music/journey_new.html", context, status=status)


def journey_state(journey) -> dict:
    """What the journey page needs to draw itself (also its JSON endpoint)."""
    playable = bool(journey.audio)
    def url(kind, **q):
        return reverse("music:journey_file", kwargs={"pk": journey.pk, "kind": kind}) + (
            "?download=1" if q.get("download") else "")
    return {
        "id": journey.pk, "status": journey.status, "status_label": status_label(journey.status),
        "progress": journey.progress, "note": journey.progress_note, "note_label": note_label(journey.progress_note),
        "error": error_label(journey.error), "sections_done": journey.sections_done, "sections": len(journey.sections),
        "audio": url("audio") if playable else None, "preview": url("audio_preview") if playable else None,
        "downloads": {"audio": url("audio", download=True), "audio_preview": url("audio_preview", download=True)}
        if playable else {},
        "peaks": journey.peaks if playable else [], "duration": journey.duration,
        "markers": [{"start": start, "label": _("Section %(n)s") % {"n": i + 1},
                     "bpm": journey.sections[i]["bpm"] if i < len(journey.sections) else None}
                    for i, start in enumerate(journey.markers or [])],
        "is_final": journey.is_final,
    }


@login_required
def journey_detail(request, pk: int):
    from music.forms import CheckInForm
    from music.selectors import checkins_for_journey, journey_get

    journey = journey_get(user=request.user, pk=pk)
    checkins = checkins_for_journey(user=request.user, journey=journey)
    forms_by_moment = {
        moment: CheckInForm(user=request.user, prefix=moment, initial={
            "moment": moment, **({"mood": c.mood, "intensity": c.intensity, "note": c.note, "reading": c.reading_id}
                                 if (c := checkins[moment]) else {"mood": journey.start_mood or journey.start_emotion})})
        for moment in ("before", "after")
    }
    return render(request, "music/journey_detail.html", {
        "j": journey, "state": journey_state(journey), "job_labels": job_labels(),
        "checkin_boxes": [(m, forms_by_moment[m], checkins[m]) for m in ("before", "after")],
        "nudge_rule": _(services.NUDGE_RULE), "checkin_rule": _(services.CHECKIN_NUDGE_RULE),
        "stars_range": range(1, 6),
    })


@login_required
def journey_status(request, pk: int):
    from music.selectors import journey_get

    return JsonResponse(journey_state(journey_get(user=request.user, pk=pk)))


@login_required
@require_POST
def journey_cancel(request, pk: int):
    from music.selectors import journey_get

    journey = journey_get(user=request.user, pk=pk)
    if services.journey_cancel(journey=journey):
        messages.success(request, _("Journey cancelled; the sections already rendered are kept."))
    return redirect("music:journey", pk=pk)


@login_required
@require_POST
def journey_checkin(request, pk: int):
    from music.forms import CheckInForm
    from music.selectors import journey_get

    journey = journey_get(user=request.user, pk=pk)
    moment = request.POST.get("moment") or next((m for m in ("before", "after") if f"{m}-moment" in request.POST), "")
    form = CheckInForm(request.POST, user=request.user, prefix=moment if f"{moment}-moment" in request.POST else None)
    wants_json = "application/json" in request.headers.get("Accept", "")
    if form.is_valid():
        data = form.cleaned_data
        try:
            _checkin, changes = services.checkin_set(user=request.user, journey=journey, moment=data["moment"],
                                                     mood=data["mood"], intensity=data["intensity"],
                                                     note=data["note"] or "", reading=data.get("reading"))
        except ValidationError as exc:
            errors: dict[str, Any] = exc.message_dict
        else:
            if wants_json:
                return JsonResponse({"saved": True, "changes": changes})
            messages.success(request, _("Check-in saved."))
            return redirect("music:journey", pk=pk)
    else:
        errors = form.errors
    if wants_json:
        return JsonResponse({"errors": errors}, status=400)
    for field, problems in errors.items():
        for problem in problems:
            messages.error(request, f"{field}: {problem}")
    return redirect("music:journey", pk=pk)


@login_required
@require_POST
def journey_rate(request, pk: int):
    from music.selectors import journey_get

    journey = journey_get(user=request.user, pk=pk)
    if not journey.audio:
        return JsonResponse({"error": _("Only a journey with music can be rated.")}, status=400)
    payload = json.loads(request.body or b"{}") if request.content_type == "application/json" else request.POST
    form = FeedbackForm(payload)
    if not form.is_valid():
        return JsonResponse({"errors": form.errors}, status=400)
    services.journey_rate(user=request.user, journey=journey, stars=form.cleaned_data["stars"],
                          liked=form.cleaned_data["liked"])
    return JsonResponse({"stars": journey.stars, "liked": journey.liked, "message": _("Thanks, your rating is saved.")})


@login_required
def journey_file(request, pk: int, kind: str):
    from music.selectors import journey_get

    if kind not in ("audio", "audio_preview"):
        raise Http404
    journey = journey_get(user=request.user, pk=pk)
    field = getattr(journey, kind)
    if not field:
        raise Http404
    content_type = mimetypes.guess_type(field.name)[0] or "application/octet-stream"
    return safe_file_response(field.open("rb"), content_type=content_type, as_attachment=bool(request.GET.get("download")),
                              filename=f"emotune-journey-{journey.pk}{field.name[field.name.rfind('.'):]}")


@login_required
def mood(request):
    """Mood history: before/after per journey, readings over time, what helped; filtered by period."""
    from datetime import timedelta

    from django.utils import timezone

    from music.forms import MoodPeriodForm
    from music.selectors import journey_list, mood_history

    form = MoodPeriodForm(request.GET or None)
    period = form.cleaned_data.get("period") if form.is_valid() else ""
    period = period or "30"
    since = None if period == "all" else timezone.now() - timedelta(days=int(period))
    data = mood_history(user=request.user, since=since)
    journeys = Paginator(journey_list(user=request.user, since=since), PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "music/mood.html", {
        "form": form, "period": period, "data": data, "journeys": journeys,
        "periods": MoodPeriodForm.PERIODS, "checkin_rule": _(services.CHECKIN_NUDGE_RULE),
        "nudge_rule": _(services.NUDGE_RULE),
    })
