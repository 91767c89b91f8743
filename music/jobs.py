"""Thin job entry points: the worker calls these with the row and a Progress."""

from music.services import generation_execute


def generation_run(row, progress) -> None:
    generation_execute(row, progress)


def journey_run(row, progress) -> None:
    from music.services import journey_execute

    journey_execute(row, progress)
