"""8 clients post 10,000 feedback events at once to a live `generec serve` while feeds are read:
every event is stored exactly once, retries are recognised, and the database stays sound."""

from __future__ import annotations

import json
import sqlite3
import threading
from concurrent.futures import ThreadPoolExecutor
from http.client import HTTPConnection
from urllib.parse import urlparse

CLIENTS, EVENTS = 8, 10_000


def _post_all(url: str, key: str, items: list[str], client: int, n: int) -> list[dict]:
    """One client: n events, one request each, on one keep-alive connection."""
    u = urlparse(url)
    conn = HTTPConnection(u.hostname, u.port, timeout=60)
    headers = {"Authorization": f"Bearer {key}", "Content-Type": "application/json"}
    answers = []
    for i in range(n):
        event = {"item_id": items[i % len(items)], "event": "watch", "value": (i % 10) / 10, "id": f"c{client}-{i}"}
        conn.request("POST", "/v1/feedback", json.dumps(event), headers)
        r = conn.getresponse()
        answers.append({"status": r.status, **json.loads(r.read())})
    conn.close()
    return answers


def _read_feeds(url: str, key: str, stop: threading.Event, statuses: list[int]) -> None:
    u = urlparse(url)
    conn = HTTPConnection(u.hostname, u.port, timeout=60)
    while not stop.is_set():
        conn.request("GET", "/v1/feed?k=10", headers={"Authorization": f"Bearer {key}"})
        r = conn.getresponse()
        r.read()
        statuses.append(r.status)
    conn.close()


def test_concurrent_feedback_is_stored_exactly_once(served):
    items = [served.parent, served.variant]
    with sqlite3.connect(served.root / "generec.db") as db:
        before = db.execute("SELECT COUNT(*) FROM interactions").fetchone()[0]
    stop, feed_statuses = threading.Event(), []
    reader = threading.Thread(target=_read_feeds, args=(served.url, served.key, stop, feed_statuses))
    reader.start()
    try:
        with ThreadPoolExecutor(CLIENTS) as pool:
            runs = list(pool.map(lambda c: _post_all(served.url, served.key, items, c, EVENTS // CLIENTS), range(CLIENTS)))
        # a retry of every 100th event (a client that lost the answer) is not stored again
        retry = _post_all(served.url, served.key, items, 0, EVENTS // CLIENTS)[::100]
    finally:
        stop.set()
        reader.join(60)
    answers = [a for run in runs for a in run]
    assert all(a["status"] == 200 for a in answers) and sum(a["stored"] for a in answers) == EVENTS
    assert all(a["stored"] == 0 and a["duplicates"] == 1 for a in retry)
    assert feed_statuses and set(feed_statuses) == {200}
    with sqlite3.connect(served.root / "generec.db") as db:
        ids = [r[0] for r in db.execute("SELECT event_id FROM interactions WHERE event_id LIKE 'c%-%'")]
        assert len(ids) == len(set(ids)) == EVENTS
        assert db.execute("SELECT COUNT(*) FROM interactions").fetchone()[0] - before >= EVENTS  # plus the feeds' impressions
        assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
