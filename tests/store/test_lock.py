"""The workspace lock: one holder at a time across processes, a clear error when busy too long."""

import select
import subprocess
import sys
import time

import pytest

from generec.errors import WorkspaceError
from generec.store.lock import exclusive

# Holds the lock at argv[1] until a file appears at argv[2] (at most 60 s): the test decides when.
_HOLD = """
import os, sys, time
from generec.store.lock import exclusive
with exclusive(sys.argv[1], "test"):
    print("held", flush=True)
    deadline = time.monotonic() + 60
    while not os.path.exists(sys.argv[2]) and time.monotonic() < deadline:
        time.sleep(0.01)
    print("releasing", flush=True)
"""


def test_busy_lock_waits_then_fails_clearly(tmp_path):
    path = tmp_path / "generec.lock"
    never = tmp_path / "never"
    holder = subprocess.Popen([sys.executable, "-c", _HOLD, str(path), str(never)], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "held"
        told = []
        started = time.monotonic()
        with pytest.raises(WorkspaceError, match=f"workspace {tmp_path} is busy: another generec process holds generec.lock; waited 0 s to import x"):
            with exclusive(path, "import x", timeout_s=0.4, on_wait=told.append):
                pass
        assert 0.4 <= time.monotonic() - started < 5
        assert len(told) == 1 and "waiting up to 0 s to import x" in told[0]
    finally:
        holder.kill()
        holder.wait()
    with exclusive(path, "import x", timeout_s=5):  # the kernel dropped the dead holder's lock
        pass


def test_lock_is_taken_once_the_holder_finishes(tmp_path):
    path = tmp_path / "generec.lock"
    release = tmp_path / "release"
    holder = subprocess.Popen([sys.executable, "-c", _HOLD, str(path), str(release)], stdout=subprocess.PIPE, text=True)
    assert holder.stdout.readline().strip() == "held"
    told = []

    def on_wait(message: str) -> None:  # the holder lets go only once we are waiting
        told.append(message)
        release.touch()

    with exclusive(path, "write", timeout_s=60, on_wait=on_wait):
        # we got it only after the holder let go: its "releasing" line is already in the pipe
        assert select.select([holder.stdout], [], [], 0)[0]
        assert holder.stdout.readline().strip() == "releasing"
    holder.wait()
    assert len(told) == 1
