"""The web page in a real browser (Playwright driving Debian's Chromium) against a live `generec serve`:
sign-in (wrong key and right key), the labelled AI item and its provenance, the original-vs-personal
cover view, video playback over HTTP ranges, a like that changes the next feed, an instruction shown
in words, and sign-out. Screenshots are kept as test artefacts; the console must stay clean.

Chromium comes from the system (`/usr/bin/chromium`, CI installs it); nothing is downloaded here,
and a missing browser is a failure, not a skip."""

from __future__ import annotations

import json
import os
import re
import urllib.request
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect, sync_playwright

CHROMIUM = Path("/usr/bin/chromium")
TIMEOUT_MS = 30_000
SLOW_MS = 60_000  # instructions can make an edit


@pytest.fixture(scope="module")
def artefacts() -> Path:
    out = Path(os.environ.get("GENEREC_ARTIFACTS", "test-artifacts")) / "browser"
    out.mkdir(parents=True, exist_ok=True)
    return out


@pytest.fixture(scope="module")
def browser():
    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} is missing: install Debian's chromium package (apt-get install chromium); "
                    "the browser tests never download a browser", pytrace=False)  # fmt: skip
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), args=["--no-sandbox"], headless=True)
        try:
            yield b
        finally:
            b.close()


class Console:
    """The page's console errors and uncaught exceptions, less the expected 401s (the page asks
    `/v1/me` before sign-in, and a wrong key is answered 401)."""

    def __init__(self, page: Page):
        self.errors: list[str] = []
        page.on("console", lambda m: self.errors.append(f"console: {m.text} @ {m.location}") if m.type == "error" else None)
        page.on("pageerror", lambda e: self.errors.append(f"pageerror: {e}"))

    def unexpected(self) -> list[str]:
        return [e for e in self.errors if not re.search(r"\b401\b", e)]


@pytest.fixture
def page(browser, served):
    """A fresh browser context (no cookie) on the page; the console is checked when the test ends."""
    context = browser.new_context(viewport={"width": 900, "height": 1400}, base_url=served.url)
    pg = context.new_page()
    pg.set_default_timeout(TIMEOUT_MS)
    console = Console(pg)
    pg.goto("/")
    yield pg
    try:
        assert console.unexpected() == [], "console errors on the page"
    finally:
        context.close()


def sign_in(page: Page, key: str) -> None:
    expect(page.locator("#sign-in-view")).to_be_visible()
    page.fill("#key", key)
    page.click("#sign-in")


def signed_in(page: Page, key: str) -> None:
    sign_in(page, key)
    expect(page.locator("#feed")).to_be_visible()
    expect(page.locator("#feed article.card").first).to_be_visible()


def ai_card(page: Page, served):
    return page.locator(f'#feed article.card[data-item-id="{served.variant}"]')


def feed_ids(page: Page) -> list[str]:
    return page.locator("#feed article.card").evaluate_all("cards => cards.map(c => c.dataset.itemId)")


def api_get(served, path: str) -> dict:
    req = urllib.request.Request(served.url + path, headers={"Authorization": f"Bearer {served.key}"})
    with urllib.request.urlopen(req, timeout=30) as res:
        return json.loads(res.read())


# -- the tests, in the order a user meets them (each signs in in its own fresh context) ----------------


def test_a_wrong_key_is_refused_and_shows_no_feed(page, served, artefacts):
    sign_in(page, "not-a-key-" + served.key[::-1])
    error = page.locator("#sign-in-error")
    expect(error).to_be_visible()
    expect(error).not_to_be_empty()
    expect(page.locator("#app-view")).to_be_hidden()
    expect(page.locator("#feed")).to_be_hidden()
    assert page.locator("#feed article.card").count() == 0
    page.screenshot(path=artefacts / "wrong-key.png", full_page=True)


def test_the_feed_labels_the_ai_item_and_shows_its_provenance(page, served, artefacts):
    signed_in(page, served.key)
    expect(page.locator("#user")).to_have_text(served.user)
    assert page.locator("#feed article.card").count() > 0
    card = ai_card(page, served)
    expect(card).to_have_count(1)
    badge = card.locator("button.badge")
    expect(badge).to_be_visible()
    expect(badge).to_contain_text("AI-edited")
    page.screenshot(path=artefacts / "feed.png", full_page=True)

    badge.click()
    panel = card.locator(".provenance")
    expect(panel).to_be_visible()
    expect(panel).to_contain_text("How this was made")
    expect(panel).to_contain_text("cover")  # the op
    expect(panel).to_contain_text(served.parent)
    expect(panel.locator(".c2pa-state")).to_have_text(re.compile(r"^(trusted|valid|tampered|absent)$"))
    assert badge.get_attribute("aria-expanded") == "true"
    panel.scroll_into_view_if_needed()
    page.screenshot(path=artefacts / "provenance.png", full_page=True)


def test_the_ai_card_compares_the_original_and_personal_covers(page, served, artefacts):
    signed_in(page, served.key)
    card = ai_card(page, served)
    expect(card).to_have_count(1)
    card.locator("button.compare").click()
    view = card.locator(".cover-compare")
    expect(view).to_be_visible()
    figures = {cap: view.locator("figure", has=page.locator("figcaption", has_text=re.compile(f"^{cap}$"))) for cap in ("original", "personal")}
    srcs = {}
    for cap, fig in figures.items():
        expect(fig).to_have_count(1)
        img = fig.locator("img")
        expect(img).to_be_visible()
        # the cover really loads (cookie-authenticated <img>), not a broken image
        page.wait_for_function("img => img.complete && img.naturalWidth > 0", arg=img.element_handle())
        srcs[cap] = img.get_attribute("src")
    assert srcs["original"] and srcs["personal"] and srcs["original"] != srcs["personal"]
    assert served.parent in srcs["original"] and served.variant in srcs["personal"]
    page.screenshot(path=artefacts / "compare.png", full_page=True)


def test_a_video_plays(page, served):
    signed_in(page, served.key)
    video = page.locator("#feed article.card").first.locator("video")
    handle = video.element_handle()
    page.evaluate("v => { v.muted = true; return v.play(); }", handle)
    page.wait_for_function("v => v.currentTime > 0 || v.error !== null", arg=handle)
    assert page.evaluate("v => v.error && {code: v.error.code, message: v.error.message}", handle) is None
    assert page.evaluate("v => v.currentTime", handle) > 0
    page.evaluate("v => v.pause()", handle)  # the page sends the watch event


def test_a_like_changes_the_next_feed_and_is_stored(page, served, artefacts):
    signed_in(page, served.key)
    feed = page.locator("#feed")
    before_feed = feed.get_attribute("data-feed-id")
    assert before_feed
    before = feed_ids(page)
    first = page.locator("#feed article.card").first
    liked = first.get_attribute("data-item-id")
    first.locator("button.like").click()

    expect(feed).not_to_have_attribute("data-feed-id", before_feed)
    expect(page.locator("#feed article.card").first).to_be_visible()
    after = feed_ids(page)
    assert liked not in after, f"the liked item {liked} is still in the next feed {after}"
    assert after != before
    page.screenshot(path=artefacts / "after-like.png", full_page=True)

    events = api_get(served, "/v1/history")["events"]
    assert any(e["item_id"] == liked and e["event"] == "like" for e in events), events[-5:]


def test_an_instruction_is_shown_in_words(page, served, artefacts):
    signed_in(page, served.key)
    before_feed = page.locator("#feed").get_attribute("data-feed-id")
    page.fill("#instruction", "no more food, show me animals under 8 seconds")
    page.click("#instruct")
    guidance = page.locator("#guidance")
    expect(guidance).to_contain_text(re.compile(r"animal|under 8", re.I), timeout=SLOW_MS)
    expect(page.locator("#feed")).not_to_have_attribute("data-feed-id", before_feed or "", timeout=SLOW_MS)
    expect(page.locator("#instruct")).to_be_enabled(timeout=SLOW_MS)
    expect(page.locator("#status")).not_to_have_class(re.compile(r"is-error"))
    page.screenshot(path=artefacts / "instruction.png", full_page=True)


def test_sign_out_returns_to_the_sign_in_form(page, served):
    signed_in(page, served.key)
    page.click("#sign-out")
    expect(page.locator("#sign-in-view")).to_be_visible()
    expect(page.locator("#app-view")).to_be_hidden()
    expect(page.locator("#account")).to_be_hidden()
    expect(page.locator("#sign-in-error")).to_be_hidden()
    # the cookie is gone: a reload stays signed out
    page.reload()
    expect(page.locator("#sign-in-view")).to_be_visible()
    expect(page.locator("#app-view")).to_be_hidden()
