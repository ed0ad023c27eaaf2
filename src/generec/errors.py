"""Errors that generec raises on purpose.

Every error names the input at fault and what was expected, so that the CLI can print it as is
and the service can turn it into a 4xx.
"""

from __future__ import annotations


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
