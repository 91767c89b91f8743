"""Print which apps import which: every ``import`` in the apps' code (function-level ones too),
read with ``ast``, grouped by edge, with the edges that point against the layers marked."""

from __future__ import annotations

import ast
from collections import defaultdict
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand

# Lower layers never import higher ones, nor apps of their own layer: the core, accounts, emotion
# (readings), the apps built on them (music from a reading, the voice companion), ops on top, and
# the project's wiring (URLs, ASGI routes, the API's assembly, the home page), which names every app.
LAYERS = {"emotune": 0, "accounts": 1, "emotion": 2, "music": 3, "voicechat": 3, "ops": 4, "project": 5}
PROJECT_MODULES = {"emotune/urls.py", "emotune/asgi.py", "emotune/routing.py", "emotune/api.py", "emotune/views.py"}


def import_edges(root: Path) -> dict[tuple[str, str], list[str]]:
    """(importing app, imported app) -> the files where it happens, for the apps in LAYERS."""
    edges: dict[tuple[str, str], list[str]] = defaultdict(list)
    for package in [app for app in LAYERS if app != "project"]:
        for path in sorted((root / package).rglob("*.py")):
            if "migrations" in path.parts:
                continue
            where = str(path.relative_to(root))
            app = "project" if where in PROJECT_MODULES else package
            tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
            for node in ast.walk(tree):
                if isinstance(node, ast.Import):
                    names = [alias.name for alias in node.names]
                elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                    names = [node.module]
                else:
                    continue
                for name in names:
                    target = name.split(".")[0]
                    if target in LAYERS and target != app and where not in edges[(app, target)]:
                        edges[(app, target)].append(where)
    return edges


def upward(edge: tuple[str, str]) -> bool:
    """An import from a layer into one above it, or into another app of its own layer."""
    source, target = edge
    return LAYERS[target] >= LAYERS[source]


class Command(BaseCommand):
    help = "Print the import graph between the apps; edges against the layers are marked '!'."
    requires_system_checks: list[str] = []  # it reads the source, so it runs even where the code does not

    def add_arguments(self, parser):
        parser.add_argument("--files", action="store_true", help="list the importing files of each edge")

    def handle(self, *args, files: bool = False, **options):
        edges = import_edges(Path(settings.BASE_DIR))
        against = [edge for edge in edges if upward(edge)]
        for edge in sorted(edges, key=lambda e: (LAYERS[e[0]], e)):
            mark = "!" if edge in against else " "
            self.stdout.write(f"{mark} {edge[0]:>9} -> {edge[1]:<9} {len(edges[edge]):3} file(s)")
            if files:
                for where in edges[edge]:
                    self.stdout.write(f"{'':16}{where}")
        self.stdout.write(f"{len(edges)} edges, {len(against)} against the layers "
                          "(emotune <- accounts <- emotion <- music, voicechat <- ops <- project)")
