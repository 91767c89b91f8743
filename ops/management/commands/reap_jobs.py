"""End job rows left running by dead workers and re-send queued rows whose queue entry was lost."""

from django.core.management.base import BaseCommand

from emotune.jobs import jobs_reap


class Command(BaseCommand):
    help = (
        "Mark rows failed whose worker no longer sends a heartbeat, and re-send queued rows whose RQ job is "
        "gone. Workers do this on a timer; run it by hand after a crash or a Redis flush."
    )

    def add_arguments(self, parser):
        parser.add_argument("--grace", type=int, default=30, metavar="SECONDS",
                            help="leave queued rows younger than this alone (default 30)")

    def handle(self, *args, grace: int, **options):
        result = jobs_reap(grace_seconds=grace)
        self.stdout.write(f"{result.failed} row(s) marked failed, {result.resent} row(s) re-sent.")
