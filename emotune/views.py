from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpResponsePermanentRedirect, JsonResponse
from django.shortcuts import render
from django.templatetags.static import static
from django.utils.translation import get_language, gettext
from django.views.decorators.cache import cache_control

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


# --- installing the site on a phone's home screen -------------------------------------------


def favicon(request):
    """``/favicon.ico``, which browsers ask for on every site whatever the page links."""
    return HttpResponsePermanentRedirect(static("favicon.ico"))


@cache_control(max_age=86400)
def manifest(request):
    """The web app manifest: name, colours and icons for "Add to home screen"."""
    body = {
        "name": "emotune",
        "short_name": "emotune",
        "description": gettext("Mood care through music and voice"),
        "lang": get_language() or "en",
        "start_url": "/",
        "scope": "/",
        "display": "standalone",
        "background_color": "#f6f5fb",
        "theme_color": "#6b4ee6",
        "icons": [
            {"src": static("icons/icon-192.png"), "sizes": "192x192", "type": "image/png"},
            {"src": static("icons/icon-512.png"), "sizes": "512x512", "type": "image/png"},
            {"src": static("icons/icon-maskable-512.png"), "sizes": "512x512", "type": "image/png", "purpose": "maskable"},
            {"src": static("icons/icon.svg"), "sizes": "any", "type": "image/svg+xml"},
        ],
    }
    return JsonResponse(body, content_type="application/manifest+json", json_dumps_params={"ensure_ascii": False})
