"""manage.py run_journey: plan and render a mood journey from the command line, with a progress bar."""

from __future__ import annotations

import json
from pathlib import Path

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from emotune.jobs import JobError
from music.journeys import MOODS, TARGETS, PlanError, plan_build
from music.management.progress import progress_bar


class Command(BaseCommand):
    help = "Render a mood journey: music that starts at a mood and leads to a target (calm, uplifted, focused, sleep)."

    def add_arguments(self, parser):
        parser.add_argument("--media", help="photo or video to read the starting emotion from")
        parser.add_argument("--emotion", choices=sorted(MOODS), help="the starting mood instead of reading one")
        parser.add_argument("--intensity", type=int, choices=range(1, 6), help="how strong the mood is (1-5)")
        parser.add_argument("--target", choices=sorted(TARGETS), default="calm")
        parser.add_argument("--minutes", type=float, default=2.0, help="2-10")
        parser.add_argument("--sections", type=int, default=3, help="2-6")
        parser.add_argument("--plan", help="a plan JSON file to render instead of writing one (see --plan-only)")
        parser.add_argument("--plan-only", action="store_true", help="print the written plan and stop")
        parser.add_argument("--user", help="username: use their taste and store the journey in their history")
        parser.add_argument("--engine", choices=["offline", "musicgen"])
        parser.add_argument("--model", help="MusicGen hub id or local directory")
        parser.add_argument("--seed", type=int)
        parser.add_argument("--output-dir", help="where files go (default MEDIA_ROOT/music/cli)")
        parser.add_argument("--json", action="store_true", help="print the result as JSON only")

    def handle(self, *args, **opts):
        from music.services import preferences_dict, run_journey

        user = None
        if opts["user"]:
            user = get_user_model().objects.filter(username=opts["user"]).first()
            if user is None:
                raise CommandError(f"No user named {opts['user']!r}.")
        if opts["plan_only"]:
            try:
                plan = plan_build(emotion=opts["emotion"] or "neutral", target=opts["target"], minutes=opts["minutes"],
                                  sections=opts["sections"], intensity=opts["intensity"],
                                  preferences=preferences_dict(user))
            except PlanError as exc:
                raise CommandError(str(exc)) from exc
            self.stdout.write(json.dumps(plan, indent=2, ensure_ascii=False))
            return
        plan = None
        if opts["plan"]:
            try:
                plan = json.loads(Path(opts["plan"]).read_text())
            except (OSError, ValueError) as exc:
                raise CommandError(f"--plan must be a readable JSON file ({exc})") from exc
        params = {k: opts[k] for k in ("engine", "model", "seed") if opts[k] is not None}
        quiet = opts["json"]
        bar = progress_bar(self.stderr, quiet=quiet)

        try:
            result = run_journey(target=opts["target"], minutes=opts["minutes"], sections=opts["sections"],
                                 emotion=opts["emotion"], media_path=opts["media"], intensity=opts["intensity"],
                                 user=user, params=params, plan=plan, progress=bar, output_dir=opts["output_dir"])
        except ValidationError as exc:
            raise CommandError("; ".join(f"{k}: {' '.join(v)}" for k, v in exc.message_dict.items())) from exc
        except JobError as exc:
            raise CommandError(str(exc)) from exc
        if not quiet:
            self.stderr.write("")
        self.stdout.write(json.dumps(result, indent=None if quiet else 2, ensure_ascii=False))
