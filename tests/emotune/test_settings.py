import os
import secrets
import subprocess
import sys

import pytest
from django.core.exceptions import ImproperlyConfigured

from emotune import env
from tests.helpers import ROOT


def _production_env(**extra) -> dict:
    base = {k: v for k, v in os.environ.items() if k not in ("DEBUG",)}
    base.update(
        DEBUG="0",
        SECRET_KEY=secrets.token_urlsafe(60),
        ALLOWED_HOSTS="emotune.example.org",
        DB_HOST="127.0.0.1", DB_USER="emotune", DB_PASSWORD="emotune", DB_NAME="emotune",
        REDIS_URL=os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/9"),
    )
    base.update(extra)
    return base


def _manage(*args, env_vars):
    return subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env=env_vars, capture_output=True, text=True)


# check --deploy, production cookies/HSTS and a missing SECRET_KEY: tests/security/test_deploy.py


@pytest.mark.parametrize(
    "var,value,message",
    [("DB_PORT", "mysql", "DB_PORT must be an integer"), ("DEBUG", "maybe", "DEBUG must be a boolean"),
     ("MUSIC_ENGINE", "kazoo", "MUSIC_ENGINE must be one of")],
)
def test_bad_variable_is_named_at_start(var, value, message):
    result = _manage("check", env_vars=_production_env(**{var: value}))
    assert result.returncode != 0
    assert message in result.stderr


def test_secrets_from_files(tmp_path, monkeypatch):
    secret = tmp_path / "key"
    secret.write_text("s3cr3t-value\n")
    monkeypatch.setenv("OPENAI_API_KEY_FILE", str(secret))
    assert env.env_str("OPENAI_API_KEY") == "s3cr3t-value"
    monkeypatch.setenv("OPENAI_API_KEY_FILE", str(tmp_path / "missing"))
    with pytest.raises(ImproperlyConfigured, match="OPENAI_API_KEY_FILE"):
        env.env_str("OPENAI_API_KEY")


def test_typed_helpers(monkeypatch):
    monkeypatch.setenv("X_INT", "12")
    assert env.env_int("X_INT", 1, minimum=1) == 12
    monkeypatch.setenv("X_INT", "0")
    with pytest.raises(ImproperlyConfigured, match="X_INT must be at least 1"):
        env.env_int("X_INT", 1, minimum=1)
    monkeypatch.setenv("X_LIST", "a, b,,c")
    assert env.env_list("X_LIST") == ["a", "b", "c"]
    monkeypatch.setenv("X_BOOL", "yes")
    assert env.env_bool("X_BOOL") is True


def test_original_app_variable_names_select_mysql():
    code = "from django.conf import settings; d = settings.DATABASES['default']; print(d['ENGINE'], d['NAME'], d['OPTIONS']['charset'])"
    env_vars = {k: v for k, v in os.environ.items() if not k.startswith("DB_")}
    env_vars.update(DEBUG="1", DB_HOST="db.internal", DB_NAME="emotion_music", DJANGO_SETTINGS_MODULE="emotune.settings")
    env_vars.pop("DATABASE_URL", None)
    result = subprocess.run([sys.executable, "-c", "import django; django.setup(); " + code], cwd=ROOT, env=env_vars, capture_output=True, text=True)
    assert result.stdout.split() == ["django.db.backends.mysql", "emotion_music", "utf8mb4"], result.stderr
