"""manage.py generate_music: the whole pipeline from the command line, with a progress bar."""

from __future__ import annotations

import json

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from emotune.jobs import JobError
from music.management.progress import progress_bar
from music.services import run_pipeline


class Command(BaseCommand):
    help = "Generate music from an emotion, a photo/video, a description or your own English prompt."

    def add_arguments(self, parser):
        parser.add_argument("--media", help="photo or video to read the emotion from")
        parser.add_argument("--emotion", help="use this emotion instead of reading one")
        parser.add_argument("--description", default="", help="your own words about the music")
        parser.add_argument("--prompt", dest="manual_prompt", help="a complete English prompt (skips the agents)")
        parser.add_argument("--user", help="username: use their preferences and store the result in their history")
        parser.add_argument("--preferences", help='JSON, e.g. {"genres": ["jazz"], "bpm_min": 60, "bpm_max": 90}')
        parser.add_argument("--engine", choices=["offline", "musicgen", "audiocraft"])
        parser.add_argument("--model", help="MusicGen hub id or local directory")
        parser.add_argument("--duration", type=float)
        parser.add_argument("--top-k", type=int, dest="top_k")
        parser.add_argument("--top-p", type=float, dest="top_p")
        parser.add_argument("--temperature", type=float)
        parser.add_argument("--cfg-coef", type=float, dest="cfg_coef")
        parser.add_argument("--seed", type=int)
        parser.add_argument("--decoder", choices=["default", "MultiBand_Diffusion"])
        parser.add_argument("--video", action="store_true", help="also make a waveform video")
        parser.add_argument("--output-dir", help="where files go (default MEDIA_ROOT/music/cli)")
        parser.add_argument("--json", action="store_true", help="print the result as JSON only")

    def handle(self, *args, **opts):
        user = None
        if opts["user"]:
            user = get_user_model().objects.filter(username=opts["user"]).first()
            if user is None:
                raise CommandError(f"No user named {opts['user']!r}.")
        try:
            preferences = json.loads(opts["preferences"]) if opts["preferences"] else None
        except ValueError as exc:
            raise CommandError("--preferences must be a JSON object") from exc
        params = {k: opts[k] for k in ("engine", "model", "duration", "top_k", "top_p", "temperature", "cfg_coef",
                                       "seed", "decoder") if opts[k] is not None}
        params["video"] = opts["video"]
        quiet = opts["json"]
        bar = progress_bar(self.stderr, quiet=quiet)

        try:
            result = run_pipeline(media_path=opts["media"], user=user, params=params,
                                  override_emotion=opts["emotion"], preferences_override=preferences,
                                  manual_prompt=opts["manual_prompt"], description=opts["description"],
                                  progress=bar, output_dir=opts["output_dir"])
        except ValidationError as exc:
            raise CommandError("; ".join(f"{k}: {' '.join(v)}" for k, v in exc.message_dict.items())) from exc
        except JobError as exc:
            raise CommandError(str(exc)) from exc
        if not quiet:
            self.stderr.write("")
        self.stdout.write(json.dumps(result, indent=None if quiet else 2, ensure_ascii=False))
