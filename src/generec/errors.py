"""Errors that generec raises on purpose.

Every error names the input at fault and what was expected, so that the CLI can print it as is
and the service can turn it into a 4xx.
"""

from __future__ import annotations

import errno


class GenerecError(Exception):
    """Base class of every error generec raises on purpose."""


class InputError(GenerecError, ValueError):
    """Bad input from a user: a file, a row, an argument. Nothing was written."""


class MediaError(InputError):
    """A media file that cannot be used: not a video, truncated, too large, too few frames."""


class UnknownNameError(InputError, KeyError):
    """A name that is not in a registry; the message lists the valid names."""

    def __str__(self) -> str:  # KeyError would quote the message
        return str(self.args[0]) if self.args else ""


class WorkspaceError(GenerecError):
    """A workspace that is missing, locked, or of a newer schema than this code."""


_OS_REASONS = {
    errno.ENOENT: "no such file or directory",
    errno.EACCES: "permission denied",
    errno.EPERM: "operation not permitted",
    errno.EISDIR: "is a directory, expected a file",
    errno.ENOTDIR: "a part of the path is not a directory",
    errno.EEXIST: "already exists",
    errno.ENOSPC: "no space left on the device",
    errno.EROFS: "the file system is read-only",
    errno.ENAMETOOLONG: "file name too long",
    errno.ELOOP: "too many levels of symbolic links",
    errno.EIO: "input/output error",
}


def os_reason(exc: OSError) -> str:
    """`exc` in plain words, without Python's `[Errno N] ...: 'path'` wrapping."""
    if exc.errno in _OS_REASONS:
        return _OS_REASONS[exc.errno]
    return (exc.strerror or str(exc) or type(exc).__name__).lower()


def describe_os_error(exc: OSError, verb: str = "open") -> str:
    """`cannot read items.csv: no such file or directory`, naming the file when the error knows it."""
    name = f" {exc.filename}" if exc.filename is not None else ""
    return f"cannot {verb}{name}: {os_reason(exc)}"


class NotFoundError(InputError):
    """A user or item that does not exist (or that the caller may not see: the same answer)."""


class FieldError(InputError):
    """Bad input in one named field of a request (`field`, e.g. "events[3].value")."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.reason = message
