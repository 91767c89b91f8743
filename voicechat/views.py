from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db import IntegrityError
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from accounts.models import Preferences
from emotune.jobs import JobError
from emotune.ratelimit import has_upload, rate_limited
from voicechat import services
from voicechat.answering import SAFE_ANSWER_MARK
from voicechat.care import resources_for
from voicechat.engines import cloning_available, tts_backend
from voicechat.forms import RenameForm, SpeakerForm
from voicechat.models import MAX_SPEAKERS_PER_USER
from voicechat.selectors import conversation_get, conversation_list, message_window, speaker_get, speaker_list


@login_required
def index(request):
    """The newest conversation, or a fresh one for a first visit."""
    conversation = conversation_list(user=request.user).first()
    if conversation is None:
        conversation = services.conversation_create(user=request.user)
    return redirect("voicechat:conversation", pk=conversation.pk)


@login_required
def conversation(request, pk: int):
    current = conversation_get(user=request.user, pk=pk)
    prefs = Preferences.objects.filter(user=request.user).first()
    history = message_window(conversation=current, limit=100)
    for message in history:  # the safe answer is shown with the helplines, as it was in the turn
        if (message.telemetry or {}).get("care") == SAFE_ANSWER_MARK:
            setattr(message, "care_resources", resources_for(message.language))  # noqa: B010  (a template attribute)
    context = {
        "conversation": current,
        "conversations": conversation_list(user=request.user)[:50],
        "history": history,
        "speakers": speaker_list(user=request.user),
        "active_speaker_id": prefs.active_speaker_id if prefs else None,
        "ws_path": f"/ws/voicechat/{current.pk}/",
    }
    return render(request, "voicechat/index.html", context)


@login_required
@require_POST
def conversation_new(request):
    return redirect("voicechat:conversation", pk=services.conversation_create(user=request.user).pk)


@login_required
@require_POST
def conversation_rename(request, pk: int):
    current = conversation_get(user=request.user, pk=pk)
    form = RenameForm(request.POST)
    if form.is_valid():
        services.conversation_rename(conversation=current, title=form.cleaned_data["name"])
    else:
        messages.error(request, " ".join(str(error) for error in form.errors["name"]))
    return redirect("voicechat:conversation", pk=pk)


@login_required
@require_POST
def conversation_clear(request, pk: int):
    services.conversation_clear(conversation=conversation_get(user=request.user, pk=pk))
    return redirect("voicechat:conversation", pk=pk)


@login_required
@require_POST
def conversation_delete(request, pk: int):
    services.conversation_delete(conversation=conversation_get(user=request.user, pk=pk))
    messages.success(request, _("Conversation deleted."))
    return redirect("voicechat:index")


@login_required
@rate_limited("upload", when=has_upload)
def speakers(request):
    posted = request.method == "POST"  # an empty POST (a file part with no usable name) still binds
    form = SpeakerForm(request.POST if posted else None, request.FILES if posted else None)
    if request.method == "POST" and form.is_valid():
        try:
            services.speaker_create_from_clip(
                user=request.user, name=form.cleaned_data["name"], samples=form.samples,
                transcript=form.cleaned_data["transcript"], consent=form.cleaned_data["consent"],
            )
        except JobError as exc:
            form.add_error(None, str(exc))
        except IntegrityError:
            form.add_error("name", _("You already have a voice with this name."))
        else:
            messages.success(request, _("Voice added."))
            return redirect("voicechat:speakers")
    prefs = Preferences.objects.filter(user=request.user).first()
    context = {
        "form": form,
        "speakers": speaker_list(user=request.user),
        "active_speaker_id": prefs.active_speaker_id if prefs else None,
        "max_speakers": MAX_SPEAKERS_PER_USER,
        "cloning": cloning_available(),
        "tts_backend": tts_backend(),
    }
    status = 400 if request.method == "POST" else 200  # a POST that gets here was refused
    return render(request, "voicechat/speakers.html", context, status=status)


def _back(request, fallback: str) -> str:
    target = request.POST.get("next", "")
    return target if target.startswith("/") and not target.startswith("//") else fallback


@login_required
@require_POST
def speaker_activate(request, pk: int):
    services.speaker_activate(speaker=speaker_get(user=request.user, pk=pk))
    return redirect(_back(request, reverse("voicechat:speakers")))


@login_required
@require_POST
def speaker_rename(request, pk: int):
    speaker = speaker_get(user=request.user, pk=pk)  # 404 for anyone but the owner, whatever the form holds
    form = RenameForm(request.POST)
    if form.is_valid():
        try:
            services.speaker_rename(speaker=speaker, name=form.cleaned_data["name"])
        except IntegrityError:
            messages.error(request, _("You already have a voice with this name."))
    return redirect("voicechat:speakers")


@login_required
@require_POST
def speaker_delete(request, pk: int):
    services.speaker_delete(speaker=speaker_get(user=request.user, pk=pk))
    messages.success(request, _("Voice deleted."))
    return redirect("voicechat:speakers")
