from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.shortcuts import render

from emotion.selectors import reading_list
from music.selectors import generation_list
from voicechat.selectors import conversation_list


@login_required
def home(request):
    user = request.user
    context = {
        "readings": reading_list(user=user)[:5],
        "generations": generation_list(user=user)[:5],
        "conversations": conversation_list(user=user)[:5],
    }
    return render(request, "home.html", context)
