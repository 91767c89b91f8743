"""Writes of the music app: create and run generations, feedback, the Python API."""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.db import transaction
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from accounts.services import preferences_for, preferences_nudge
from emotune import jobs
from emotune.jobs import JobError
from emotune.ratelimit import rate_limit_enforce
from music import outputs
from music.agents import agents_run
from music.analysis import loudness_normalise, peaks_compute
from music.brief import manual_brief
from music.engines import engine_render
from music.models import Feedback, MusicGeneration
from music.params import params_validate
from music.scoring import rule_score

logger = logging.getLogger(__name__)

# What a rating changes in the user's taste (shown on the generation page).
NUDGE_RULE = gettext_noop(  # translated where it is shown
    "A rating of 4-5 stars or a like adds the piece's genre and lead instrument to your favourites "
    "and moves your tempo range 25% of the way towards its tempo. A rating of 1-2 stars or a dislike "
    "removes that genre and instrument from your favourites and adds the genre to the things to avoid."
)

ProgressFn = Callable[..., None]


def preferences_dict(user) -> dict:
    if user is None:
        return {}
    p = preferences_for(user=user)
    return {"genres": list(p.favourite_genres), "instruments": list(p.instruments), "bpm_min": p.bpm_min,
            "bpm_max": p.bpm_max, "negative_prompt": p.negative_prompt}


# --- creating ---------------------------------------------------------------------------


def generation_create(*, user, params: dict, emotion: str = "", description: str = "", manual_prompt: str = "",
                      reading=None, melody_file=None) -> MusicGeneration:
    """Validate, create the row (queued) and enqueue its job after commit."""
    clean = params_validate(params)
    if reading is not None:
        if reading.user_id != user.pk:
            raise ValidationError({"reading": "That reading is not yours."})
        emotion = reading.felt or emotion
    if manual_prompt and not manual_prompt.strip().isascii():
        raise ValidationError({"manual_prompt": "Your own prompt must be in English (MusicGen reads English)."})
    melody = melody_clean(melody_file) if melody_file is not None else None
    rate_limit_enforce("generation", user.pk)
    with transaction.atomic():
        row = MusicGeneration.objects.create(
            user=user, reading=reading, emotion=emotion or "", description=description.strip()[:2000],
            prompt_final=manual_prompt.strip()[:600], prompt_path=MusicGeneration.PromptPath.MANUAL if manual_prompt.strip() else "",
            params=clean, engine=clean["engine"],
        )
        if melody is not None:
            row.melody.save(f"{uuid.uuid4().hex}.wav", ContentFile(melody), save=True)
        jobs.job_enqueue(row)
    return row


MELODY_MAX_BYTES = 10 * 2**20
MELODY_SECONDS = (1.0, 30.0)  # MusicGen-melody conditions on up to 30 s


def melody_clean(upload) -> bytes:
    """A melody clip judged by its content, re-encoded as a 32 kHz mono WAV; ValidationError otherwise."""
    from emotune.audio import AudioDecodeError, audio_decode, audio_name_ok, wav_bytes

    low, high = MELODY_SECONDS
    if upload.size > MELODY_MAX_BYTES:
        raise ValidationError({"melody": _("The melody clip is larger than %(mb)d MB.") % {"mb": MELODY_MAX_BYTES // 2**20}})
    if not audio_name_ok(upload.name):
        raise ValidationError({"melody": _("The file name does not end in an audio extension (.wav, .mp3, .ogg…).")})
    upload.seek(0)
    try:
        samples = audio_decode(upload.read(), rate=32000, max_seconds=high + 1)
    except AudioDecodeError as err:
        raise ValidationError({"melody": _("The melody clip could not be read as audio (WAV, MP3, FLAC, OGG…).")}) from err
    seconds = len(samples) / 32000
    if not low <= seconds <= high:
        raise ValidationError({"melody": _("The melody clip must last between %(low).0f and %(high).0f seconds.") % {"low": low, "high": high}})
    return wav_bytes(samples, rate=32000)


def generation_cancel(*, generation: MusicGeneration) -> bool:
    return jobs.job_cancel(generation)


# --- running ----------------------------------------------------------------------------


def _brief_write(*, emotion: str, description: str, manual_prompt: str, preferences: dict) -> dict:
    if manual_prompt:
        brief = manual_brief(manual_prompt, emotion=emotion)
        return {"prompt_draft": manual_prompt, "prompt_merged": manual_prompt, "prompt_final": manual_prompt,
                "brief": brief, "suggestion": {}, "path": "manual", "steps": {}}
    return agents_run(emotion=emotion, description=description, preferences=preferences)


def _melody_load(clip: bytes | None, sr: int = 32000) -> np.ndarray | None:
    """The stored melody clip's samples, (channels, samples) at ``sr``."""
    if not clip:
        return None
    import io

    import soundfile as sf

    try:
        data, file_sr = sf.read(io.BytesIO(clip), dtype="float32", always_2d=True)
    except Exception as exc:
        raise JobError("The melody clip could not be read; upload a WAV, FLAC or OGG file.") from exc
    data = data.T
    if file_sr != sr:  # linear resampling is enough for chroma (pitch-class) features
        n = int(data.shape[1] * sr / file_sr)
        grid = np.linspace(0, data.shape[1] - 1, n)
        data = np.stack([np.interp(grid, np.arange(data.shape[1]), ch) for ch in data])
    return data[:, : 30 * sr]


def pipeline_core(*, emotion: str, description: str, manual_prompt: str, preferences: dict, params: dict,
                  progress: ProgressFn, melody: bytes | None = None) -> dict:
    """Brief → engine → normalised audio and its score. No database writes."""
    timings: dict[str, float] = {}
    started = time.perf_counter()
    progress(0.02, "writing the brief", force=True)
    written = _brief_write(emotion=emotion, description=description, manual_prompt=manual_prompt,
                           preferences=preferences)
    timings["agents"] = round(time.perf_counter() - started, 3)
    params = dict(params)
    if params.pop("use_suggested", False) and written["suggestion"]:
        params.update(written["suggestion"])
    progress(0.1, f"brief ready ({written['path']})", force=True)

    def engine_progress(fraction: float, note: str, **extra) -> None:
        progress(0.1 + 0.75 * fraction, note, **extra)

    t = time.perf_counter()
    rendered = engine_render(brief=written["brief"], prompt=written["prompt_final"], params=params,
                             melody=_melody_load(melody), progress=engine_progress)
    timings["render"] = round(time.perf_counter() - t, 3)
    progress(0.86, "finishing audio", force=True)
    audio = loudness_normalise(rendered.audio)
    prefs_range = (preferences.get("bpm_min") or 40, preferences.get("bpm_max") or 200)
    bpm = written["brief"]["bpm"]
    bpm_range = (min(prefs_range[0], bpm - 5), max(prefs_range[1], bpm + 5)) if preferences else (bpm - 5, bpm + 5)
    score, parts = rule_score(audio, rendered.sample_rate, requested_seconds=float(params["duration"]),
                              bpm_range=bpm_range, brief=written["brief"], emotion=emotion)
    return {"written": written, "params": params, "rendered": rendered, "audio": audio,
            "score": score, "score_parts": parts, "timings": timings}


def generation_execute(row: MusicGeneration, progress: ProgressFn) -> None:
    """The job body: write the brief, render, store files, score. Called by music.jobs."""
    started = time.perf_counter()
    preferences = preferences_dict(row.user)
    result = pipeline_core(
        emotion=row.emotion, description=row.description,
        manual_prompt=row.prompt_final if row.prompt_path == MusicGeneration.PromptPath.MANUAL else "",
        preferences=preferences, params=row.params, progress=progress,
        melody=_stored_bytes(row.melody),
    )
    generation_store(row, result, video=bool(row.params.get("video")), progress=progress, started=started)
    progress(1.0, "done", force=True)


def generation_store(row: MusicGeneration, result: dict, *, video: bool, progress: ProgressFn,
                     started: float) -> tuple[dict, str]:
    """Store a rendered piece (``pipeline_core``'s result) on ``row``: its files, brief, engine,
    peaks, score and timings; save the row; record the rule score as an Event. The one storing
    path of the job and of ``run_pipeline``. Returns the files' bytes and their name stem."""
    from emotune.logbook import event_record

    written, rendered, audio = result["written"], result["rendered"], result["audio"]
    timings = result["timings"]
    progress(0.9, "writing files", force=True)
    t = time.perf_counter()
    files = _outputs_make(audio, rendered.sample_rate, title=written["prompt_final"], video=video)
    timings["files"] = round(time.perf_counter() - t, 3)
    progress(0.98, "saving", force=True)
    stem = uuid.uuid4().hex
    row.audio.save(f"{stem}.wav", ContentFile(files["wav"]), save=False)
    row.audio_preview.save(f"{stem}.mp3", ContentFile(files["preview"]), save=False)
    if files.get("video"):
        row.video.save(f"{stem}.mp4", ContentFile(files["video"]), save=False)
    timings["total"] = round(time.perf_counter() - started, 3)
    row.prompt_draft, row.prompt_merged = written["prompt_draft"], written["prompt_merged"]
    row.prompt_final, row.prompt_path = written["prompt_final"], written["path"]
    row.brief, row.params, row.agent_notes = written["brief"], result["params"], written["steps"]
    row.engine, row.model_name, row.decoder = rendered.engine, rendered.model_name, rendered.decoder
    row.peaks = peaks_compute(audio)
    row.duration = round(audio.shape[-1] / rendered.sample_rate, 3)
    row.sample_rate, row.channels = rendered.sample_rate, audio.shape[0]
    row.score, row.score_parts = result["score"], result["score_parts"]
    row.timings = {**timings, **{f"engine_{k}": v for k, v in rendered.info.items()}}
    row.save()
    event_record(kind="music.rule_score", user_id=row.user_id, subject=row,
                 data={"score": row.score, "parts": row.score_parts, "engine": row.engine})
    return files, stem


def _stored_bytes(field_file) -> bytes | None:
    if not field_file:
        return None
    with field_file.open("rb") as fh:
        return fh.read()


def _outputs_make(audio: np.ndarray, sr: int, *, title: str, video: bool) -> dict:
    wav = outputs.wav_bytes(audio, sr)
    made = {"wav": wav, "preview": outputs.preview_bytes(wav)}
    if video:
        made["video"] = outputs.video_bytes(wav, title=title)
    return made


# --- feedback ---------------------------------------------------------------------------


def feedback_set(*, user, generation: MusicGeneration, stars: int | None = None, liked: bool | None = None,
                 comment: str = "") -> Feedback:
    """Save the user's rating (one per generation) and nudge their preferences by NUDGE_RULE."""
    if stars is not None and not 1 <= int(stars) <= 5:
        raise ValidationError({"stars": "stars must be between 1 and 5."})
    feedback, _created = Feedback.objects.update_or_create(
        generation=generation, user=user, defaults={"stars": stars, "liked": liked, "comment": comment[:1000]},
    )
    rating_nudge(user=user, generation=generation, stars=stars, liked=liked)
    return feedback


def rating_nudge(*, user, generation: MusicGeneration, stars: int | None, liked: bool | None) -> dict:
    """A rating's nudge (NUDGE_RULE): four or five stars or a like count as liked, one or two or a dislike not."""
    positive = (stars is not None and stars >= 4) or liked is True
    negative = (stars is not None and stars <= 2) or liked is False
    return preferences_nudge(user=user, brief=generation.brief or {}, positive=positive, negative=negative)


# --- the Python API ---------------------------------------------------------------------


def _emotion_from_media(media_path: str) -> str:
    """Read the emotion of a photo or video with the emotion app's pipeline."""
    try:
        from emotion.services import emotion_from_file  # provided by the emotion app
    except ImportError as exc:
        raise JobError("Reading an emotion from a file needs the emotion pipeline; pass override_emotion.") from exc
    return emotion_from_file(media_path)


def run_pipeline(media_path: str | None = None, user=None, params: dict | None = None,
                 override_emotion: str | None = None, preferences_override: dict | None = None,
                 manual_prompt: str | None = None, description: str = "",
                 progress: ProgressFn | None = None, output_dir: str | Path | None = None) -> dict:
    """Emotion (from media or given) → brief → music, synchronously.

    Returns the original app's result shape: ``{emotion, prompt_initial, prompt_final, params,
    outputs: {wav, video}}`` plus ``path``, ``score`` and, with a user, ``generation_id``.
    With a user the generation is stored in their history; without one files go to ``output_dir``.
    """
    started = time.perf_counter()
    emotion = override_emotion or (_emotion_from_media(media_path) if media_path else "neutral")
    clean = params_validate(params or {})
    preferences = preferences_override if preferences_override is not None else preferences_dict(user)
    report = progress or (lambda *a, **k: None)
    result = pipeline_core(emotion=emotion, description=description, manual_prompt=manual_prompt or "",
                           preferences=preferences, params=clean, progress=report)
    written, video = result["written"], bool(clean.get("video"))
    generation_id = None
    if user is not None:  # stored in the user's history exactly as a job stores it
        choices = dict(MusicGeneration._meta.get_field("emotion").choices or [])
        row = MusicGeneration(user=user, emotion=emotion if emotion in choices else "", description=description,
                              status="succeeded", progress=1.0, progress_note="done")
        files, stem = generation_store(row, result, video=video, progress=report, started=started)
        generation_id = row.pk
    else:
        files = _outputs_make(result["audio"], result["rendered"].sample_rate, title=written["prompt_final"],
                              video=video)
        stem = uuid.uuid4().hex
    out_dir = Path(output_dir or Path(settings.MEDIA_ROOT) / "music" / "cli")
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = {"wav": out_dir / f"{stem}.wav", "preview": out_dir / f"{stem}.mp3"}
    if files.get("video"):
        paths["video"] = out_dir / f"{stem}.mp4"
    for kind, path in paths.items():
        path.write_bytes(files[kind])
    return {
        "emotion": emotion,
        "prompt_initial": written["prompt_draft"],
        "prompt_final": written["prompt_final"],
        "params": result["params"],
        "outputs": {"wav": str(paths["wav"]), "video": str(paths["video"]) if "video" in paths else None},
        "path": written["path"],
        "score": result["score"],
        "generation_id": generation_id,
    }


# --- mood journeys ----------------------------------------------------------------------

# What a pair of check-ins changes in the user's taste (shown on the journey and mood pages).
CHECKIN_NUDGE_RULE = gettext_noop(  # translated where it is shown
    "When you check in after a journey, your before and after moods (with their intensity) are placed on a "
    "pleasant/unpleasant × calm/excited map. If you ended at least 0.15 closer to the journey's target than you "
    "started, its arrival style (genre and lead instrument) counts as a piece you liked; if you ended 0.15 or more "
    "further away, as one you disliked. Liked and disliked change your taste as ratings do."
)
IMPROVEMENT_THRESHOLD = 0.15


def _plan_error(exc: Exception) -> ValidationError:
    return ValidationError({"plan": str(exc)})


def journey_plan(*, user, target: str, minutes: float, sections: int, emotion: str = "", reading=None,
                 intensity: int | None = None) -> dict:
    """Write a plan for the user (LLM agent, else the template writer); nothing is stored.

    Returns {"plan", "path", "notes", "emotion"}; bad input raises ValidationError."""
    from music.agents import agent_journey
    from music.journeys import PlanError, plan_build

    if reading is not None:
        if reading.user_id != user.pk:
            raise ValidationError({"reading": "That reading is not yours."})
        emotion = reading.felt or emotion
    preferences = preferences_dict(user)
    try:
        plan = plan_build(emotion=emotion or "neutral", target=target, minutes=minutes, sections=sections,
                          intensity=intensity, preferences=preferences)
    except PlanError as exc:
        raise _plan_error(exc) from exc
    written = agent_journey(plan=plan, preferences=preferences)
    return {**written, "emotion": emotion or "neutral"}


def journey_params(params: dict) -> dict:
    """Engine parameters of a journey (its length comes from the plan); ValidationError by field."""
    clean = params_validate({**params, "duration": None, "video": False, "decoder": "default"})
    clean.pop("duration", None)
    if clean["engine"] not in ("offline", "musicgen"):
        raise ValidationError({"engine": _("Journeys are rendered by the offline engine or MusicGen (transformers).")})
    return clean


def journey_create(*, user, plan: dict, params: dict, reading=None, plan_path: str = "template",
                   plan_notes: list | None = None, before: dict | None = None, start_mood: str = ""):
    """Validate the (possibly edited) plan and parameters, store the journey (queued), enqueue it.

    ``before`` ({"mood", "intensity"}, e.g. what the user said when asking for the journey)
    is stored as its "before" check-in, with ``reading`` attached when the journey starts from one.
    ``start_mood`` is the mood word the person chose (kept and shown as the journey's start)."""
    from music.journeys import PlanError, plan_validate
    from music.models import Journey

    try:
        plan = plan_validate(plan)
    except PlanError as exc:
        raise _plan_error(exc) from exc
    clean = journey_params(params)
    if reading is not None and reading.user_id != user.pk:
        raise ValidationError({"reading": "That reading is not yours."})
    rate_limit_enforce("generation", user.pk)
    with transaction.atomic():
        row = Journey.objects.create(
            user=user, reading=reading, start_emotion=plan["start"]["emotion"],
            start_mood=start_mood if reading is None else "", target=plan["target"], plan=plan,
            plan_path=plan_path if plan_path in ("llm", "template") else "template", plan_notes=plan_notes or [],
            params=clean, engine=clean["engine"],
        )
        if before is not None:
            checkin_set(user=user, journey=row, moment="before", mood=before["mood"],
                        intensity=before.get("intensity") or 3, reading=reading if reading and reading.felt else None)
        jobs.job_enqueue(row)
    return row


def journey_cancel(*, journey) -> bool:
    return jobs.job_cancel(journey)


def journey_execute(row, progress: ProgressFn) -> None:
    """The job body: render section by section; a cancel keeps the sections done as a playable file."""
    from emotune.jobs import JobCancelled
    from music.engines import JourneyRenderer

    started = time.perf_counter()

    def render_progress(fraction: float, note: str, **extra) -> None:
        progress(0.92 * fraction, note, **extra)

    renderer = JourneyRenderer(plan=row.plan, params=row.params, progress=render_progress)
    try:
        audio = renderer.run()
    except JobCancelled:
        partial = renderer.partial()
        if partial is not None:
            _journey_store(row, renderer, partial, seconds=time.perf_counter() - started)
        raise
    progress(0.95, "writing files", force=True)
    _journey_store(row, renderer, audio, seconds=time.perf_counter() - started)
    progress(1.0, "done", force=True)


def _journey_files(audio: np.ndarray, sr: int) -> dict:
    wav = outputs.wav_bytes(audio, sr)
    return {"wav": wav, "preview": outputs.preview_bytes(wav)}


def _journey_store(row, renderer, audio: np.ndarray, *, seconds: float) -> None:
    """Files and facts of the rendered piece; the status is the job machinery's (a cancel stays)."""
    files = _journey_files(audio, renderer.sample_rate)
    stem = uuid.uuid4().hex
    row.audio.save(f"{stem}.wav", ContentFile(files["wav"]), save=False)
    row.audio_preview.save(f"{stem}.mp3", ContentFile(files["preview"]), save=False)
    row.peaks = peaks_compute(audio)
    row.duration = round(audio.shape[-1] / renderer.sample_rate, 3)
    row.sample_rate, row.channels = renderer.sample_rate, audio.shape[0]
    row.sections_done, row.markers = renderer.done, renderer.markers
    row.engine, row.model_name = renderer.engine, renderer.model_name
    row.timings = {"sections": renderer.section_info, "total": round(seconds, 3),
                   "per_minute": round(seconds / max(row.duration / 60, 1e-6), 3)}
    row.save(update_fields=["audio", "audio_preview", "peaks", "duration", "sample_rate", "channels", "sections_done",
                            "markers", "engine", "model_name", "timings"])


def _arrival_brief(journey) -> dict:
    return (journey.plan.get("sections") or [{}])[-1]


def journey_rate(*, user, journey, stars: int | None = None, liked: bool | None = None) -> dict:
    """Stars and like/dislike of a journey; they nudge taste by NUDGE_RULE (its arrival style)."""
    if journey.user_id != user.pk:
        raise ValidationError({"journey": "That journey is not yours."})
    if stars is not None and not 1 <= int(stars) <= 5:
        raise ValidationError({"stars": "stars must be between 1 and 5."})
    journey.stars, journey.liked = stars, liked
    journey.save(update_fields=["stars", "liked"])
    positive = (stars is not None and stars >= 4) or liked is True
    negative = (stars is not None and stars <= 2) or liked is False
    return preferences_nudge(user=user, brief=_arrival_brief(journey), positive=positive, negative=negative)


def checkin_set(*, user, journey, moment: str, mood: str, intensity: int, note: str = "", reading=None):
    """Store how the user feels before or after a journey (one per moment; a second one replaces it).

    A reading may still be being analysed (a snapshot just taken); its emotion shows once read.
    The first "after" check-in of a journey with a "before" one nudges taste by CHECKIN_NUDGE_RULE.
    Returns (check-in, taste changes). Bad input raises ValidationError and changes nothing."""
    from music.models import CheckIn

    errors = {}
    if journey.user_id != user.pk:
        raise ValidationError({"journey": "That journey is not yours."})
    if moment not in CheckIn.Moment.values:
        errors["moment"] = _("Say whether this is before or after listening.")
    if mood not in dict(CheckIn.MOODS):
        errors["mood"] = _("Choose a mood from the list.")
    try:
        intensity = int(intensity)
        if not 1 <= intensity <= 5:
            raise ValueError
    except (TypeError, ValueError):
        errors["intensity"] = _("Intensity is a whole number from 1 to 5.")
    if reading is not None and (reading.user_id != user.pk or reading.status == "failed"):
        errors["reading"] = _("Choose one of your readings (not a failed one).")
    if moment == CheckIn.Moment.AFTER and not journey.audio:
        errors["moment"] = _("Check in after listening once the journey has music to play.")
    if errors:
        raise ValidationError(errors)
    checkin, created = CheckIn.objects.update_or_create(
        journey=journey, moment=moment,
        defaults={"user": user, "mood": mood, "intensity": intensity, "note": note.strip()[:500], "reading": reading},
    )
    changes: dict = {}
    if moment == CheckIn.Moment.AFTER and created:
        before = CheckIn.objects.filter(journey=journey, moment=CheckIn.Moment.BEFORE).first()
        if before is not None:
            changes = checkin_nudge(user=user, journey=journey, before=before, after=checkin)
    return checkin, changes


def checkin_nudge(*, user, journey, before, after) -> dict:
    """CHECKIN_NUDGE_RULE: a journey that brought the user closer to its target counts as liked."""
    from music.journeys import checkin_improvement, mood_point

    improvement = checkin_improvement(before=mood_point(before.mood, before.intensity),
                                      after=mood_point(after.mood, after.intensity), target=journey.target)
    changes = preferences_nudge(user=user, brief=_arrival_brief(journey), positive=improvement >= IMPROVEMENT_THRESHOLD,
                          negative=improvement <= -IMPROVEMENT_THRESHOLD)
    return {"improvement": improvement, **changes}


def run_journey(*, target: str = "calm", minutes: float = 2.0, sections: int = 3, emotion: str | None = None,
                media_path: str | None = None, intensity: int | None = None, user=None, params: dict | None = None,
                plan: dict | None = None, progress: ProgressFn | None = None,
                output_dir: str | Path | None = None) -> dict:
    """Plan (or take ``plan``) and render a journey synchronously; the Python API behind ``run_journey``.

    Returns {emotion, target, plan, plan_path, outputs: {wav, preview}, markers, duration, journey_id}.
    With a user the journey is stored in their history; without one files go to ``output_dir``."""
    from music.agents import agent_journey
    from music.engines import JourneyRenderer
    from music.journeys import PlanError, plan_build, plan_validate
    from music.models import Journey

    if plan is None:
        emotion = emotion or (_emotion_from_media(media_path) if media_path else "neutral")
    preferences = preferences_dict(user)
    written: dict[str, Any]
    try:
        if plan is not None:
            written = {"plan": plan_validate(plan), "path": "template", "notes": ["plan given"]}
            emotion = written["plan"]["start"]["emotion"]
        else:
            assert emotion is not None  # set above when no plan is given
            written = agent_journey(plan=plan_build(emotion=emotion, target=target, minutes=minutes, sections=sections,
                                                    intensity=intensity, preferences=preferences),
                                    preferences=preferences)
    except PlanError as exc:
        raise _plan_error(exc) from exc
    clean = journey_params(params or {})
    started = time.perf_counter()
    renderer = JourneyRenderer(plan=written["plan"], params=clean, progress=progress or (lambda *a, **k: None))
    audio = renderer.run()
    seconds = time.perf_counter() - started
    files = _journey_files(audio, renderer.sample_rate)
    out_dir = Path(output_dir or Path(settings.MEDIA_ROOT) / "music" / "cli")
    out_dir.mkdir(parents=True, exist_ok=True)
    stem = uuid.uuid4().hex
    paths = {"wav": out_dir / f"{stem}.wav", "preview": out_dir / f"{stem}.mp3"}
    for kind, path in paths.items():
        path.write_bytes(files[kind])
    journey_id = None
    if user is not None:
        row = Journey.objects.create(user=user, start_emotion=written["plan"]["start"]["emotion"],
                                     target=written["plan"]["target"], plan=written["plan"], plan_path=written["path"],
                                     plan_notes=written["notes"], params=clean, status="succeeded", progress=1.0,
                                     progress_note="done")
        _journey_store(row, renderer, audio, seconds=seconds)
        journey_id = row.pk
    return {"emotion": emotion, "target": written["plan"]["target"], "plan": written["plan"],
            "plan_path": written["path"], "outputs": {k: str(v) for k, v in paths.items()},
            "markers": renderer.markers, "duration": round(audio.shape[-1] / renderer.sample_rate, 3),
            "render_seconds": round(seconds, 3), "journey_id": journey_id}
