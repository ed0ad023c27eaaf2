"""An exclusive lock on a workspace, held by one writing process at a time.

`fcntl.flock` on a lock file: the kernel drops the lock when the holder exits, even on a crash,
so a stale lock never blocks a workspace. The file itself stays (empty) and is never rewritten,
which keeps a workspace byte for byte unchanged by a failed command.
"""

from __future__ import annotations

import fcntl
import os
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from generec.errors import WorkspaceError

POLL_S = 0.1


@contextmanager
def exclusive(path: str | Path, what: str, timeout_s: float = 600.0, on_wait: Callable[[str], None] | None = None) -> Iterator[None]:
    """Hold the lock at `path` inside the block; wait at most `timeout_s` for another holder.

    `on_wait(message)` is called once when the lock is busy, so a command can say why it waits.
    Nested use in one process is not supported: flock locks are per open file, and a second open
    of the same file would wait on the first.
    """
    path = Path(path)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        started = time.monotonic()
        told = False
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                waited = time.monotonic() - started
                if waited >= timeout_s:
                    raise WorkspaceError(
                        f"workspace {path.parent} is busy: another generec process holds {path.name}; "
                        f"waited {waited:.0f} s to {what}. Try again when it has finished."
                    ) from None
                if not told and on_wait is not None:
                    on_wait(f"workspace {path.parent} is busy (another generec process is writing); waiting up to {timeout_s:.0f} s to {what}")
                    told = True
                time.sleep(POLL_S)
        try:
            yield
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)
