from django.contrib import admin
from django.urls import include, path

from emotune import views
from emotune.api import api, openai_api
from emotune.media import media_serve
from ops import views as ops_views

urlpatterns = [
    path("", views.home, name="home"),
    path("favicon.ico", views.favicon, name="favicon"),
    path("manifest.webmanifest", views.manifest, name="manifest"),
    path("accounts/", include("accounts.urls")),
    path("emotion/", include("emotion.urls")),
    path("music/", include("music.urls")),
    path("voice/", include("voicechat.urls")),
    path("api/v1/", api.urls),
    path("v1/", openai_api.urls),  # OpenAI-compatible audio: base_url "https://<host>/v1"
    path("i18n/", include("django.conf.urls.i18n")),
    path("healthz", ops_views.healthz, name="healthz"),
    path("readyz", ops_views.readyz, name="readyz"),
    path("metrics", ops_views.metrics, name="metrics"),
    path("admin/ops/", include("ops.urls")),
    path("admin/rq/", include("django_rq.urls")),
    path("admin/", admin.site.urls),
    path("media/<path:path>", media_serve, name="media"),
]
