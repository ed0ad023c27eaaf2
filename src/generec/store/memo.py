"""Reads answered once per scope: `with db.memoised_reads(): ...`.

One feed asks the store the same questions in several places (is the user there, how many
catalogue items are there, which events came since the checkpoint): each part of the loop
checks for itself, which keeps the parts usable alone. Inside the scope a read query repeated
with the same SQL and parameters in the same thread returns the first answer; any write
transaction (`db.transaction()`) in the thread empties the memo, so that a scope never reads
past its own writes (a raw autocommit write on `db.conn` would not: every write in generec goes
through `transaction()`). The memo lives in the thread's local state, so other threads and
processes keep reading afresh; a scope, in turn, does not see what they write while it lasts
(one feed: milliseconds on the retrieval path, longer when it creates).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any


class ReadMemo:
    """Mixed into `Database` and `PostgresDatabase` (both keep a `threading.local` in `_local`)."""

    _local: Any

    @contextmanager
    def memoised_reads(self) -> Iterator[None]:
        if getattr(self._local, "memo", None) is not None:  # nested: the outer scope's memo
            yield
            return
        self._local.memo = {}
        try:
            yield
        finally:
            self._local.memo = None

    def _forget_reads(self) -> None:
        """A write begins: what was read may change."""
        if getattr(self._local, "memo", None):
            self._local.memo = {}

    def _memoised(self, kind: str, sql: str, params: Any, run: Callable[[], Any]) -> Any:
        memo = getattr(self._local, "memo", None)
        if memo is None or getattr(self._local, "depth", 0):  # no scope, or inside a transaction
            return run()
        try:
            key = (kind, sql, tuple(params.items()) if isinstance(params, dict) else tuple(params))
            hash(key)
        except TypeError:  # unhashable parameters (a list inside): asked as it is
            return run()
        if key not in memo:
            memo[key] = run()
        found = memo[key]
        return list(found) if isinstance(found, list) else found  # a caller may sort its own copy
