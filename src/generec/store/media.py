"""A content-addressed media store: `media/<h[:2]>/<sha256><ext>`, written atomically."""

from __future__ import annotations

import hashlib
import mimetypes
import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from generec.errors import InputError

_EXT = {"video/mp4": ".mp4", "image/png": ".png", "image/jpeg": ".jpg", "video/x-msvideo": ".avi"}
_CHUNK = 1 << 20


def sha256_file(path: str | Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class MediaStore:
    """Files named by the sha256 of their bytes; the same bytes are stored once.

    Writes go to a temp file in the store, are fsync'ed, then renamed into place, so a reader
    never sees half a file. Inside `staging()`, files this store added are removed again if
    the block fails, which keeps the store exactly as it was after a failed import.
    """

    def __init__(self, root: str | Path) -> None:
        self.root = Path(root)
        self._staged: list[Path] | None = None

    def path(self, digest: str, mime: str) -> Path:
        return self.root / digest[:2] / f"{digest}{_EXT.get(mime, '')}"

    def exists(self, digest: str, mime: str) -> bool:
        return self.path(digest, mime).exists()

    def put_bytes(self, data: bytes, mime: str) -> str:
        digest = hashlib.sha256(data).hexdigest()
        target = self.path(digest, mime)
        if not target.exists():
            self._write_atomic(target, lambda f: f.write(data))
        return digest

    def put_file(self, source: str | Path, mime: str | None = None) -> tuple[str, str]:
        """Copy `source` into the store; returns (sha256, mime)."""
        source = Path(source)
        if not source.is_file():
            raise InputError(f"media file {source} does not exist")
        mime = mime or mimetypes.guess_type(source.name)[0] or "application/octet-stream"
        digest = sha256_file(source)
        target = self.path(digest, mime)
        if not target.exists():
            with open(source, "rb") as src:
                self._write_atomic(target, lambda f: shutil.copyfileobj(src, f, _CHUNK))
        return digest, mime

    def _write_atomic(self, target: Path, write) -> None:
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".tmp-")
        try:
            with os.fdopen(fd, "wb") as f:
                write(f)
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp, target)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        _fsync_dir(target.parent)
        if self._staged is not None:
            self._staged.append(target)

    @contextmanager
    def staging(self) -> Iterator[None]:
        """Remove every file added inside the block if the block raises."""
        outer, self._staged = self._staged, []
        try:
            yield
        except BaseException:
            for path in self._staged:
                path.unlink(missing_ok=True)
                try:
                    path.parent.rmdir()  # only if now empty
                except OSError:
                    pass
            raise
        finally:
            added, self._staged = self._staged, outer
            if outer is not None:
                outer.extend(added)

    def size_bytes(self) -> int:
        return sum(p.stat().st_size for p in self.root.rglob("*") if p.is_file())

    def count(self) -> int:
        return sum(1 for p in self.root.rglob("*") if p.is_file())
