"""Who a request is from: an API key in a header, or the web page's signed session cookie.

- `Authorization: Bearer <key>` (or `X-API-Key: <key>`): a key from `generec users token`,
  looked up by its SHA-256 (`store/api_keys.py`). Keys are never read from URLs.
- The page signs in once with its key (`POST /v1/session`) and gets an HttpOnly, SameSite=Strict
  cookie `generec_session` = `<role>.<user>.<key hash>.<expiry>.<HMAC-SHA256>`, signed with the workspace's
  session secret (`service/session.key`, apart from the C2PA signing keys in `keys/`, made on first start and shared by every worker), so that
  `<video src>` requests, which cannot carry headers, are authenticated without a key in the URL.
- A token bucket per principal bounds its request rate (429 with Retry-After).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import secrets
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from generec.store.api_keys import Principal
from generec.workspace import Workspace

COOKIE = "generec_session"
SESSION_S = 12 * 3600


def session_secret(ws: Workspace) -> bytes:
    """The workspace's cookie-signing secret (32 random bytes), made once with O_EXCL so that
    workers starting together agree on it."""
    path = ws.path("service") / "session.key"
    path.parent.mkdir(exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        for _ in range(50):  # another worker is writing it
            data = path.read_bytes()
            if len(data) == 32:
                return data
            time.sleep(0.02)
        raise RuntimeError(f"{path} is not a 32-byte secret; delete it to make a new one") from None
    with os.fdopen(fd, "wb") as f:
        f.write(secrets.token_bytes(32))
    return path.read_bytes()


def _b64(text: str) -> str:
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


def _unb64(text: str) -> str:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)).decode()


def sign_session(secret: bytes, principal: Principal, now: float | None = None) -> str:
    """`<role>.<user>.<key hash>.<expiry>.<HMAC>`: the key's SHA-256 (not the key) is in the
    cookie so that revoking the key ends every session signed in with it."""
    expiry = int((now or time.time()) + SESSION_S)
    body = f"{principal.role}.{_b64(principal.user_id or '')}.{principal.key_hash or ''}.{expiry}"
    mac = hmac.new(secret, body.encode(), hashlib.sha256).hexdigest()
    return f"{body}.{mac}"


def read_session(secret: bytes, token: str, now: float | None = None) -> Principal | None:
    """The principal of a validly signed, unexpired cookie; None otherwise. The caller still
    checks that its key (`Principal.key_hash`) is not revoked."""
    try:
        role, user, digest, expiry, mac = token.split(".")
        body = f"{role}.{user}.{digest}.{expiry}"
        good = hmac.new(secret, body.encode(), hashlib.sha256).hexdigest()
        if not hmac.compare_digest(good, mac) or int(expiry) < (now or time.time()) or role not in ("user", "admin") or not digest:
            return None
        user_id = _unb64(user) or None
    except (ValueError, UnicodeDecodeError):
        return None
    return Principal(role, user_id, digest)


def key_from_headers(authorization: str | None, x_api_key: str | None) -> str | None:
    if authorization:
        scheme, _, value = authorization.partition(" ")
        if scheme.lower() == "bearer" and value.strip():
            return value.strip()
        return ""  # present but not a bearer key: refused, never ignored
    return x_api_key.strip() if x_api_key else None


@dataclass
class _Bucket:
    tokens: float
    stamp: float


class RateLimiter:
    """A token bucket per principal: `rate` requests a second, bursts up to `burst`. Per process
    (each service worker keeps its own)."""

    def __init__(self, rate: float, burst: float | None = None, clock=time.monotonic) -> None:
        self.rate = rate
        self.burst = burst if burst is not None else max(1.0, 2 * rate)
        self.clock = clock
        self._buckets: dict[str, _Bucket] = {}
        self._lock = threading.Lock()

    def take(self, who: str) -> float:
        """0.0 when the request may go ahead, else the seconds to wait."""
        if self.rate <= 0:
            return 0.0
        now = self.clock()
        with self._lock:
            b = self._buckets.get(who)
            if b is None:
                b = self._buckets[who] = _Bucket(self.burst, now)
            b.tokens = min(self.burst, b.tokens + (now - b.stamp) * self.rate)
            b.stamp = now
            if b.tokens >= 1.0:
                b.tokens -= 1.0
                return 0.0
            return (1.0 - b.tokens) / self.rate


def principal_name(p: Principal) -> str:
    return "admin" if p.is_admin else f"user:{p.user_id}"


