"""Dependencies point one way: core <- accounts <- emotion <- music, voicechat <- ops <- project."""

from __future__ import annotations

from io import StringIO
from pathlib import Path

from django.conf import settings
from django.core.management import call_command

from ops.management.commands.import_graph import import_edges, upward


def test_no_app_imports_a_layer_above_its_own():
    edges = import_edges(Path(settings.BASE_DIR))
    against = {edge: files for edge, files in edges.items() if upward(edge)}
    assert against == {}
    # The reader sees what it checks: function-level imports count, the wiring modules are the project's.
    assert ("music", "emotion") in edges and ("project", "voicechat") in edges


def test_an_upward_import_is_found_and_marked(tmp_path):
    (tmp_path / "emotune").mkdir()
    (tmp_path / "emotune" / "jobs.py").write_text("def f():\n    from ops.services import log_write\n")
    (tmp_path / "emotune" / "urls.py").write_text("import music.urls\n")
    edges = import_edges(tmp_path)
    assert edges == {("emotune", "ops"): ["emotune/jobs.py"], ("project", "music"): ["emotune/urls.py"]}
    assert upward(("emotune", "ops")) and not upward(("project", "music"))
    assert upward(("music", "voicechat"))  # sideways within a layer counts too


def test_the_command_prints_the_graph():
    out = StringIO()
    call_command("import_graph", "--files", stdout=out)
    text = out.getvalue()
    assert "music -> emotion" in text and "music/brief.py" in text
    assert text.rstrip().endswith("(emotune <- accounts <- emotion <- music, voicechat <- ops <- project)")
    assert " 0 against the layers" in text
