"""Prompt agents against a real OpenAI-compatible server on loopback (the fake_llm fixture)."""

from __future__ import annotations

import json

import pytest

from music.agents import agent_draft, agents_run
from music.brief import BriefError, brief_validate

GOOD = {"prompt": "warm lo-fi piano with soft pads to comfort, 70 BPM", "genre": "lo-fi", "mood": "warm",
        "goal": "comfort", "instruments": ["piano", "pads"], "bpm": 70, "key": "F", "mode": "major",
        "energy": 0.3, "drums": True, "negative": "harsh drums"}
PERSONAL = {**GOOD, "prompt": "warm jazz-tinged lo-fi piano, 74 BPM", "bpm": 74,
            "params": {"temperature": 0.8, "cfg_coef": 4.0, "top_k": 200}}
PREFS = {"genres": ["jazz"], "instruments": ["saxophone"], "bpm_min": 60, "bpm_max": 90, "negative_prompt": "vocals"}


def _answer(obj) -> dict:
    return {"content": json.dumps(obj)}


def test_llm_path_runs_three_agents_in_order(fake_llm):
    fake_llm.script = [_answer(GOOD), _answer({**GOOD, "prompt": "merged: rainy evening lo-fi piano"}), _answer(PERSONAL)]
    out = agents_run(emotion="sad", description="a rainy evening", preferences=PREFS)
    assert out["path"] == "llm"
    assert out["prompt_draft"] == GOOD["prompt"]
    assert out["prompt_merged"] == "merged: rainy evening lo-fi piano"
    assert out["prompt_final"] == PERSONAL["prompt"]
    assert out["suggestion"] == {"temperature": 0.8, "cfg_coef": 4.0, "top_k": 200}
    assert "params" not in out["brief"]
    assert len(fake_llm.requests) == 3
    assert all(r["response_format"] == {"type": "json_object"} for r in fake_llm.requests)
    # each agent saw its own inputs: the emotion, then the user's words, then the preferences
    assert "sad" in fake_llm.requests[0]["messages"][1]["content"]
    assert "a rainy evening" in fake_llm.requests[1]["messages"][1]["content"]
    assert "saxophone" in fake_llm.requests[2]["messages"][1]["content"]


def test_malformed_answer_is_retried_once_then_accepted(fake_llm):
    fake_llm.script = [{"content": "this is not json"}, _answer(GOOD)]
    result = agent_draft(emotion="angry")
    assert result.path == "llm" and result.brief["bpm"] == 70
    assert len(fake_llm.requests) == 2
    assert "not valid JSON" in result.notes[0]


def test_invalid_brief_is_retried_with_the_reason(fake_llm):
    fake_llm.script = [_answer({**GOOD, "bpm": 400}), _answer(GOOD)]
    result = agent_draft(emotion="fear")
    assert result.path == "llm"
    assert "bpm must be between" in fake_llm.requests[1]["messages"][-1]["content"]


@pytest.mark.parametrize("entry,reason", [
    ({"status": 500}, "HTTP 500"),
    ({"hang": 3, "content": "{}"}, "timed out"),
    ({"content": "[1, 2]"}, "not a JSON object"),
])
def test_failing_llm_falls_back_to_template_after_one_retry(fake_llm, settings, entry, reason):
    settings.LLM_TIMEOUT = 0.5
    fake_llm.script = [entry]
    out = agents_run(emotion="sad", description="", preferences={})
    assert out["path"] == "template"
    notes = out["steps"]["draft"]["notes"]
    assert len(notes) == 2 and reason in notes[0]
    brief = brief_validate(out["brief"])  # still a valid brief
    assert brief["mode"] == "major" and 60 <= brief["bpm"] <= 85  # sad → comfort, then lift


def test_no_llm_configured_uses_template_and_says_so(settings):
    settings.OPENAI_BASE_URL = settings.OPENAI_API_KEY = ""
    out = agents_run(emotion="angry", description="some cello please, slow", preferences=PREFS)
    assert out["path"] == "template"
    assert out["steps"]["draft"]["notes"] == ["no LLM configured"]
    brief = out["brief"]
    assert "cello" in brief["instruments"] and "saxophone" in brief["instruments"]
    assert 60 <= brief["bpm"] <= 90 and "vocals" in brief["negative"]
    assert "Inspired by: some cello please, slow" in out["prompt_final"]


def test_brief_validation_names_the_problem():
    with pytest.raises(BriefError, match="prompt"):
        brief_validate({**GOOD, "prompt": ""})
    with pytest.raises(BriefError, match="mode"):
        brief_validate({**GOOD, "mode": "dorian"})
    with pytest.raises(BriefError, match="English"):
        brief_validate({**GOOD, "prompt": "温柔的钢琴音乐，七十拍每分钟"})
