"""Chinese UI: every marked string is in the catalogue, and no page a user sees shows untranslated English."""

from __future__ import annotations

import re
import shutil
from html.parser import HTMLParser
from pathlib import Path

import pytest
from django.conf import settings
from django.core.files.base import ContentFile
from django.test import Client

ROOT = Path(settings.BASE_DIR)
PO_FILE = ROOT / "locale" / "zh_Hans" / "LC_MESSAGES" / "django.po"
SOURCE_DIRS = ("accounts", "emotion", "emotune", "music", "ops", "voicechat", "templates")

# --- the catalogue ------------------------------------------------------------------------


def _unquote(text: str) -> str:
    return text[1:-1].encode("raw_unicode_escape").decode("unicode_escape") if len(text) >= 2 else ""


def po_entries(path: Path) -> dict[tuple[str, str], dict]:
    """{(msgctxt, msgid): {"msgstr": [..], "fuzzy": bool, "plural": str}} of a .po file (obsolete entries left out)."""
    entries: dict[tuple[str, str], dict] = {}
    current: dict = {}
    field = ""

    def flush():
        if current.get("msgid"):
            entries[(current.get("msgctxt", ""), current["msgid"])] = {
                "msgstr": current.get("msgstr", []), "fuzzy": current.get("fuzzy", False),
                "plural": current.get("msgid_plural", "")}

    for raw in path.read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if not line or line.startswith("#~"):
            if not line and current:
                flush()
                current, field = {}, ""
            continue
        if line.startswith("#"):
            if line.startswith("#,") and "fuzzy" in line:
                if "msgid" in current:  # a new entry starts without a blank line
                    flush()
                    current = {}
                current["fuzzy"] = True
            continue
        match = re.match(r'^(msgctxt|msgid_plural|msgid|msgstr(?:\[\d+\])?)\s+(".*")$', line)
        if match:
            key, value = match.groups()
            if key in ("msgctxt", "msgid") and "msgid" in current and (key == "msgctxt" or "msgstr" in current):
                flush()
                current = {"fuzzy": current.get("fuzzy", False)} if key == "msgctxt" and "msgid" not in current else {}
            if key.startswith("msgstr"):
                current.setdefault("msgstr", []).append(_unquote(value))
                field = "msgstr"
            else:
                current[key] = _unquote(value)
                field = key
        elif line.startswith('"') and field:
            if field == "msgstr":
                current["msgstr"][-1] += _unquote(line)
            else:
                current[field] += _unquote(line)
    if current:
        flush()
    return entries


def _extract(tmp_path: Path) -> dict[tuple[str, str], dict]:
    """makemessages over a copy of the sources, into a catalogue of its own (the real .po is untouched)."""
    from django.core.management import call_command
    from django.test import override_settings

    copy = tmp_path / "src"
    keep = shutil.ignore_patterns("__pycache__", "migrations", "*.pyc", "*.js", "*.css", "*.json", "*.png", "*.svg",
                                  "*.bin", "*.onnx", "*.tsv", "*.wav")
    for name in SOURCE_DIRS:
        shutil.copytree(ROOT / name, copy / name, ignore=keep)
    locale = copy / "locale"
    (locale / "zh_Hans" / "LC_MESSAGES").mkdir(parents=True)
    import os

    before = PO_FILE.read_bytes()
    cwd = os.getcwd()
    os.chdir(copy)
    try:
        with override_settings(LOCALE_PATHS=[str(locale)]):
            call_command("makemessages", locale=["zh_Hans"], verbosity=0, no_obsolete=True, no_wrap=True)
    finally:
        os.chdir(cwd)
    assert PO_FILE.read_bytes() == before, "extraction must not touch the committed catalogue"
    return po_entries(locale / "zh_Hans" / "LC_MESSAGES" / "django.po")


def test_every_marked_string_is_translated_in_the_catalogue(tmp_path):
    marked = _extract(tmp_path)
    assert len(marked) > 300, "the extraction found too few strings"
    committed = po_entries(PO_FILE)
    missing = []
    for key in sorted(marked):
        entry = committed.get(key)
        if entry is None or entry["fuzzy"] or not entry["msgstr"] or not all(entry["msgstr"]):
            missing.append((f"[{key[0]}] " if key[0] else "") + key[1])
    assert not missing, f"{len(missing)} marked strings are missing, fuzzy or empty in {PO_FILE.name}:\n" + "\n".join(missing)


def test_the_parser_sees_fuzzy_and_empty_entries(tmp_path):
    po = tmp_path / "x.po"
    po.write_text('msgid ""\nmsgstr ""\n"Language: zh\\n"\n\n#, fuzzy\nmsgid "A"\nmsgstr "甲"\n\nmsgid "B"\nmsgstr ""\n\n'
                  'msgctxt "c"\nmsgid "C"\nmsgstr "丙"\n\nmsgid "D"\nmsgid_plural "Ds"\nmsgstr[0] "丁"\n\n'
                  '#~ msgid "E"\n#~ msgstr "戊"\n', encoding="utf-8")
    entries = po_entries(po)
    assert entries[("", "A")]["fuzzy"] and entries[("", "B")]["msgstr"] == [""]
    assert entries[("c", "C")]["msgstr"] == ["丙"] and entries[("", "D")]["plural"] == "Ds"
    assert ("", "E") not in entries and ("", "") not in entries


# --- the pages ----------------------------------------------------------------------------

# Brand, engine and unit names that stay as they are in Chinese.
ALLOWED = {
    "emotune", "bpm", "musicgen", "wav", "mp3", "midi", "api", "llm", "whisper", "piper", "cosyvoice", "cosyvoice2",
    "espeak", "hz", "khz", "db", "ms", "chart", "js", "emt", "http", "openai", "bearer", "authorization", "readme",
    "gpu", "cpu", "asr", "tts", "vosk", "url", "id", "json", "mp4", "webm", "jpeg", "png", "webp", "mov",
    "transformers", "audiocraft", "multiband", "diffusion", "top_k", "top_p", "cfg_coef",  # MusicGen's own names
    "english",  # the language switcher names each language in its own words
    "offline",  # the engine choice's internal name, shown next to its translated label in the parameters line
}
# Music notation: key names (Eb, F#) and dynamics (pp … ff), written the same way in Chinese scores.
NOTATION = re.compile(r"[A-G][b#]?|pp|mp|mf|ff")
VISIBLE_ATTRS = ("placeholder", "title", "aria-label", "alt")


class _Text(HTMLParser):
    """The text a reader sees or hears: text nodes and a few attributes, without scripts, styles and templates,
    and without what is English on purpose: <code> and elements marked lang="en" (prompts written for MusicGen)."""

    SKIP = {"script", "style", "template", "noscript", "code"}
    VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.open: list[bool] = []  # per open element: does it hide its text?

    @property
    def skipping(self) -> bool:
        return any(self.open)

    def handle_starttag(self, tag, attrs):
        values = dict(attrs)
        hides = tag in self.SKIP or values.get("lang") == "en"
        if not self.skipping and not hides:
            self.parts.extend(v for name, v in attrs if name in VISIBLE_ATTRS and v)
        if tag not in self.VOID:
            self.open.append(hides)

    def handle_endtag(self, tag):
        if tag not in self.VOID and self.open:
            self.open.pop()

    def handle_data(self, data):
        if not self.skipping:
            self.parts.append(data)


def visible_text(html: str) -> str:
    parser = _Text()
    parser.feed(html)
    return " ".join(parser.parts)


def english_words(text: str, data: tuple[str, ...] = ()) -> list[str]:
    for value in sorted(data, key=len, reverse=True):  # the user's own data and ids is not UI text
        text = text.replace(value, " ")
    text = re.sub(r"emt_\w+", " ", text)
    text = re.sub(r"(?<![\w/])/[\w./-]+", " ", text)  # a path such as /api/v1/docs
    words = [w for w in re.findall(r"[A-Za-z][A-Za-z0-9_]*", text) if len(re.sub("[^A-Za-z]", "", w)) >= 2]
    return [w.strip("_") for w in words if w.lower() not in ALLOWED and not NOTATION.fullmatch(w)]


@pytest.fixture
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.MEDIA_ROOT.mkdir()
    return settings.MEDIA_ROOT


@pytest.fixture
def world(make_user, media_root):
    """A user with something on every page: readings, music, a journey with check-ins, a conversation, a voice."""
    from accounts.services import token_create
    from emotion.models import EmotionReading
    from music.models import Journey, MusicGeneration
    from music.services import checkin_set, generation_execute, run_journey
    from voicechat.models import Message, Speaker
    from voicechat.services import conversation_create

    user = make_user("小明")
    reading = EmotionReading.objects.create(
        user=user, source="image", media="readings/a.jpg", status="succeeded", emotion="happy", confidence=0.91,
        face_found=True, scores={"happy": 0.91, "neutral": 0.05, "sad": 0.04}, face_box={"x": 10, "y": 10, "w": 50, "h": 50, "image_w": 100, "image_h": 100},
        frames_analysed=1, engine="onnx", progress=1.0, progress_note="done")
    EmotionReading.objects.create(user=user, source="webcam", media="readings/b.jpg", status="running", progress=0.5,
                                  progress_note="analysing frames")
    EmotionReading.objects.create(user=user, source="video", media="readings/c.mp4", status="failed",
                                  error="No face was found.", face_found=False)
    generation = MusicGeneration.objects.create(
        user=user, emotion="sad", description="安静的钢琴", reading=reading,
        params={"engine": "offline", "duration": 5, "seed": 1, "top_k": 250, "top_p": 0, "temperature": 1,
                "cfg_coef": 3, "decoder": "default"})
    generation_execute(generation, lambda *a, **k: None)
    MusicGeneration.objects.filter(pk=generation.pk).update(status="succeeded")
    MusicGeneration.objects.create(user=user, emotion="neutral", description="慢一点", status="running", progress=0.9,
                                   progress_note="writing files", params={"engine": "offline", "duration": 5})
    result = run_journey(user=user, emotion="sad", target="sleep", minutes=2, sections=3,
                         params={"engine": "offline", "seed": 3})
    journey = Journey.objects.get(pk=result["journey_id"])
    Journey.objects.filter(pk=journey.pk).update(status="succeeded", stars=4, liked=True)
    checkin_set(user=user, journey=journey, moment="before", mood="fear", intensity=4, note="有点紧张", reading=reading)
    checkin_set(user=user, journey=journey, moment="after", mood="calm", intensity=3)
    second = run_journey(user=user, emotion="neutral", target="calm", minutes=2, sections=2,
                         params={"engine": "offline", "seed": 4})
    Journey.objects.filter(pk=second["journey_id"]).update(status="failed", error="Stopped: the model ran out of memory. Try a shorter or smaller request.",
                                                          progress_note="section 2 of 2")
    checkin_set(user=user, journey=Journey.objects.get(pk=second["journey_id"]), moment="before", mood="neutral",
                intensity=2)
    conversation = conversation_create(user=user, title="周末的谈话")
    Message.objects.create(conversation=conversation, role="user", text="你好", language="zh")
    Message.objects.create(conversation=conversation, role="assistant", text="你好，我在听。", language="zh",
                           voice="espeak:cmn")
    speaker = Speaker(user=user, name="妈妈的声音", reference_seconds=6.0, transcript="今天天气很好", consent=True)
    speaker.reference.save("ref.wav", ContentFile(b"RIFF0000WAVE"), save=True)
    token_create(user=user, name="脚本")
    return {"user": user, "reading": reading, "generation": generation, "journey": journey,
            "conversation": conversation, "data": ("小明", "安静的钢琴", "慢一点", "有点紧张", "周末的谈话", "妈妈的声音",
                                                   "espeak:cmn", "ref.wav")}


def _pages(world) -> dict[str, tuple[str, dict | None]]:
    j, g, r, c = world["journey"], world["generation"], world["reading"], world["conversation"]
    return {
        "dashboard": ("/", None),
        "emotion index": ("/emotion/", None),
        "emotion history": ("/emotion/history/", None),
        "emotion detail": (f"/emotion/{r.pk}/", None),
        "music studio": ("/music/", None),
        "music history": ("/music/history/", None),
        "music detail": (f"/music/{g.pk}/", None),
        "music detail (running)": (f"/music/{g.pk + 1}/", None),
        "journey new": ("/music/journeys/new/", None),
        "journey plan": ("/music/journeys/new/", {"action": "plan", "emotion": "sad", "target": "sleep", "minutes": "2",
                                                  "sections": "3", "engine": "offline", "intensity": "3"}),
        "journey detail": (f"/music/journeys/{j.pk}/", None),
        "journey detail (failed)": (f"/music/journeys/{j.pk + 1}/", None),
        "mood": ("/music/mood/?period=all", None),
        "voice": (f"/voice/c/{c.pk}/", None),
        "speakers": ("/voice/speakers/", None),
        "profile": ("/accounts/profile/", None),
        "preferences": ("/accounts/preferences/", None),
        "404": ("/music/999999/", None),
    }


def _zh_client(user=None) -> Client:
    client = Client(HTTP_ACCEPT_LANGUAGE="zh-hans")
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "zh-hans"
    if user is not None:
        client.force_login(user)
    return client


@pytest.mark.django_db
def test_every_page_reads_in_chinese(world, settings):
    settings.OPENAI_BASE_URL = ""  # the journey plan from the template writer, without an LLM
    client = _zh_client(world["user"])
    found: dict[str, list[str]] = {}
    for name, (url, post) in _pages(world).items():
        response = client.post(url, post) if post else client.get(url)
        assert response.status_code in (200, 404), (name, response.status_code)
        found[name] = english_words(visible_text(response.content.decode()), world["data"])
    anonymous = _zh_client()
    for name, url in (("login", "/accounts/login/"), ("signup", "/accounts/signup/")):
        found[name] = english_words(visible_text(anonymous.get(url).content.decode()))
    for name, words in found.items():
        print(f"{name:26} {len(words):4}  {' '.join(words)}")
    total = sum(len(words) for words in found.values())
    print(f"{'total':26} {total:4}")
    assert total == 0, {name: words for name, words in found.items() if words}


@pytest.mark.django_db
def test_page_data_for_scripts_is_translated(world, settings):
    """What the scripts show (status pills, progress notes, chart labels) comes translated from the server."""
    import json

    client = _zh_client(world["user"])
    g, j = world["generation"], world["journey"]
    state = client.get(f"/music/{g.pk + 1}/status/").json()
    assert state["status_label"] == "进行中" and state["note_label"] == "正在写入文件"
    state = client.get(f"/music/journeys/{j.pk + 1}/status/").json()
    assert state["status_label"] == "失败" and "section" not in state["note_label"]
    html = client.get("/music/mood/?period=all").content.decode()
    data = json.loads(re.search(r'<script id="mood-data" type="application/json">(.*?)</script>', html, re.S).group(1))
    for session in data["sessions"]:
        assert not english_words(session["label"]) and not english_words(session["before_mood_label"])
    for row in data["readings"]:
        assert not english_words(row["emotion_label"])
    for row in data["by_target"]:
        assert not english_words(row["name"])
    for url in (f"/music/{g.pk}/", f"/music/journeys/{j.pk}/"):
        labels = json.loads(re.search(r'<script id="job-labels" type="application/json">(.*?)</script>',
                                      client.get(url).content.decode(), re.S).group(1))
        assert labels["notes"]["writing files"] == "正在写入文件" and labels["notes"]["done"] == "完成"
        assert labels["statuses"]["succeeded"] == "已完成"


def test_mood_and_emotion_names_are_distinct_in_chinese():
    from django.utils import translation

    from emotion.models import Emotion
    from music.models import CheckIn, Journey

    with translation.override("zh-hans"):
        emotions = {value: str(label) for value, label in Emotion.choices}
        moods = {value: str(label) for value, label in CheckIn.MOODS}
        targets = {value: str(label) for value, label in Journey.Target.choices}
    for table in (emotions, moods, targets):
        assert len(set(table.values())) == len(table), table
        assert not [v for v in table.values() if re.search("[A-Za-z]", v)], table
    assert moods["calm"] != moods["neutral"] and targets["calm"] == moods["calm"]
    assert emotions["neutral"] == moods["neutral"]
