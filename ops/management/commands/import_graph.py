"""Print which apps import which: every ``import`` in the apps' code (function-level ones too),
read with ``ast``, grouped by edge, with the edges that point against the layers marked."""

from __future__ import annotations

import ast
from collections import defaultdict
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand

# Lower layers never import higher ones: the core, then accounts, the feature apps, ops on top.
LAYERS = {"emotune": 0, "accounts": 1, "emotion": 2, "music": 2, "voicechat": 2, "ops": 3}


def import_edges(root: Path) -> dict[tuple[str, str], list[str]]:
    """(importing app, imported app) -> the files where it happens, for the apps in LAYERS."""
    edges: dict[tuple[str, str], list[str]] = defaultdict(list)
    for app in LAYERS:
        for path in sorted((root / app).rglob("*.py")):
            if "migrations" in path.parts:
                continue
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
                    if target in LAYERS and target != app:
                        where = str(path.relative_to(root))
                        if where not in edges[(app, target)]:
                            edges[(app, target)].append(where)
    return edges


def upward(edge: tuple[str, str]) -> bool:
    """An import from a layer below into one above, or sideways between feature apps."""
    source, target = edge
    return LAYERS[target] > LAYERS[source] or (LAYERS[target] == LAYERS[source] == 2)


class Command(BaseCommand):
    help = "Print the import graph between the apps; edges against the layers are marked '!'."

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
                          "(core emotune <- accounts <- emotion, music, voicechat <- ops)")
