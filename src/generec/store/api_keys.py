"""API keys of the HTTP service: one or more per user, and admin keys. Stored hashed.

A key is 32 random bytes (urlsafe base64, prefixed `gr_`), so SHA-256 of it is enough: a slow
password hash guards low-entropy secrets, and these have 256 bits. The plain key is shown once,
when it is made, and never stored or logged.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from dataclasses import dataclass

from generec.errors import InputError
from generec.store.db import Database

PREFIX = "gr_"
ROLES = ("user", "admin")


@dataclass(frozen=True)
class Principal:
    """Who a request is from: a user (their own data only) or an admin (items and metrics)."""

    role: str  # user | admin
    user_id: str | None  # None for an admin key
    key_hash: str | None = None  # the key this principal signed in with (a session ends with its key)

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"


def key_hash(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()


class ApiKeys:
    def __init__(self, db: Database) -> None:
        self.db = db

    def create(self, user_id: str | None, role: str = "user") -> str:
        """A new key for `user_id` (or an admin key); returns the plain key, stores its hash."""
        if role not in ROLES:
            raise InputError(f"unknown role {role!r}; valid: {', '.join(ROLES)}")
        if role == "user" and not user_id:
            raise InputError("a user key needs a user id")
        if role == "user" and self.db.scalar("SELECT 1 FROM users WHERE id = ?", (user_id,)) is None:
            raise InputError(f"unknown user {user_id!r}: not in this workspace")
        key = PREFIX + secrets.token_urlsafe(32)
        with self.db.transaction() as conn:
            conn.execute(
                "INSERT INTO api_keys (key_hash, user_id, role, created_at) VALUES (?, ?, ?, ?)",
                (key_hash(key), user_id if role == "user" else None, role, time.time()),
            )
        return key

    def lookup(self, key: str) -> Principal | None:
        """The principal of a valid, unrevoked key; None otherwise."""
        if not isinstance(key, str) or not key.startswith(PREFIX) or len(key) > 200:
            return None
        digest = key_hash(key)
        row = self.db.query("SELECT key_hash, user_id, role FROM api_keys WHERE key_hash = ? AND revoked = 0", (digest,))
        if not row or not hmac.compare_digest(row[0][0], digest):
            return None
        return Principal(row[0][2], row[0][1], digest)

    def active(self, digest: str) -> bool:
        """Whether the key with this hash exists and is not revoked."""
        return bool(self.db.query("SELECT 1 FROM api_keys WHERE key_hash = ? AND revoked = 0", (digest,)))

    def revoke_key(self, key: str) -> bool:
        """Revoke one key (given in plain); whether it was active."""
        with self.db.transaction() as conn:
            return conn.execute("UPDATE api_keys SET revoked = 1 WHERE key_hash = ? AND revoked = 0", (key_hash(key),)).rowcount == 1

    def revoke(self, user_id: str | None = None, role: str = "user") -> int:
        """Revoke every key of `user_id` (or every admin key); returns how many."""
        with self.db.transaction() as conn:
            if role == "admin":
                cur = conn.execute("UPDATE api_keys SET revoked = 1 WHERE role = 'admin' AND revoked = 0")
            else:
                cur = conn.execute("UPDATE api_keys SET revoked = 1 WHERE user_id = ? AND revoked = 0", (user_id,))
            return cur.rowcount

    def count(self) -> int:
        return int(self.db.scalar("SELECT COUNT(*) FROM api_keys WHERE revoked = 0"))
