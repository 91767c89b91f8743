"""List the model engines every app declares in ``<app>/engines.py``; ``--warmup`` loads them.

``emotune_models fetch [NAME...] [--profile gpu|cpu] [--source hf|modelscope]`` downloads their
weights into MODELS_DIR (emotune/models_fetch.py holds the table)."""

from __future__ import annotations

import json
import logging
import time

from django.core.management.base import BaseCommand, CommandError
from django.template.defaultfilters import filesizeformat

from ops.selectors import engine_list, engine_modules


class Command(BaseCommand):
    help = (
        "List configured model engines: kind, whether active, where their files are expected, whether they are "
        "present and their size. --warmup loads the active ones into this process (run it on a worker host to "
        "check that the weights load)."
    )

    def add_arguments(self, parser):
        parser.add_argument("action", nargs="?", choices=["list", "fetch"], default="list",
                            help="list (default) the engines, or fetch their weights from a model hub")
        parser.add_argument("names", nargs="*", metavar="NAME",
                            help="fetch: these models (default: those of --profile); `fetch --list` names them")
        parser.add_argument("--profile", choices=["gpu", "cpu"], help="fetch: the models this kind of host uses "
                            "(default cpu)")
        parser.add_argument("--source", choices=["hf", "modelscope"], default="hf",
                            help="fetch: Hugging Face (honours HF_ENDPOINT, default) or ModelScope")
        parser.add_argument("--verify", action="store_true",
                            help="fetch: check the sha256 of files already there too, re-fetching bad ones")
        parser.add_argument("--list", action="store_true", dest="list_models",
                            help="fetch: print the table of fetchable models and stop")
        parser.add_argument("--warmup", action="store_true", help="load the active engines and report timings")
        parser.add_argument("--json", action="store_true", help="print the list as JSON")
        parser.add_argument("--app", action="append", dest="apps", metavar="APP",
                            help="only this app's engines (repeatable)")

    def handle(self, *args, apps=None, warmup=False, **options):
        if options["action"] == "fetch":
            return self._fetch(options)
        if options["names"]:
            raise CommandError("names are for `emotune_models fetch NAME...`")
        if options["json"]:
            # The log goes to stdout: keep it out of the JSON (a fallback warning would break a parser).
            logging.disable(logging.WARNING)
            try:
                engines = engine_list(only=apps)
            finally:
                logging.disable(logging.NOTSET)
        else:
            engines = engine_list(only=apps)
        if options["json"]:
            self.stdout.write(json.dumps(engines, ensure_ascii=False, indent=2))
        elif not engines:
            self.stdout.write("No engines declared yet (no <app>/engines.py with engines_describe()).")
        else:
            for engine in engines:
                state = self.style.SUCCESS("present") if engine["present"] else self.style.ERROR("MISSING")
                size = filesizeformat(engine["size_bytes"]).replace("\xa0", " ") if engine["size_bytes"] else "-"
                active = "active" if engine["active"] else "inactive"
                self.stdout.write(
                    f"{engine['app']:<10} {engine['kind'] or '':<10} {engine['name']:<28} {active:<8} {state} "
                    f"{size:>9}  {engine['path'] or '-'}"
                )
                if engine["note"]:
                    self.stdout.write(f"{'':<10} {engine['note']}")
        if not apps and not options["json"]:
            from emotune.models_fetch import REGISTRY, model_present

            absent = [m.name for m in REGISTRY.values() if (m.hf or m.modelscope) and not model_present(m)]
            if absent:
                self.stdout.write(f"Not fetched (manage.py emotune_models fetch NAME): {', '.join(absent)}")
        if warmup:
            self._warmup(apps)
        missing = [e["name"] for e in engines if e["active"] and not e["present"]]
        if missing and not options["json"]:
            self.stderr.write(f"Missing files for active engines: {', '.join(missing)}")

    def _warmup(self, apps):
        failed = False
        for app, module in engine_modules(only=apps):
            warm = getattr(module, "engines_warmup", None)
            if not callable(warm):
                continue
            self.stdout.write(f"Warming up {app} engines...")
            started = time.perf_counter()
            try:
                loaded = warm()
            except Exception as exc:  # noqa: BLE001 - report every app, then fail
                failed = True
                self.stderr.write(f"  {app}: {type(exc).__name__}: {exc}")
                continue
            self.stdout.write(f"  {app}: loaded {', '.join(loaded) or 'nothing'} in "
                              f"{time.perf_counter() - started:.2f} s")
        if failed:
            raise CommandError("warm-up failed")

    def _fetch(self, options):
        from emotune.models_fetch import FetchError, fetch, human, models_select, registry_rows

        if options["list_models"]:
            for row in registry_rows():
                state = "present" if row["present"] else "-"
                self.stdout.write(f"{row['name']:<28} {row['engine']:<17} {','.join(row['profiles']) or '-':<8} "
                                  f"~{human(row['size_bytes']):>9}  {state:<8} hf:{row['hf'] or '-'}  "
                                  f"modelscope:{row['modelscope'] or '-'}")
            return
        try:
            chosen = models_select(options["names"], options["profile"])
        except FetchError as exc:
            raise CommandError(str(exc)) from None
        failed = []
        for model in chosen:
            try:
                fetch(model, options["source"], say=self.stdout.write, verify=options["verify"])
            except KeyboardInterrupt:
                raise CommandError(f"{model.name}: interrupted; run the same command again to resume") from None
            except FetchError as exc:
                failed.append(model.name)
                self.stderr.write(self.style.ERROR(f"{model.name}: {exc}"))
        if failed:
            # CommandError prints one line, no traceback, and exits 1.
            raise CommandError(f"{len(failed)} of {len(chosen)} model(s) not fetched: {', '.join(failed)}")
