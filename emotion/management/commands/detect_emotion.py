"""manage.py detect_emotion PATH [--json]: the reading the website would show, for a local file."""

from __future__ import annotations

import json
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError


class Command(BaseCommand):
    help = "Read the emotion of the face in a photo or short video."

    def add_arguments(self, parser):
        parser.add_argument("path", type=Path)
        parser.add_argument("--json", action="store_true", help="print the full result as JSON")
        parser.add_argument("--classifier", help="override EMOTION_CLASSIFIER for this run")

    def handle(self, *args, path: Path, json: bool = False, classifier: str | None = None, **options):
        from emotion.analysis import image_read, video_read
        from emotion.media import MediaError, media_check

        if not path.is_file():
            raise CommandError(f"{path}: no such file")
        with path.open("rb") as fh:
            try:
                checked = media_check(fh)  # the same content checks as an upload
            except MediaError as exc:
                raise CommandError(f"{path}: {exc}") from exc
        checked.discard()
        try:
            if checked.kind == "video":
                result = video_read(path, classifier_name=classifier)
            else:
                result = image_read(path, classifier_name=classifier)
        except (FileNotFoundError, ValueError) as exc:
            raise CommandError(str(exc)) from exc
        result = {"path": str(path), "kind": checked.kind, **result}
        if json:
            self.stdout.write(_json_dumps(result))
        else:
            self.stdout.write(_text(result))


def _json_dumps(result: dict) -> str:
    return json.dumps(result, indent=2, ensure_ascii=False)


def _text(r: dict) -> str:
    if not r["face_found"]:
        head = "no face found"
    elif r["uncertain"]:
        head = f"uncertain (best guess {max(r['scores'], key=r['scores'].get)} {r['confidence']:.2f})"
    else:
        head = f"{r['emotion']} (confidence {r['confidence']:.2f})"
    lines = [f"{r['path']}: {head}  [{r['model_name']}]"]
    for emotion, p in r["scores"].items():
        lines.append(f"  {emotion:<9} {p:5.2f} {'#' * round(p * 40)}")
    if r["kind"] == "video":
        lines.append(f"  {r['frames_analysed']} frames analysed over {r['media_seconds']:.1f} s, "
                     f"{r['frames_without_face']} without a face")
        for s in r["timeline"]:
            lines.append(f"  {s['start']:6.1f}-{s['end']:6.1f} s  {s['emotion'] or 'no face'}")
    elif r["face_box"]:
        b = r["face_box"]
        lines.append(f"  face at x={b['x']} y={b['y']} {b['w']}x{b['h']}")
    return "\n".join(lines)
