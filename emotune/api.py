"""The HTTP API: ``/api/v1/`` (the site's resources as JSON) and ``/v1/`` (OpenAI-compatible audio).

Built with Django Ninja: the endpoints are typed functions with pydantic schemas, from which
Ninja generates the OpenAPI schema and the docs page (``/api/v1/docs``, ``/v1/docs``); it runs
the same views under daphne as the site. Each app keeps its endpoints in its own ``api.py``;
this module assembles them and sets what they share:

- **authentication**: a personal API token (``Authorization: Bearer emt_…``, made on the
  profile page, stored hashed) or the signed-in session, for the site's own scripts (unsafe
  methods then need the CSRF token, as forms do). A token that is sent must be valid: a
  revoked or unknown one is refused even when a session cookie comes with it.
- **errors**: one shape, ``{"error": {"code", "message", "fields"}}`` with ``fields`` naming
  the request fields at fault (``{"duration": ["..."]}``); the OpenAI client reads
  ``error.message`` of the same body.
- **limits**: the site's own rate limits (``emotune/ratelimit.py``), counted by the same
  services, so the API and the pages share one budget per user.
"""

from ninja import NinjaAPI

from emotune.api_support import install_error_handlers


def _build() -> tuple[NinjaAPI, NinjaAPI]:
    from accounts.api import router as accounts_router
    from accounts.auth import AUTH
    from emotion.api import router as emotion_router
    from music.api import router as music_router
    from voicechat.api import audio_router, models_router
    from voicechat.api import router as voice_router

    site = NinjaAPI(
        title="emotune API", version="1", urls_namespace="api", auth=AUTH,
        description="What the website does, as JSON. Authenticate with a personal API token "
                    "(`Authorization: Bearer emt_…`, made on the profile page) or the signed-in session.",
    )
    install_error_handlers(site)
    site.add_router("/", accounts_router)
    site.add_router("/readings", emotion_router)
    site.add_router("/generations", music_router)
    site.add_router("/", voice_router)

    openai = NinjaAPI(
        title="emotune OpenAI-compatible audio", version="1", urls_namespace="openai", auth=AUTH,
        description="`POST /v1/audio/speech` and `POST /v1/audio/transcriptions` as the OpenAI client calls them, "
                    "spoken and heard by the companion's engines; `GET /v1/models` and `GET /v1/audio/voices` list "
                    "what they take. The API key is a personal API token.",
    )
    install_error_handlers(openai)
    openai.add_router("/audio", audio_router)
    openai.add_router("/models", models_router)
    return site, openai


api, openai_api = _build()
