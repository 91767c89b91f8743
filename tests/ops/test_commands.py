"""Management commands on real rows and files."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import time
from datetime import timedelta
from io import StringIO

import pytest
from django.core.files.base import ContentFile
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import timezone

from accounts.models import User
from emotion.models import EmotionReading
from emotune.models import JobStatus
from music.models import Feedback, Journey, MusicGeneration
from ops.models import SystemLog
from tests.helpers import ROOT

pytestmark = pytest.mark.django_db


def run(*args) -> str:
    out = StringIO()
    call_command(*args, stdout=out, stderr=out)
    return out.getvalue()


@pytest.mark.parametrize("name", ["emotune_models", "reap_jobs", "purge_media", "create_demo_user"])
def test_every_command_has_help(name):
    result = subprocess.run([sys.executable, "manage.py", name, "--help"], cwd=ROOT, capture_output=True, text=True,
                            env={**os.environ, "DEBUG": "1"}, timeout=60)
    assert result.returncode == 0, result.stderr
    assert "usage:" in result.stdout and len(result.stdout) > 200


# --- purge_media -------------------------------------------------------------------------------


@pytest.fixture
def media(settings, tmp_path, user):
    settings.MEDIA_ROOT = tmp_path
    old = timezone.now() - timedelta(days=40)

    def reading(created, status=JobStatus.SUCCEEDED):
        row = EmotionReading(user=user, source="image", status=status, created_at=created)
        row.media.save("face.jpg", ContentFile(b"\xff\xd8jpeg-bytes"), save=True)
        return row

    def generation(created, status=JobStatus.SUCCEEDED):
        row = MusicGeneration(user=user, status=status, created_at=created)
        row.audio.save("song.wav", ContentFile(b"RIFF" + b"\0" * 100), save=False)
        row.video.save("song.mp4", ContentFile(b"\0" * 50), save=True)
        Feedback.objects.create(generation=row, user=user, stars=4)
        return row

    rows = {
        "old_reading": reading(old),
        "new_reading": reading(timezone.now()),
        "old_running": reading(old, JobStatus.RUNNING),
        "old_generation": generation(old),
        "new_generation": generation(timezone.now()),
    }
    # A journey of this week whose file was last written long ago: referenced, so never an orphan.
    journey = Journey(user=user, status=JobStatus.SUCCEEDED, start_emotion="sad", target="calm")
    journey.audio.save("journey.wav", ContentFile(b"RIFF" + b"\0" * 10), save=True)
    stamp = time.time() - 50 * 86400
    os.utime(journey.audio.path, (stamp, stamp))
    rows["new_journey"] = journey
    orphan = tmp_path / "music" / "2020" / "01" / "lost.wav"
    orphan.parent.mkdir(parents=True)
    orphan.write_bytes(b"x" * 10)
    stamp = time.time() - 50 * 86400
    os.utime(orphan, (stamp, stamp))
    fresh_orphan = tmp_path / "music" / "fresh.wav"  # may be an upload whose row is being written
    fresh_orphan.write_bytes(b"y")
    return rows, orphan, fresh_orphan


def _files(tmp_path) -> set[str]:
    return {p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*") if p.is_file()}


def test_purge_media_dry_run_changes_nothing(media, tmp_path):
    before_files = _files(tmp_path)
    before_rows = (EmotionReading.objects.count(), MusicGeneration.objects.count(), Feedback.objects.count())
    out = run("purge_media", "--older-than", "30", "--dry-run")
    assert "would delete 1 row(s), 1 file(s)" in out  # the old finished reading
    assert "would delete 1 row(s), 2 file(s)" in out  # the old generation: audio and video
    assert "orphan files: would delete 1" in out
    assert _files(tmp_path) == before_files
    assert (EmotionReading.objects.count(), MusicGeneration.objects.count(), Feedback.objects.count()) == before_rows
    assert not SystemLog.objects.filter(action="ops.purge_media").exists()


def test_purge_media_deletes_old_rows_with_their_files(media, tmp_path):
    rows, orphan, fresh_orphan = media
    kept = [rows["new_reading"], rows["old_running"], rows["new_generation"], rows["new_journey"]]
    gone = [rows["old_reading"], rows["old_generation"]]
    gone_files = {rows["old_reading"].media.name, rows["old_generation"].audio.name, rows["old_generation"].video.name}
    out = run("purge_media", "--older-than", "30")
    assert "Done: deleted 2 row(s) and 4 file(s)." in out
    for row in gone:
        assert not type(row).objects.filter(pk=row.pk).exists()
    for row in kept:
        assert type(row).objects.filter(pk=row.pk).exists()
    files = _files(tmp_path)
    assert not gone_files & files and not orphan.exists() and fresh_orphan.exists()
    # every remaining row's files exist, every remaining history file has a row
    referenced = {r.media.name for r in EmotionReading.objects.all()}
    referenced |= {f for g in MusicGeneration.objects.all() for f in (g.audio.name, g.video.name)}
    referenced |= {j.audio.name for j in Journey.objects.all()}
    assert files - {"music/fresh.wav"} == referenced
    assert Feedback.objects.count() == 1  # the kept generation's
    log = SystemLog.objects.get(action="ops.purge_media")
    assert log.detail["rows"] == 2 and log.detail["orphans"] == 1


def test_purge_media_requires_days():
    with pytest.raises(CommandError):
        call_command("purge_media")


# --- reap_jobs -------------------------------------------------------------------------------------


def test_reap_jobs_fails_rows_of_dead_workers(user):
    row = EmotionReading.objects.create(user=user, source="image", media="readings/x.jpg", status=JobStatus.RUNNING,
                                        worker_name="gone-worker", started_at=timezone.now())
    done = EmotionReading.objects.create(user=user, source="image", media="readings/y.jpg",
                                         status=JobStatus.SUCCEEDED, worker_name="gone-worker")
    out = run("reap_jobs")
    assert "1 row(s) marked failed" in out
    row.refresh_from_db()
    done.refresh_from_db()
    assert row.status == JobStatus.FAILED and "worker running this job went away" in row.error
    assert done.status == JobStatus.SUCCEEDED
    assert "0 row(s) marked failed" in run("reap_jobs")


# --- create_demo_user ------------------------------------------------------------------------------


def test_create_demo_user(db):
    out = run("create_demo_user", "--password", "demo-Pa55word-x")
    assert "Demo user 'demo' ready" in out
    user = User.objects.get(username="demo")
    assert user.check_password("demo-Pa55word-x") and hasattr(user, "preferences")
    with pytest.raises(CommandError):
        run("create_demo_user")
    out = run("create_demo_user", "--reset")
    password = out.strip().rsplit(" ", 1)[-1]
    user.refresh_from_db()
    assert user.check_password(password)


# --- emotune_models --------------------------------------------------------------------------------


@pytest.fixture
def fake_app(tmp_path, monkeypatch):
    """An app package with an engines module that follows the contract (the real ones land with their apps)."""
    weights = tmp_path / "weights.bin"
    weights.write_bytes(b"w" * 2048)
    package = tmp_path / "fakeapp"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "engines.py").write_text(textwrap.dedent(f"""
        import os
        LOADED = []
        PATHS = {{"tiny": {str(weights)!r}, "absent": {str(tmp_path / 'missing.bin')!r}}}

        def engines_describe():
            return [
                {{"name": name, "kind": "test", "active": True, "path": path, "present": os.path.exists(path),
                  "size_bytes": os.path.getsize(path) if os.path.exists(path) else None, "note": ""}}
                for name, path in PATHS.items()
            ]

        def engines_warmup():
            with open(PATHS["tiny"], "rb") as handle:
                LOADED.append(len(handle.read()))
            return ["tiny"]
    """))
    monkeypatch.syspath_prepend(str(tmp_path))
    yield "fakeapp"
    for name in ("fakeapp", "fakeapp.engines"):
        sys.modules.pop(name, None)


def test_emotune_models_lists_engines_and_warms_up(fake_app):
    out = run("emotune_models", "--app", fake_app, "--warmup")
    assert "tiny" in out and "present" in out and "2.0 KB" in out
    assert "absent" in out and "MISSING" in out and "Missing files for active engines: absent" in out
    assert "fakeapp: loaded tiny in" in out
    assert sys.modules["fakeapp.engines"].LOADED == [2048]


def test_emotune_models_json(fake_app):
    import json

    engines = json.loads(run("emotune_models", "--app", fake_app, "--json"))
    assert [(e["name"], e["present"], e["size_bytes"]) for e in engines] == [("tiny", True, 2048), ("absent", False, None)]


def test_emotune_models_skips_apps_without_engines_module():
    out = run("emotune_models", "--app", "ops", "--app", "accounts")
    assert "No engines declared yet" in out


def test_readyz_reports_missing_model_files(client, fake_app, monkeypatch):
    from ops import selectors

    real = selectors.engine_list
    monkeypatch.setattr(selectors, "engine_list", lambda only=None: real(only=[fake_app]))
    body = client.get("/readyz").json()
    assert body["checks"]["models"] == {"ok": False, "missing": ["absent"]}


# --- what `make run` and the README tell a newcomer to type -----------------------------------------


def _newcomer_env(tmp_path) -> dict:
    """A fresh checkout's shell: no DEBUG, no SECRET_KEY, no database or Redis settings."""
    drop = {"DEBUG", "SECRET_KEY", "DATABASE_URL", "DB_HOST", "DB_NAME", "DB_PORT", "DB_USER", "DB_PASSWORD",
            "REDIS_URL", "MAKEFLAGS", "MFLAGS", "MAKELEVEL"}
    return {**{k: v for k, v in os.environ.items() if k not in drop}, "EMOTUNE_DATA_DIR": str(tmp_path)}


def test_make_run_and_readme_print_account_commands_that_work(tmp_path):
    makefile = (ROOT / "Makefile").read_text()
    assert 'Create an admin account with:  make admin"' in makefile
    assert 'a demo user:               make demo)"' in makefile
    readme = (ROOT / "README.md").read_text()
    assert "make admin" in readme and "make demo" in readme
    env = _newcomer_env(tmp_path)
    # -o: take the installed venvs as they are (the test must not reinstall packages).
    make = ["make", "-s", "-o", "venv", "-o", ".venv/.installed", "-o", ".venv-piper/.installed"]
    demo = subprocess.run([*make, "demo"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=180)
    assert demo.returncode == 0, demo.stderr
    assert "Demo user 'demo' ready. Password: " in demo.stdout
    admin = subprocess.run([*make, "admin", "ARGS=--noinput --username root --email root@example.org"], cwd=ROOT,
                           env={**env, "DJANGO_SUPERUSER_PASSWORD": "a-long-Pass-7391"}, capture_output=True,
                           text=True, timeout=180)
    assert admin.returncode == 0, admin.stderr
    assert "Superuser created successfully." in admin.stdout
    # The accounts are really there, in the embedded database those targets used.
    check = subprocess.run(
        [sys.executable, "manage.py", "shell", "-c",
         "from accounts.models import User; print(sorted(User.objects.values_list('username', 'is_superuser')))"],
        cwd=ROOT, env={**env, "DEBUG": "1"}, capture_output=True, text=True, timeout=120)
    assert "[('demo', False), ('root', True)]" in check.stdout, check.stderr
