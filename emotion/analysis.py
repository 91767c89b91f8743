"""Reading a face's emotion from a photo or a video: detection, classification, voting.

The functions here return plain dicts (the fields of an EmotionReading); the
service stores them and the CLI prints them, so both show the same result.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
from django.conf import settings

from emotion.models import EMOTIONS

BATCH = 16  # face crops per classifier call: fast on CPU, bounded memory on long videos


def _scores(probs: np.ndarray) -> dict[str, float]:
    return {e: round(float(p), 4) for e, p in zip(EMOTIONS, probs)}


def uncertain_below(classifier=None) -> float:
    """The confidence under which a reading names no emotion.

    EMOTION_UNCERTAIN_BELOW when set; else the calibrated ensemble's threshold
    (chosen on the dev set: below it held-out readings were wrong more often
    than right); else EMOTION_MIN_CONFIDENCE for the uncalibrated classifiers.
    """
    if settings.EMOTION_UNCERTAIN_BELOW is not None:
        return settings.EMOTION_UNCERTAIN_BELOW
    calibrated = getattr(classifier, "uncertain_below", None)
    return calibrated if calibrated is not None else settings.EMOTION_MIN_CONFIDENCE


def _verdict(probs: np.ndarray, *, enough_evidence: bool = True, threshold: float | None = None
             ) -> tuple[str, bool, float]:
    """(emotion, uncertain, confidence): a weak or thin reading names no emotion."""
    best = int(np.argmax(probs))
    confidence = float(probs[best])
    threshold = settings.EMOTION_MIN_CONFIDENCE if threshold is None else threshold
    if not enough_evidence or confidence < threshold:
        return "", True, round(confidence, 4)
    return EMOTIONS[best], False, round(confidence, 4)


def _no_face(**extra) -> dict:
    return {"face_found": False, "emotion": "", "uncertain": False, "confidence": None, "scores": {},
            "face_box": None, "timeline": [], **extra}


def image_read(path: Path | str, *, classifier_name: str | None = None) -> dict:
    """Read the largest face in an image file."""
    import cv2

    from emotion.engines import classifier_get, classify
    from emotion.faces import face_find

    started = time.perf_counter()
    gray = cv2.imread(str(path), cv2.IMREAD_GRAYSCALE)
    if gray is None:
        raise ValueError(f"{path} cannot be decoded as an image")
    classifier = classifier_get(classifier_name)
    t0 = time.perf_counter()
    face = face_find(gray)
    t1 = time.perf_counter()
    common = {"frames_analysed": 1, "frames_without_face": 0 if face else 1, "media_seconds": None,
              "engine": classifier.name, "model_name": classifier.model_name}
    if face is None:
        return _no_face(**common, timings={"detect_s": round(t1 - t0, 4), "total_s": round(t1 - started, 4)})
    probs = classify(classifier, [gray], [face])[0]
    t2 = time.perf_counter()
    emotion, uncertain, confidence = _verdict(probs, threshold=uncertain_below(classifier))
    box = {**face.as_dict(), "image_w": gray.shape[1], "image_h": gray.shape[0]}
    return {"face_found": True, "emotion": emotion, "uncertain": uncertain, "confidence": confidence,
            "scores": _scores(probs), "face_box": box, "timeline": [], **common,
            "timings": {"detect_s": round(t1 - t0, 4), "classify_s": round(t2 - t1, 4),
                        "total_s": round(t2 - started, 4)}}


def video_read(path: Path | str, *, classifier_name: str | None = None, sample_fps: float | None = None,
               progress: Callable[[float, str], None] | None = None) -> dict:
    """Sample frames, read each face, smooth, vote, and cut a timeline of segments.

    Frames without a face are counted and shown as gaps in the timeline; they
    never count towards an emotion.
    """
    import cv2

    from emotion.engines import classifier_get, classify
    from emotion.faces import face_track

    started = time.perf_counter()
    classifier = classifier_get(classifier_name)
    sample_fps = sample_fps or settings.EMOTION_SAMPLE_FPS
    capture = cv2.VideoCapture(str(path))
    fps = capture.get(cv2.CAP_PROP_FPS) or 25.0
    expected = capture.get(cv2.CAP_PROP_FRAME_COUNT) or 0
    times: list[float] = []
    probs: list[np.ndarray | None] = []
    pending: list[tuple[int, np.ndarray, object]] = []
    spent = {"decode_s": 0.0, "detect_s": 0.0, "classify_s": 0.0}

    def flush() -> None:
        t = time.perf_counter()
        out = classify(classifier, [g for _, g, _ in pending], [f for _, _, f in pending])
        for (i, _, _), p in zip(pending, out):
            probs[i] = p
        pending.clear()
        spent["classify_s"] += time.perf_counter() - t

    try:
        index, next_t, last_face = 0, 0.0, None
        while True:
            t = time.perf_counter()
            if not capture.grab():
                break
            at = index / fps
            index += 1
            if at + 1e-6 < next_t:
                spent["decode_s"] += time.perf_counter() - t
                continue
            next_t += 1.0 / sample_fps
            ok, frame = capture.retrieve()
            spent["decode_s"] += time.perf_counter() - t
            if not ok:
                continue
            t = time.perf_counter()
            gray = cv2.cvtColor(frame, cv2.COLOR_BGR2GRAY)
            face = last_face = face_track(gray, last_face)
            spent["detect_s"] += time.perf_counter() - t
            times.append(at)
            probs.append(None)
            if face is not None:
                pending.append((len(probs) - 1, gray, face))
                if len(pending) >= BATCH:
                    flush()
            if progress and expected:
                progress(min(index / expected, 0.99), "analysing frames")
    finally:  # a cancel or timeout raised mid-read (from progress) must not leak the decoder
        capture.release()
    if pending:
        flush()
    duration = index / fps
    result = vote(times, probs, duration, threshold=uncertain_below(classifier))
    spent = {k: round(v, 4) for k, v in spent.items()}
    return {**result, "face_box": None, "media_seconds": round(duration, 3), "engine": classifier.name,
            "model_name": classifier.model_name,
            "timings": {**spent, "total_s": round(time.perf_counter() - started, 4), "sample_fps": sample_fps}}


def _smooth(probs: list[np.ndarray | None]) -> list[np.ndarray | None]:
    """Each face frame averaged with its neighbouring face frames: one odd frame does not cut a segment."""
    out: list[np.ndarray | None] = []
    for i, p in enumerate(probs):
        if p is None:
            out.append(None)
            continue
        window = [q for q in probs[max(i - 1, 0): i + 2] if q is not None]
        out.append(np.mean(window, axis=0))
    return out


def vote(times: list[float], probs: list[np.ndarray | None], duration: float, *, threshold: float | None = None
         ) -> dict:
    """Dominant emotion and timeline from per-sample (calibrated) probabilities (None: no face in that frame).

    A segment whose mean confidence is under ``threshold`` is marked uncertain.
    """
    threshold = settings.EMOTION_MIN_CONFIDENCE if threshold is None else threshold
    faces = [p for p in probs if p is not None]
    analysed, without = len(probs), len(probs) - len(faces)
    base = {"frames_analysed": analysed, "frames_without_face": without}
    if not faces:
        return {**_no_face(), **base, "timeline": _segments(times, [None] * analysed, duration, threshold)}
    mean = np.mean(faces, axis=0)
    enough = (len(faces) >= settings.EMOTION_MIN_FACE_FRAMES
              and len(faces) / analysed >= settings.EMOTION_MIN_FACE_SHARE)
    emotion, uncertain, confidence = _verdict(mean, enough_evidence=enough, threshold=threshold)
    return {"face_found": True, "emotion": emotion, "uncertain": uncertain, "confidence": confidence,
            "scores": _scores(mean), "timeline": _segments(times, _smooth(probs), duration, threshold), **base}


def _segments(times: list[float], smoothed: list[np.ndarray | None], duration: float, threshold: float
              ) -> list[dict]:
    """Runs of samples with the same label; each sample covers the time up to the next one."""
    segments: list[dict] = []
    for i, p in enumerate(smoothed):
        start = 0.0 if i == 0 else times[i]
        end = times[i + 1] if i + 1 < len(times) else duration
        label = EMOTIONS[int(np.argmax(p))] if p is not None else ""
        conf = float(np.max(p)) if p is not None else None
        last = segments[-1] if segments else None
        if last and last["emotion"] == label:
            last["end"] = round(end, 3)
            last["frames"] += 1
            if conf is not None:
                last["_conf"].append(conf)
        else:
            segments.append({"start": round(start, 3), "end": round(end, 3), "emotion": label, "frames": 1,
                             "_conf": [conf] if conf is not None else []})
    for s in segments:
        confs = s.pop("_conf")
        s["confidence"] = round(float(np.mean(confs)), 4) if confs else None
        s["face"] = bool(s["emotion"])
        s["uncertain"] = s["face"] and s["confidence"] < threshold
    return segments
