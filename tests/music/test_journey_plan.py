"""Journey plans: built from a mood to a target, validated, edited (pure functions, no database)."""

from __future__ import annotations

import copy
import itertools

import pytest

from music.journeys import (
    BPM_STEP_MAX,
    MOODS,
    SECTION_MIN_S,
    TARGETS,
    PlanError,
    checkin_improvement,
    distance,
    mood_point,
    plan_build,
    plan_edit,
    plan_validate,
    section_starts,
    target_point,
)


def _monotone(values):
    return all(b >= a - 1e-3 for a, b in itertools.pairwise(values)) or all(b <= a + 1e-3 for a, b in itertools.pairwise(values))


@pytest.mark.parametrize("emotion", sorted(MOODS))
@pytest.mark.parametrize("target", sorted(TARGETS))
def test_built_plans_step_monotonically_from_the_mood_to_the_target(emotion, target):
    plan = plan_build(emotion=emotion, target=target, minutes=3.5, sections=4)
    sections = plan["sections"]
    assert len(sections) == 4
    assert sum(s["seconds"] for s in sections) == pytest.approx(210.0, abs=0.05) == plan["total_seconds"]
    assert all(s["seconds"] >= SECTION_MIN_S for s in sections)
    start, end = mood_point(emotion), target_point(target)
    assert (sections[0]["valence"], sections[0]["arousal"]) == pytest.approx(start, abs=1e-3)
    assert (sections[-1]["valence"], sections[-1]["arousal"]) == pytest.approx(end, abs=1e-3)
    for axis in ("valence", "arousal"):
        assert _monotone([start[0 if axis == "valence" else 1]] + [s[axis] for s in sections])
    gaps = [distance((s["valence"], s["arousal"]), end) for s in sections]
    assert gaps == sorted(gaps, reverse=True)  # every step is closer to the target
    assert all(abs(a["bpm"] - b["bpm"]) <= BPM_STEP_MAX for a, b in itertools.pairwise(sections))
    for s in sections:
        assert s["dynamics"] in ("pp", "p", "mp", "mf", "f") and s["instruments"] and s["key"] and s["mode"]
        assert str(s["bpm"]) in s["prompt"] and s["prompt"].isascii()
    assert plan_validate(plan) == plan  # a built plan passes the gate unchanged


def test_tempo_and_dynamics_follow_arousal_towards_sleep():
    plan = plan_build(emotion="angry", target="sleep", minutes=4, sections=4)
    bpms = [s["bpm"] for s in plan["sections"]]
    assert bpms == sorted(bpms, reverse=True) and bpms[-1] <= 55
    assert plan["sections"][0]["dynamics"] in ("mf", "f") and plan["sections"][-1]["dynamics"] == "pp"
    assert any("pad" in i for i in plan["sections"][-1]["instruments"])


def test_intensity_moves_the_start_and_preferences_colour_the_genre():
    mild = plan_build(emotion="sad", target="uplifted", minutes=2, sections=3, intensity=1)
    strong = plan_build(emotion="sad", target="uplifted", minutes=2, sections=3, intensity=5)
    assert mild["sections"][0]["valence"] > strong["sections"][0]["valence"] == pytest.approx(-0.7)
    jazz = plan_build(emotion="sad", target="calm", minutes=2, sections=3, preferences={"genres": ["jazz"]})
    assert {s["genre"] for s in jazz["sections"]} == {"jazz"}


def _plan():
    return plan_build(emotion="sad", target="calm", minutes=3, sections=3)


@pytest.mark.parametrize("breakage, message", [
    (lambda p: p["sections"][1].update(seconds=70), "add up to"),
    (lambda p: p.update(total_seconds=100) or [s.update(seconds=x) for s, x in zip(p["sections"], (30, 30, 40))],
     "2–10 minutes"),
    (lambda p: p["sections"][0].update(seconds=10) or p["sections"][1].update(seconds=110), "at least 20"),
    (lambda p: p["sections"][1].update(valence=p["sections"][0]["valence"] - 0.2), "valence must move steadily"),
    (lambda p: p["sections"][1].update(arousal=-0.9), "arousal must move steadily"),  # past the target's -0.5
    (lambda p: p["sections"][0].update(valence=p["sections"][1]["valence"]), "meet the listener"),
    (lambda p: p["sections"][2].update(valence=0.3, arousal=-0.5), "arrive at the target"),
    (lambda p: p["sections"][1].update(bpm=p["sections"][0]["bpm"] + 40), "tempo jumps"),
    (lambda p: p["sections"][1].update(bpm=300), "bpm must be between"),
    (lambda p: p["sections"][1].update(key="H"), "key must be one of"),
    (lambda p: p["sections"][1].update(dynamics="loud"), "dynamics must be one of"),
    (lambda p: p["sections"][1].update(seconds="long"), "seconds must be a number"),
    (lambda p: p.update(target="elsewhere"), "unknown target"),
    (lambda p: p["start"].update(emotion="bored"), "unknown start mood"),
    (lambda p: p.update(sections=p["sections"][:1]), "2–6 sections"),
    (lambda p: p.update(sections=p["sections"] * 3), "2–6 sections"),
])
def test_plan_validation_names_what_is_wrong(breakage, message):
    plan = _plan()
    broken = copy.deepcopy(plan)
    breakage(broken)
    with pytest.raises(PlanError, match=message):
        plan_validate(broken)


def test_building_refuses_what_cannot_be_gradual_or_is_out_of_range():
    with pytest.raises(PlanError, match="at least 3"):
        plan_build(emotion="angry", target="sleep", minutes=3, sections=2)
    with pytest.raises(PlanError, match="2–6 sections"):
        plan_build(emotion="sad", target="calm", minutes=3, sections=7)
    with pytest.raises(PlanError, match="minutes"):
        plan_build(emotion="sad", target="calm", minutes=11, sections=3)
    with pytest.raises(PlanError, match="unknown mood"):
        plan_build(emotion="bored", target="calm")


def test_editing_keeps_the_plan_valid_and_the_total_follows():
    plan = _plan()
    edited = plan_edit(plan, {0: {"seconds": "50", "bpm": "70", "instruments": "cello, harp"},
                              2: {"key": "F", "mode": "major", "dynamics": "pp"}})
    assert edited["total_seconds"] == 170.0 and [s["seconds"] for s in edited["sections"]] == [50.0, 60.0, 60.0]
    assert edited["sections"][0]["bpm"] == 70 and "70 BPM" in edited["sections"][0]["prompt"]
    assert edited["sections"][0]["instruments"] == ["cello", "harp"]
    assert edited["sections"][2]["key"] == "F" and "very soft dynamics" in edited["sections"][2]["prompt"]
    assert section_starts(edited) == [0.0, 50.0, 110.0]
    with pytest.raises(PlanError, match="cannot be edited"):
        plan_edit(plan, {1: {"valence": 0.9}})
    with pytest.raises(PlanError, match="no section 4"):
        plan_edit(plan, {3: {"bpm": 60}})
    with pytest.raises(PlanError, match="tempo jumps"):
        plan_edit(plan, {1: {"bpm": 120}})
    assert plan == _plan()  # the original is untouched


def test_checkin_improvement_is_closeness_gained_towards_the_target():
    sad, calm = mood_point("sad", 5), mood_point("calm", 4)
    assert checkin_improvement(before=sad, after=calm, target="calm") > 0.5
    assert checkin_improvement(before=calm, after=sad, target="calm") < -0.5
    assert checkin_improvement(before=sad, after=sad, target="calm") == 0
    assert mood_point("happy", 1) == pytest.approx((0.24, 0.15))


def test_a_section_brief_error_reads_in_chinese_and_goes_to_the_llm_in_english():
    from django.utils import translation

    from music.brief import BriefError, brief_validate

    plan = plan_build(emotion="sad", target="calm", minutes=3, sections=3)
    plan["sections"][1]["bpm"] = 300
    with translation.override("zh-hans"), pytest.raises(PlanError) as caught:
        plan_validate(plan)
    assert "速度（BPM）必须在 40 到 200 之间" in str(caught.value) and "bpm" not in str(caught.value).replace("BPM", "")
    with pytest.raises(BriefError, match="bpm must be a number"):  # the message an LLM retry is told
        brief_validate({"prompt": "calm piano by the sea at night", "bpm": "fast"})
