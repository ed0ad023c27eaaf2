"""The service in process (FastAPI's TestClient over the real app, store and models): every route's
auth and isolation, the bad-input answers, and that a rejected request stores nothing."""

from __future__ import annotations

import io
import sqlite3

import av
import numpy as np
import pytest
from fastapi.testclient import TestClient

from generec.serving.app import ServiceConfig, create_app
from generec.workspace import Workspace


@pytest.fixture(scope="module")
def client(served_ws):
    root, ids = served_ws
    app = create_app(root, ServiceConfig(rate_limit=0))
    with TestClient(app) as c:
        yield c, root, ids


def h(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


def rows(root) -> dict[str, list]:
    """Every stored row of the tables a request could change."""
    with sqlite3.connect(root / "generec.db") as conn:
        return {t: conn.execute(f"SELECT * FROM {t} ORDER BY rowid").fetchall() for t in ("interactions", "items", "instructions", "users", "api_keys")}


def test_health_and_docs_need_no_key(client):
    c, _, _ = client
    assert c.get("/health").json() == {"status": "ok"}
    assert c.get("/docs").status_code == 200 and "/v1/feed" in c.get("/openapi.json").json()["paths"]
    page = c.get("/")
    assert page.status_code == 200 and "text/html" in page.headers["content-type"] and "/static/app.js" in page.text
    assert c.get("/static/app.js").status_code == 200


def test_a_feed_labels_the_users_ai_variant(client):
    c, _, (user, other, key, other_key, admin_key, variant, parent) = client
    feed = c.get("/v1/feed?k=5", headers=h(key)).json()
    assert feed["user_id"] == user and len(feed["items"]) == 5
    ai = [e for e in feed["items"] if e["item_id"] == variant]
    assert ai and ai[0]["label"].startswith("AI-edited") and ai[0]["origin"] == "ai_edited" and ai[0]["parent_id"] == parent
    assert ai[0]["parent_cover_url"] == f"/v1/items/{parent}/cover" and ai[0]["reason"]
    assert parent not in [e["item_id"] for e in feed["items"]]  # the variant stands in for it
    # another user's feed never shows it
    assert variant not in [e["item_id"] for e in c.get("/v1/feed?k=20", headers=h(other_key)).json()["items"]]
    item = c.get(f"/v1/items/{variant}", headers=h(key)).json()
    assert item["provenance"]["op"] == "cover" and item["c2pa"]["state"] == "trusted" and item["fidelity"]["decision"] in ("serve", "flag")


def test_missing_or_wrong_keys_are_401_on_every_route(client):
    c, _, (user, *_rest) = client
    variant = _rest[4]
    routes = [("get", "/v1/feed"), ("post", "/v1/feedback"), ("post", "/v1/instruct"), ("get", f"/v1/items/{variant}"),
              ("get", f"/v1/items/{variant}/media"), ("get", f"/v1/items/{variant}/cover"), ("get", f"/v1/items/{variant}/similar"),
              ("post", "/v1/items"), ("get", "/v1/history"), ("get", f"/v1/users/{user}/history"), ("get", "/metrics"),
              ("get", "/v1/me"), ("post", "/v1/session")]  # fmt: skip
    for method, path in routes:
        for headers in ({}, h("gr_not-a-key"), {"Authorization": "Basic dXNlcjpwYXNz"}, {"X-API-Key": "nope"}):
            r = getattr(c, method)(path, headers=headers)
            assert r.status_code == 401, (method, path, headers, r.status_code)
    # keys are never taken from the URL
    assert c.get(f"/v1/feed?key={_rest[1]}").status_code == 401


def test_a_users_key_reads_only_that_users_data(client):
    c, root, (user, other, key, other_key, admin_key, variant, parent) = client
    before = rows(root)
    # another user's AI variant: 404 on every item route, as if it did not exist
    for path in (f"/v1/items/{variant}", f"/v1/items/{variant}/media", f"/v1/items/{variant}/cover", f"/v1/items/{variant}/similar"):
        assert c.get(path, headers=h(other_key)).status_code == 404, path
    assert c.post("/v1/feedback", json={"item_id": variant, "event": "like"}, headers=h(other_key)).status_code == 404
    # another user's feed and history: 403
    assert c.get(f"/v1/feed?user={user}", headers=h(other_key)).status_code == 403
    assert c.get(f"/v1/users/{user}/history", headers=h(other_key)).status_code == 403
    assert c.get("/v1/history", headers=h(other_key)).json()["user_id"] == other
    # admin routes
    assert c.get("/metrics", headers=h(key)).status_code == 403
    assert c.post("/v1/items", data={"item_id": "x1"}, headers=h(key)).status_code == 403
    assert rows(root) == before
    # the admin reads any user's feed and history, and the metrics
    assert c.get(f"/v1/feed?user={user}&k=2", headers=h(admin_key)).json()["user_id"] == user
    assert c.get(f"/v1/users/{user}/history", headers=h(admin_key)).status_code == 200
    assert c.get("/v1/feed", headers=h(admin_key)).status_code == 403  # an admin has no feed of its own
    metrics = c.get("/metrics", headers=h(admin_key)).text
    assert 'generec_http_requests_total{method="GET",route="/v1/feed",status="200"}' in metrics
    assert "generec_feed_items_total" in metrics and 'generec_items{decision=' in metrics


def test_bad_input_is_a_4xx_naming_the_field_and_stores_nothing(client):
    c, root, (user, other, key, other_key, admin_key, variant, parent) = client
    before = rows(root)
    cases = [
        (c.get, "/v1/feed?k=0", None, 422, "k"), (c.get, "/v1/feed?k=101", None, 422, "k"), (c.get, "/v1/feed?k=ten", None, 422, "k"),
        (c.post, "/v1/feedback", {"item_id": parent, "event": "teleport"}, 422, "event"),
        (c.post, "/v1/feedback", {"item_id": parent, "event": "watch", "value": 1.5}, 422, "value"),
        (c.post, "/v1/feedback", {"item_id": parent, "event": "watch", "value": "half"}, 422, "value"),
        (c.post, "/v1/feedback", {"item_id": parent, "event": "like", "extra": 1}, 422, "extra"),
        (c.post, "/v1/feedback", {"events": [{"item_id": parent, "event": "like"}, {"item_id": parent, "event": "nope"}]}, 422, "events"),
        (c.post, "/v1/feedback", {"events": []}, 422, "events"),
        (c.post, "/v1/feedback", {"item_id": "no-such-item", "event": "like"}, 404, None),
        (c.post, "/v1/instruct", {"text": ""}, 422, "text"), (c.post, "/v1/instruct", {"text": "cats", "k": 500}, 422, "k"),
        (c.get, "/v1/items/no-such-item", None, 404, None), (c.get, "/v1/items/no-such-item/media", None, 404, None),
    ]  # fmt: skip
    for call, path, body, status, field in cases:
        r = call(path, headers=h(key), **({"json": body} if body is not None else {}))
        assert r.status_code == status, (path, body, r.status_code, r.text)
        if field:
            assert field in str(r.json()["detail"]), (path, r.json())
    # a batch with one bad event stores none of its good ones
    r = c.post("/v1/feedback", json={"events": [{"item_id": parent, "event": "like"}, {"item_id": "ghost", "event": "like"}]}, headers=h(key))
    assert r.status_code == 404
    # malformed JSON, an oversize body
    r = c.post("/v1/feedback", content=b"{not json", headers={**h(key), "Content-Type": "application/json"})
    assert r.status_code == 422
    r = c.post("/v1/feedback", content=b'{"item_id": "' + b"x" * (2 << 20) + b'", "event": "like"}', headers={**h(key), "Content-Type": "application/json"})
    assert r.status_code == 422 and r.json()["detail"][0]["loc"] == ["body"] and "limit" in r.json()["detail"][0]["msg"]

    def chunks():  # the same, streamed without a Content-Length (chunked): counted as it arrives
        yield b'{"item_id": "'
        for _ in range(40):
            yield b"x" * (64 << 10)
        yield b'", "event": "like"}'

    r = c.post("/v1/feedback", content=chunks(), headers={**h(key), "Content-Type": "application/json"})
    assert r.status_code == 422 and r.json()["detail"][0]["loc"] == ["body"] and "limit" in r.json()["detail"][0]["msg"], r.text
    # a range outside the file
    size = len(c.get(f"/v1/items/{parent}/media", headers=h(key)).content)
    assert c.get(f"/v1/items/{parent}/media", headers={**h(key), "Range": f"bytes={size + 10}-"}).status_code == 416
    assert rows(root) == before


def test_media_is_served_with_ranges(client):
    c, _, (user, other, key, other_key, admin_key, variant, parent) = client
    whole = c.get(f"/v1/items/{variant}/media", headers=h(key))
    assert whole.status_code == 200 and whole.headers["content-type"] == "video/mp4" and whole.headers["accept-ranges"] == "bytes"
    part = c.get(f"/v1/items/{variant}/media", headers={**h(key), "Range": "bytes=100-199"})
    assert part.status_code == 206 and part.content == whole.content[100:200]
    assert part.headers["content-range"] == f"bytes 100-199/{len(whole.content)}"
    with av.open(io.BytesIO(whole.content)) as f:
        assert f.streams.video[0].frames > 0 or f.duration
    cover = c.get(f"/v1/items/{variant}/cover", headers=h(key))
    assert cover.status_code == 200 and cover.headers["content-type"].startswith("image/")
    similar = c.get(f"/v1/items/{parent}/similar?k=3", headers=h(key)).json()
    assert len(similar["items"]) == 3 and parent not in [s["item_id"] for s in similar["items"]]


def test_feedback_is_stored_once_and_changes_the_next_feed(client):
    c, root, (user, other, key, other_key, admin_key, variant, parent) = client
    first = [e["item_id"] for e in c.get("/v1/feed?k=5", headers=h(key)).json()["items"]]
    liked = next(i for i in first if i != variant)
    r = c.post("/v1/feedback", json={"item_id": liked, "event": "like", "id": "like-1"}, headers=h(key))
    assert r.json() == {"stored": 1, "duplicates": 0}
    assert c.post("/v1/feedback", json={"item_id": liked, "event": "like", "id": "like-1"}, headers=h(key)).json() == {"stored": 0, "duplicates": 1}
    after = [e["item_id"] for e in c.get("/v1/feed?k=5", headers=h(key)).json()["items"]]
    assert liked not in after and after != first
    events = c.get("/v1/history", headers=h(key)).json()["events"]
    assert [e["event"] for e in events if e["item_id"] == liked].count("like") == 1
    assert any(e["event"] == "impression" and e["source"] in ("retrieve", "repurpose") for e in events)  # step 8


def test_session_cookie_signs_the_page_in(client):
    c, root, (user, other, key, other_key, admin_key, variant, parent) = client
    r = c.post("/v1/session", headers=h(key))
    assert r.json() == {"user_id": user, "role": "user"}
    cookie = r.headers["set-cookie"]
    assert "HttpOnly" in cookie and "SameSite=strict" in cookie.replace("Strict", "strict") and key not in cookie
    assert c.get("/v1/me").json()["user_id"] == user  # the cookie alone
    assert c.get(f"/v1/items/{variant}/media").status_code == 200  # how <video src> is authenticated
    token = c.cookies.get("generec_session")
    assert c.delete("/v1/session").status_code == 200 and c.get("/v1/me").status_code == 401
    c.cookies.clear()
    role, who, digest, expiry, mac = token.split(".")
    for forged in (f"{role}.{who}.{digest}.{expiry}.{'0' * len(mac)}", f"admin.{who}.{digest}.{expiry}.{mac}",
                   f"{role}.{who}.{digest}.{int(expiry) + 1}.{mac}", f"{role}.{who}..{expiry}.{mac}", "junk"):
        assert c.get("/v1/me", headers={"Cookie": f"generec_session={forged}"}).status_code == 401, forged
    assert c.get("/v1/me", headers={"Cookie": f"generec_session={token}"}).status_code == 200
    # revoking the key a session signed in with ends the session (the other keys of the user live on)
    with Workspace.open(root) as ws:
        spare = ws.api_keys.create(user)
    c.cookies.clear()
    assert c.post("/v1/session", headers=h(spare)).status_code == 200 and c.get("/v1/me").status_code == 200
    with Workspace.open(root) as ws:
        assert ws.api_keys.revoke_key(spare)
    assert c.get("/v1/me").status_code == 401 and c.get("/v1/me", headers=h(key)).status_code == 200
    c.cookies.clear()


def test_rate_limit_answers_429(served_ws):
    root, (user, other, key, *_rest) = served_ws
    with TestClient(create_app(root, ServiceConfig(rate_limit=1, burst=2))) as c:
        codes = [c.get("/v1/me", headers=h(key)).status_code for _ in range(4)]
        assert codes[:2] == [200, 200] and codes[-1] == 429


def test_admin_adds_an_item_checked_like_an_import(client, tmp_path):
    c, root, (user, other, key, other_key, admin_key, variant, parent) = client
    path = tmp_path / "new.mp4"  # made with plain PyAV, outside generec's writer
    with av.open(str(path), "w") as out:
        s = out.add_stream("libx264", rate=12)
        s.width, s.height, s.pix_fmt = 64, 48, "yuv420p"
        for n in range(24):
            frame = av.VideoFrame.from_ndarray(np.full((48, 64, 3), n * 10, np.uint8), format="rgb24")
            out.mux(s.encode(frame))
        out.mux(s.encode())
    with path.open("rb") as f:
        r = c.post("/v1/items", data={"item_id": "upload-1", "title": "A new video", "tags": "cat|calm"}, files={"file": ("new.mp4", f, "video/mp4")}, headers=h(admin_key))
    assert r.status_code == 201, r.text
    assert r.json()["origin"] == "human" and r.json()["tags"] == ["cat", "calm"] and r.json()["duration"] == pytest.approx(2.0, abs=0.1)
    assert c.get("/v1/items/upload-1/media", headers=h(key)).status_code == 200
    before = rows(root)
    bad = c.post("/v1/items", data={"item_id": "upload-2"}, files={"file": ("x.mp4", b"not a video", "video/mp4")}, headers=h(admin_key))
    assert bad.status_code == 422 and "upload" in bad.text
    again = c.post("/v1/items", data={"item_id": "upload-1"}, headers=h(admin_key))
    assert again.status_code == 422 and "already" in again.text
    assert rows(root) == before


def test_a_retrained_checkpoint_is_served_without_a_restart(client):
    """Last in this module: it changes the current retriever. `generec train --if-stale` runs in
    another process while the app keeps running; the next feed comes from the new checkpoint."""
    import json

    from helpers import generec

    c, root, (user, other, key, *_rest) = client
    assert all("retrieved by ease" in e["reason"] for e in c.get("/v1/feed?k=3", headers=h(key)).json()["items"])
    run = generec("train", "--model", "itemknn", "--if-stale", "--min-events", "1", "--json", "-w", root)
    assert run.returncode == 0, run.stderr
    assert json.loads(run.stdout)["trained"] is True  # the tests above logged events
    assert all("retrieved by itemknn" in e["reason"] for e in c.get("/v1/feed?k=3", headers=h(key)).json()["items"])


@pytest.mark.parametrize("warm", [True, False])
def test_the_models_load_before_the_first_request_is_accepted(served_ws, warm):
    root, _ = served_ws
    app = create_app(root, ServiceConfig(rate_limit=0, warm=warm, warm_items=0))
    loop = app.state.service.loop
    assert loop.instructor.text_encoder is None and loop.instructor._retriever is None
    with TestClient(app) as c:  # the startup has run, no request yet
        loaded = loop.instructor.text_encoder is not None and loop.instructor._retriever is not None
        assert loaded is warm
        assert c.get("/health").status_code == 200
