"""A feature cache on disk, keyed by (media hash, encoder version, what).

```
features/<encoder version>/<hash[:2]>/<hash>.<what>.npy
```

`what` names the view of the media that was encoded ("cover", "frames8", ...). An entry is
written to a temporary file beside its final path and renamed into place, so a reader sees a
whole array or nothing; an entry that cannot be read (e.g. cut short by a crash before the data
reached the disk) counts as a miss and is recomputed.
"""

from __future__ import annotations

import os
import re
import tempfile
from collections.abc import Callable
from pathlib import Path

import numpy as np

from generec.errors import InputError

_HASH = re.compile(r"[0-9A-Za-z]{2,128}")
_NAME = re.compile(r"[0-9A-Za-z][0-9A-Za-z._+-]{0,63}")


class FeatureCache:
    def __init__(self, root: str | Path) -> None:
        self.root = Path(root)

    @classmethod
    def for_workspace(cls, workspace) -> FeatureCache:
        """The cache in a workspace's `features/` directory."""
        return cls(Path(workspace.root) / "features")

    def path(self, digest: str, version: str, what: str) -> Path:
        if not isinstance(digest, str) or not _HASH.fullmatch(digest):
            raise InputError(f"feature cache: expected a media hash of 2-128 letters and digits, found {digest!r}")
        for name, value in (("encoder version", version), ("what", what)):
            if not isinstance(value, str) or not _NAME.fullmatch(value) or ".." in value:
                raise InputError(
                    f"feature cache: expected the {name} to be 1-64 of [A-Za-z0-9._+-] starting with a letter "
                    f"or digit, found {value!r}"
                )
        return self.root / version / digest[:2] / f"{digest}.{what}.npy"

    def get(self, digest: str, version: str, what: str) -> np.ndarray | None:
        path = self.path(digest, version, what)
        try:
            return np.load(path, allow_pickle=False)
        except FileNotFoundError:
            return None
        except (OSError, ValueError, EOFError):  # unreadable: treat as a miss, the next put replaces it
            return None

    def put(self, digest: str, version: str, what: str, array: np.ndarray) -> Path:
        path = self.path(digest, version, what)
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-", suffix=".npy")
        try:
            with os.fdopen(fd, "wb") as f:
                np.save(f, np.asarray(array), allow_pickle=False)
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        return path

    def get_or_compute(self, digest: str, version: str, what: str, compute: Callable[[], np.ndarray]) -> np.ndarray:
        """The cached array, else `compute()`, stored before it is returned."""
        cached = self.get(digest, version, what)
        if cached is not None:
            return cached
        array = np.asarray(compute())
        self.put(digest, version, what, array)
        return array

    def has(self, digest: str, version: str, what: str) -> bool:
        return self.path(digest, version, what).is_file()
