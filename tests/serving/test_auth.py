"""serving/auth.py: the session secret, signed session cookies and the token bucket, on a real workspace."""

from __future__ import annotations

from generec.fidelity.keys import ensure_keys
from generec.serving.auth import RateLimiter, key_from_headers, read_session, session_secret, sign_session
from generec.store.api_keys import Principal


def test_the_session_secret_is_made_once_and_kept_apart_from_the_signing_keys(workspace):
    secret = session_secret(workspace)
    assert len(secret) == 32 and session_secret(workspace) == secret
    assert not (workspace.root / "keys").exists()  # the C2PA keys are still made on first use, whole
    ensure_keys(workspace.root)
    assert (workspace.root / "keys" / "signer.key").is_file()


def test_a_session_cookie_reads_back_only_when_signed_and_fresh():
    secret, other = b"s" * 32, b"t" * 32
    who = Principal("user", "u1", "ab" * 32)
    token = sign_session(secret, who, now=1000.0)
    assert read_session(secret, token, now=1001.0) == who
    assert read_session(other, token, now=1001.0) is None
    assert read_session(secret, token, now=1000.0 + 13 * 3600) is None  # expired
    role, user, digest, expiry, mac = token.split(".")
    for forged in (f"admin.{user}.{digest}.{expiry}.{mac}", f"{role}.dTI.{digest}.{expiry}.{mac}", f"{role}.{user}.{'cd' * 32}.{expiry}.{mac}",
                   f"{role}.{user}.{digest}.{int(expiry) + 9}.{mac}", "junk"):
        assert read_session(secret, forged, now=1001.0) is None


def test_keys_come_from_headers_only_and_buckets_refill():
    assert key_from_headers("Bearer gr_abc", None) == "gr_abc" and key_from_headers(None, "gr_x") == "gr_x"
    assert key_from_headers("Basic abc", None) == ""  # present but not a bearer key: refused, not ignored
    assert key_from_headers(None, None) is None
    now = [0.0]
    limiter = RateLimiter(2.0, burst=2.0, clock=lambda: now[0])
    assert limiter.take("a") == 0 and limiter.take("a") == 0 and limiter.take("a") > 0
    assert limiter.take("b") == 0  # per principal
    now[0] += 1.0
    assert limiter.take("a") == 0
