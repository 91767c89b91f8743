"""The journey and mood pages speak the person's words: their own mood, feelings not numbers, no agent notes,
slider values, readable chart axes, and their recent journeys under the form."""

from __future__ import annotations

import json
import re
from datetime import timedelta

import pytest
from django.conf import settings as django_settings
from django.test import Client
from django.utils import timezone, translation

from emotion.models import EmotionReading
from music.journeys import plan_build
from music.models import Journey
from music.selectors import mood_history
from music.services import checkin_set

START = {"emotion": "fear", "intensity": "4", "target": "calm", "minutes": "3", "sections": "3", "engine": "offline",
         "seed": "4"}
NUMBERS = re.compile(r"-?\d\.\d\d / -?\d\.\d\d")  # "0.35 / -0.20": valence / arousal as the pages used to show them


def _client(user, zh: bool = False) -> Client:
    client = Client(HTTP_ACCEPT_LANGUAGE="zh-hans") if zh else Client()
    if zh:
        client.cookies[django_settings.LANGUAGE_COOKIE_NAME] = "zh-hans"
    client.force_login(user)
    return client


def _journey_from_form(client) -> tuple[Journey, str]:
    """Plan then render a journey from the form (the person says "Anxious"); returns it and the plan page."""
    page = client.post("/music/journeys/new/", {**START, "action": "plan"})
    assert page.status_code == 200
    plan = page.context["plan"]
    done = client.post("/music/journeys/new/", {**START, "action": "render", "plan": json.dumps(plan),
                                               "plan_path": "template"})
    assert done.status_code == 302
    return Journey.objects.get(), page.content.decode()


def _route(html: str, selector_id: str) -> str:
    return re.sub(r"\s+", " ", re.search(rf'id="{selector_id}"[^>]*>(.*?)</', html, re.S).group(1)).strip()


@pytest.mark.django_db
def test_the_journey_starts_at_the_mood_the_person_chose_everywhere(user, settings):
    settings.OPENAI_BASE_URL = settings.OPENAI_API_KEY = ""
    client = _client(user)
    journey, plan_page = _journey_from_form(client)
    assert journey.start_emotion == "fear" and journey.start_mood == "fear"  # the plan's emotion, the person's word
    assert "From Anxious to Calm" in plan_page
    detail = client.get(f"/music/journeys/{journey.pk}/").content.decode()
    assert _route(detail, "journey-route") == "Anxious → Calm"
    mood_page = client.get("/music/mood/?period=all").content.decode()
    assert "Anxious → Calm" in mood_page and "Fear →" not in mood_page and "fear →" not in mood_page
    assert "Anxious → Calm" in client.get("/music/journeys/new/").content.decode()
    # in Chinese: the mood word (焦虑), not the emotion's (恐惧)
    zh = _client(user, zh=True)
    with translation.override("zh-hans"):
        anxious, fear, calm = str(translation.gettext("Anxious")), str(translation.gettext("Fear")), str(translation.gettext("Calm"))
    assert anxious != fear
    detail = zh.get(f"/music/journeys/{journey.pk}/").content.decode()
    assert _route(detail, "journey-route") == f"{anxious} → {calm}"
    assert f"{anxious} → {calm}" in zh.get("/music/mood/?period=all").content.decode()
    assert f"{anxious} → {calm}" in zh.get("/music/journeys/new/").content.decode()


@pytest.mark.django_db
def test_a_journey_from_a_reading_starts_at_the_reading_emotion(user, settings):
    settings.OPENAI_BASE_URL = settings.OPENAI_API_KEY = ""
    reading = EmotionReading.objects.create(user=user, source="webcam", media="readings/x.jpg", status="succeeded",
                                            emotion="fear", confidence=0.8)
    client = _client(user)
    start = {**START, "emotion": "", "reading": str(reading.pk)}
    plan = client.post("/music/journeys/new/", {**start, "action": "plan"}).context["plan"]
    client.post("/music/journeys/new/", {**start, "action": "render", "plan": json.dumps(plan), "plan_path": "template"})
    journey = Journey.objects.get()
    assert journey.start_mood == "" and journey.start_label == "Fear"


@pytest.mark.django_db
def test_plan_and_journey_pages_show_feelings_not_numbers_and_no_agent_notes(user, settings):
    settings.OPENAI_BASE_URL = settings.OPENAI_API_KEY = ""
    client = _client(user)
    journey, plan_page = _journey_from_form(client)
    detail = client.get(f"/music/journeys/{journey.pk}/").content.decode()
    for html in (plan_page, detail):
        html = re.sub(r"<script.*?</script>", "", html, flags=re.S)  # what is shown, not the scripts' label tables
        assert not NUMBERS.search(html), NUMBERS.search(html)
        assert "Agent notes" not in html and "no LLM configured" not in html
        feelings = re.findall(r'<td class="small feeling">(.*?)</td>', html)
        assert len(feelings) == 3 and all(", " in f for f in feelings), feelings
    # anxious (unpleasant, activated) to calm (pleasant, calm)
    assert feelings[0] == "unpleasant, energetic" and feelings[-1] == "pleasant, calm"
    assert journey.plan_notes == ["no LLM configured"]  # kept for staff (the admin shows them)
    zh = _client(user, zh=True).get(f"/music/journeys/{journey.pk}/").content.decode()
    assert re.findall(r'<td class="small feeling">(.*?)</td>', zh)[-1] == "愉快，平静"


@pytest.mark.django_db
def test_intensity_sliders_show_their_value(user):
    client = _client(user)
    html = client.get("/music/journeys/new/").content.decode()
    assert re.search(r'<input type="range" name="intensity"[^>]*value="3"', html)
    assert re.search(r'<output class="range-value" for="id_intensity"[^>]*>3 / 5</output>', html)
    assert "music/intensity.js" in html
    journey = Journey.objects.create(user=user, start_emotion="sad", start_mood="sad", target="calm",
                                     plan=plan_build(emotion="sad", target="calm", minutes=2, sections=2))
    checkin_set(user=user, journey=journey, moment="before", mood="sad", intensity=4)
    html = client.get(f"/music/journeys/{journey.pk}/").content.decode()
    assert re.search(r'<output class="range-value" for="id_before-intensity"[^>]*>4 / 5</output>', html)
    assert re.search(r'<output class="range-value" for="id_after-intensity"[^>]*>3 / 5</output>', html)
    assert "music/intensity.js" in html
    script = (django_settings.BASE_DIR / "static" / "music" / "intensity.js").read_text()
    assert 'addEventListener("input"' in script and "output.range-value" in script


@pytest.mark.django_db
def test_mood_charts_have_distinct_reading_labels_and_a_labelled_gain_axis(user):
    now = timezone.now().replace(second=5, microsecond=0)
    for i, emotion in enumerate(["sad", "neutral", "happy"]):  # the same minute
        EmotionReading.objects.create(user=user, source="webcam", media="readings/x.jpg", status="succeeded",
                                      emotion=emotion, confidence=0.8, created_at=now + timedelta(seconds=i * 10))
    EmotionReading.objects.create(user=user, source="webcam", media="readings/x.jpg", status="succeeded",
                                  emotion="sad", confidence=0.8, created_at=now - timedelta(days=2))
    journey = Journey.objects.create(user=user, start_emotion="sad", start_mood="sad", target="calm",
                                     plan=plan_build(emotion="sad", target="calm", minutes=2, sections=2),
                                     audio="music/journeys/x.wav", status="succeeded")
    checkin_set(user=user, journey=journey, moment="before", mood="sad", intensity=5)
    checkin_set(user=user, journey=journey, moment="after", mood="calm", intensity=4)
    data = mood_history(user=user)
    labels = [tuple(r["label"]) for r in data["readings"]]
    assert len(labels) == 4 and len(set(labels)) == 4, labels
    assert all(re.fullmatch(r"\d\d-\d\d", day) and re.fullmatch(r"\d\d:\d\d(:\d\d)?", time) for day, time in labels)
    assert labels[0][1].count(":") == 1 and labels[1][1].count(":") == 2  # seconds only where a minute is shared
    session = data["sessions"][0]
    assert data["by_target"][0]["gain"] == round(session["after"] - session["before"], 1) > 0
    html = _client(user).get("/music/mood/").content.decode()
    assert 'data-t-gain="Points closer to the target after listening (0–100 scale)"' in html
    script = (django_settings.BASE_DIR / "static" / "music" / "mood.js").read_text()
    assert 't("tGain")' in script and "r.gain" in script and "r.label" in script


@pytest.mark.django_db
def test_new_journey_page_lists_only_my_recent_journeys(user, other_user):
    plan = plan_build(emotion="sad", target="calm", minutes=2, sections=2)
    mine = Journey.objects.create(user=user, start_emotion="tired", start_mood="tired", target="sleep", plan=plan,
                                  status="succeeded")
    Journey.objects.create(user=other_user, start_emotion="angry", start_mood="angry", target="focused", plan=plan)
    html = _client(user).get("/music/journeys/new/").content.decode()
    box = html[html.index('id="recent-journeys"'):]
    assert "Tired → Sleep" in box and f'href="/music/journeys/{mine.pk}/"' in box
    assert "Angry" not in box and "Focused" not in box
    assert mine.created_at.astimezone(timezone.get_current_timezone()).strftime("%Y-%m-%d") in box
    empty = _client(other_user).get("/music/journeys/new/").content.decode()
    assert "Tired → Sleep" not in empty and 'id="no-journeys"' not in empty
    assert re.search(r"<h2>Your recent journeys</h2>", html)
