"""Where media files live: this machine's MEDIA_ROOT (the default), or an S3-compatible bucket
shared by every machine (``MEDIA_S3_BUCKET`` set), so that GPU workers on other hosts store
what daphne serves.

Code reads and writes media through Django's storage API only (``save``, ``open``, ``exists``,
``delete``, ``listdir``); a library that needs a file on disk gets one from :func:`local_path`.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path, PurePosixPath

from django.conf import settings
from django.utils.encoding import filepath_to_uri
from storages.backends.s3 import S3Storage


class S3MediaStorage(S3Storage):
    """A bucket whose files are still served by the site (``/media/…``: owner check, safe headers,
    the pages' own origin), never by links straight into the bucket."""

    def url(self, name, parameters=None, expire=None, http_method=None):
        return settings.MEDIA_URL + filepath_to_uri(name).lstrip("/")


@contextmanager
def local_path(field_file) -> Iterator[Path]:
    """A path on this machine for a stored file: the file itself on the filesystem backend, else a
    temporary copy that is deleted afterwards (OpenCV and ffmpeg read paths)."""
    storage, name = field_file.storage, field_file.name
    try:
        path = storage.path(name)
    except NotImplementedError:  # not on this machine's disk
        path = None
    if path is not None:
        yield Path(path)
        return
    with tempfile.NamedTemporaryFile(suffix=PurePosixPath(name).suffix) as copy:
        with storage.open(name, "rb") as source:
            shutil.copyfileobj(source, copy, 1 << 20)
        copy.flush()
        yield Path(copy.name)


def walk(storage, top: str) -> Iterator[str]:
    """Every file name under ``top`` in ``storage``, depth first; none when ``top`` is not there."""
    try:
        directories, files = storage.listdir(top)
    except FileNotFoundError:  # a folder on disk that was never made (a bucket lists nothing instead)
        return
    for name in files:
        yield f"{top}/{name}" if top else name
    for directory in directories:
        yield from walk(storage, f"{top}/{directory}" if top else directory)
