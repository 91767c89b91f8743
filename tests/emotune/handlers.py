"""Job handlers used by the job-machinery tests (importable by a real worker)."""

import time

from emotune.jobs import JobError


def succeed(row, progress):
    for step, note in enumerate(["loading", "working", "saving"], start=1):
        progress(step / 4, note)
    row.progress_note = "done"
    row.save(update_fields=["progress_note"])


def fail(row, progress):
    progress(0.5, "halfway")
    raise JobError("The engine could not read this file.")


def crash(row, progress):
    raise ValueError("unexpected value 42")


def hang(row, progress):
    for i in range(600):
        progress(min(i / 600, 0.99), "hanging")
        time.sleep(0.1)


def lose_db_connection(row, progress):
    """Kill this worker's own MySQL connection from outside, then touch the database."""
    import MySQLdb
    from django.db import connection

    progress(0.1, "connected")
    with connection.cursor() as cursor:
        cursor.execute("SELECT CONNECTION_ID()")
        own_id = cursor.fetchone()[0]
    params = connection.settings_dict
    admin = MySQLdb.connect(host=params["HOST"], user=params["USER"], password=params["PASSWORD"], port=int(params["PORT"]))
    admin.cursor().execute(f"KILL {int(own_id)}")
    admin.close()
    type(row).objects.filter(pk=row.pk).update(progress_note="unreachable")  # raises: the connection is gone


def swallow_alarm(row, progress):
    """Like an engine with a broad fallback: the worker's time-limit alarm is caught and ignored."""
    for i in range(600):
        try:
            time.sleep(0.1)
        except Exception:
            pass
        progress(min(i / 600, 0.99), "still going")


def touch(path: str) -> None:
    """A row-less call (JobsBackend.call): leaves a file behind to show it ran, and where."""
    import os

    with open(path, "w") as fh:
        fh.write(str(os.getpid()))
