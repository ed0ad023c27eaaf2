// generec web page: sign-in, feed, feedback, instructions. No build step, no network beyond this origin.
// All server text goes through textContent; no innerHTML with data, no inline handlers.
"use strict";

(function () {
  const SESSION = "web";
  const K = 10;
  const $ = (id) => document.getElementById(id);
  const el = {};
  let feedToken = 0;        // ignores stale feed responses
  let observer = null;      // IntersectionObserver for the cards
  const watches = new Set(); // per-video watch trackers of the cards on screen

  // ---- helpers -------------------------------------------------------------------------------
  function newId() {
    if (window.crypto && typeof window.crypto.randomUUID === "function") return window.crypto.randomUUID();
    if (window.crypto && typeof window.crypto.getRandomValues === "function") {
      const b = window.crypto.getRandomValues(new Uint8Array(16));
      return Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
    }
    return "id-" + Date.now().toString(36) + "-" + Math.random().toString(36).slice(2, 12);
  }

  function make(tag, cls, text) {
    const node = document.createElement(tag);
    if (cls) node.className = cls;
    if (text !== undefined && text !== null) node.textContent = String(text);
    return node;
  }

  function button(cls, text) {
    const b = make("button", cls, text);
    b.type = "button";
    return b;
  }

  function fmt(v, depth) {
    depth = depth || 0;
    if (v === null || v === undefined || v === "") return "—";
    if (typeof v !== "object") return String(v);
    if (depth > 2) return "…";
    if (Array.isArray(v)) return v.length ? v.map((x) => fmt(x, depth + 1)).join(", ") : "—";
    const parts = Object.entries(v).map(([k, x]) => k + ": " + fmt(x, depth + 1));
    return parts.length ? parts.join(", ") : "—";
  }

  // FastAPI detail: a string, or a list of {loc, msg} for validation errors.
  function formatDetail(detail, status) {
    if (typeof detail === "string" && detail) return detail;
    if (Array.isArray(detail) && detail.length) {
      return detail.map((d) => {
        if (!d || typeof d !== "object") return String(d);
        const loc = Array.isArray(d.loc) ? d.loc.filter((p) => p !== "body" && p !== "query") : [];
        const msg = d.msg || fmt(d);
        return loc.length ? loc.join(".") + ": " + msg : msg;
      }).join("; ");
    }
    if (detail && typeof detail === "object") return detail.message || fmt(detail);
    return "Request failed (HTTP " + status + ").";
  }

  // One place for fetch: always same-origin credentials; never throws, returns {ok, status, data}.
  async function api(method, path, body, extra) {
    const opts = Object.assign({ method: method, credentials: "same-origin", headers: {} }, extra || {});
    opts.headers = Object.assign({ Accept: "application/json" }, opts.headers);
    if (body !== undefined) {
      opts.headers["Content-Type"] = "application/json";
      opts.body = JSON.stringify(body);
    }
    let res;
    try {
      res = await fetch(path, opts);
    } catch (err) {
      return { ok: false, status: 0, data: null, error: "Could not reach the server." };
    }
    let data = null;
    try {
      const text = await res.text();
      data = text ? JSON.parse(text) : null;
    } catch (err) {
      data = null;
    }
    const out = { ok: res.ok, status: res.status, data: data };
    if (!res.ok) out.error = formatDetail(data && data.detail, res.status);
    return out;
  }

  function setStatus(msg, isError) {
    el.status.textContent = msg || "";
    el.status.classList.toggle("is-error", Boolean(msg) && Boolean(isError));
  }

  // ---- views ---------------------------------------------------------------------------------
  function showSignIn(message) {
    el.loading.hidden = true;
    el.app.hidden = true;
    el.account.hidden = true;
    el.signIn.hidden = false;
    el.user.textContent = "";
    clearFeed();
    el.guidance.replaceChildren();
    el.clarify.hidden = true;
    el.clarify.textContent = "";
    setStatus("");
    signInMessage(message);
    el.key.focus();
  }

  function signInMessage(message) {
    el.signInError.textContent = message || "";
    el.signInError.hidden = !message;
  }

  function showApp(me) {
    el.loading.hidden = true;
    el.signIn.hidden = true;
    signInMessage("");
    el.app.hidden = false;
    el.account.hidden = false;
    el.user.textContent = me && me.user_id ? me.user_id : "";
    loadFeed();
  }

  function handleAuthLost(res) {
    if (res.status === 401) {
      if (el.app.hidden) return true; // already signed out
      showSignIn("Your session has ended. Sign in again.");
      return true;
    }
    return false;
  }

  // ---- sign in / out -------------------------------------------------------------------------
  async function signIn(ev) {
    ev.preventDefault();
    const key = el.key.value.trim();
    el.key.value = ""; // the key lives only for this one call
    if (!key) return signInMessage("Enter your API key.");
    el.signInBtn.disabled = true;
    const res = await api("POST", "/v1/session", undefined, { headers: { Authorization: "Bearer " + key } });
    el.signInBtn.disabled = false;
    if (res.ok) {
      showApp(res.data);
    } else {
      signInMessage(res.status === 401 ? "That key was not accepted." : res.error);
      el.key.focus();
    }
  }

  async function signOut() {
    await flushWatches();
    el.signOut.disabled = true;
    const res = await api("DELETE", "/v1/session");
    el.signOut.disabled = false;
    if (res.ok || res.status === 401) showSignIn("");
    else setStatus("Sign-out failed: " + res.error, true);
  }

  // ---- feedback ------------------------------------------------------------------------------
  async function sendEvent(itemId, event, value, keepalive) {
    const body = { item_id: itemId, event: event, id: newId() };
    if (value !== undefined && value !== null) body.value = value;
    const res = await api("POST", "/v1/feedback", body, keepalive ? { keepalive: true } : undefined);
    if (!res.ok) {
      if (!handleAuthLost(res)) setStatus("Could not send " + event + ": " + res.error, true);
    }
    return res.ok;
  }

  // Watch time: one "watch" event per play session (play → pause / end / leaves the screen).
  function trackVideo(video, item) {
    const w = { video: video, item: item, clicked: false, active: false, maxTime: 0 };
    const duration = () => {
      const d = video.duration;
      if (Number.isFinite(d) && d > 0) return d;
      return Number(item.duration) > 0 ? Number(item.duration) : 0;
    };
    w.end = (keepalive) => {
      if (!w.active) return Promise.resolve(true);
      w.active = false;
      w.maxTime = Math.max(w.maxTime, video.currentTime || 0);
      const d = duration();
      const ratio = d > 0 ? Math.min(1, Math.max(0, w.maxTime / d)) : 0;
      return sendEvent(item.item_id, "watch", Math.round(ratio * 1000) / 1000, keepalive);
    };
    video.addEventListener("play", () => {
      if (!w.clicked) {
        w.clicked = true;
        sendEvent(item.item_id, "click");
      }
      if (!w.active) {
        w.active = true;
        w.maxTime = video.currentTime || 0;
      }
    });
    video.addEventListener("timeupdate", () => {
      if (w.active) w.maxTime = Math.max(w.maxTime, video.currentTime || 0);
    });
    video.addEventListener("pause", () => w.end(false));
    video.addEventListener("ended", () => w.end(false));
    watches.add(w);
    return w;
  }

  function flushWatches() {
    return Promise.all(Array.from(watches, (w) => w.end(true)));
  }

  function onIntersect(entries) {
    entries.forEach((entry) => {
      if (entry.isIntersecting) return;
      const w = entry.target._watch;
      if (!w || !w.active) return;
      w.end(false);
      if (!w.video.paused) w.video.pause();
    });
  }

  // ---- feed ----------------------------------------------------------------------------------
  function clearFeed() {
    flushWatches();
    watches.clear();
    if (observer) observer.disconnect();
    el.feed.replaceChildren();
  }

  async function loadFeed() {
    const token = ++feedToken;
    el.feed.setAttribute("aria-busy", "true");
    const res = await api("GET", "/v1/feed?k=" + K + "&session=" + encodeURIComponent(SESSION));
    if (token !== feedToken) return;
    el.feed.setAttribute("aria-busy", "false");
    if (!res.ok) {
      if (!handleAuthLost(res)) setStatus("Could not load the feed: " + res.error, true);
      return;
    }
    renderGuidance(res.data && res.data.guidance);
    renderFeed(res.data);
  }

  function renderFeed(feed) {
    clearFeed();
    el.feed.setAttribute("aria-busy", "false");
    const items = (feed && Array.isArray(feed.items)) ? feed.items : [];
    if (feed && feed.feed_id) el.feed.dataset.feedId = feed.feed_id;
    if (!items.length) {
      el.feed.appendChild(make("p", "empty", "Nothing to show yet. Try telling us what you want to see."));
      return;
    }
    items.forEach((item) => el.feed.appendChild(renderCard(item)));
    el.feed.scrollTop = 0;
  }

  let panelSeq = 0;

  function renderCard(item) {
    const origin = item.origin || "human";
    const card = make("article", "card");
    card.dataset.itemId = item.item_id;
    card.dataset.origin = origin;
    const title = item.title || item.item_id;
    card.setAttribute("aria-label", title);

    const media = make("div", "media");
    const video = document.createElement("video");
    video.controls = true;
    video.playsInline = true;
    video.setAttribute("playsinline", "");
    video.preload = "metadata";
    if (item.cover_url) video.poster = item.cover_url;
    if (item.media_url) video.src = item.media_url;
    media.appendChild(video);
    card.appendChild(media);
    card._watch = trackVideo(video, item);

    const body = make("div", "body");
    const head = make("div", "head");
    head.appendChild(make("h2", "title", title));
    let badge = null;
    if (origin !== "human") {
      badge = button("badge", item.label || (origin === "ai_created" ? "AI-created" : "AI-edited"));
      badge.setAttribute("aria-expanded", "false");
      badge.title = "Show how this item was made";
      if (/flag/i.test(item.label || "")) badge.classList.add("is-flagged");
      head.appendChild(badge);
    }
    body.appendChild(head);

    const meta = [];
    if (Number(item.duration) > 0) meta.push(Number(item.duration).toFixed(1) + " s");
    if (item.way) meta.push(item.way);
    if (meta.length) body.appendChild(make("p", "meta", meta.join(" · ")));

    const tags = Array.isArray(item.tags) ? item.tags : [];
    if (tags.length) {
      const ul = make("ul", "tags");
      ul.setAttribute("aria-label", "Tags");
      tags.forEach((t) => ul.appendChild(make("li", "tag", t)));
      body.appendChild(ul);
    }
    if (item.reason) body.appendChild(make("p", "reason", item.reason));

    const actions = make("div", "actions");
    const like = button("btn like", "Like");
    const skip = button("btn skip", "Skip");
    actions.append(like, skip);
    body.appendChild(actions);

    if (origin === "ai_edited" && item.parent_cover_url) {
      const cmp = button("btn btn-ghost compare", "Original vs personal cover");
      cmp.setAttribute("aria-expanded", "false");
      const view = make("div", "cover-compare");
      view.id = "cmp-" + (++panelSeq);
      view.hidden = true;
      cmp.setAttribute("aria-controls", view.id);
      cmp.addEventListener("click", () => {
        if (!view.childElementCount) {
          view.append(figure(item.parent_cover_url, "original", "Original cover of " + title),
            figure(item.cover_url, "personal", "Personal cover of " + title));
        }
        view.hidden = !view.hidden;
        cmp.setAttribute("aria-expanded", String(!view.hidden));
        if (!view.hidden) reveal(view);
      });
      actions.appendChild(cmp);
      body.appendChild(view);
    }

    if (badge) {
      const panel = make("div", "provenance");
      panel.id = "prov-" + (++panelSeq);
      panel.hidden = true;
      badge.setAttribute("aria-controls", panel.id);
      badge.addEventListener("click", () => toggleProvenance(item, badge, panel));
      body.appendChild(panel);
    }

    like.addEventListener("click", () => react(item, "like", [like, skip]));
    skip.addEventListener("click", () => react(item, "skip", [like, skip]));
    card.appendChild(body);
    if (observer) observer.observe(card);
    return card;
  }

  function figure(src, caption, alt) {
    const fig = make("figure", "cover");
    const img = document.createElement("img");
    img.alt = alt;
    img.decoding = "async";
    if (src) img.src = src;
    fig.append(img, make("figcaption", null, caption));
    return fig;
  }

  async function react(item, event, buttons) {
    buttons.forEach((b) => { b.disabled = true; });
    setStatus("");
    const ok = await sendEvent(item.item_id, event);
    if (ok) {
      setStatus(event === "like" ? "Liked — updating your feed…" : "Skipped — updating your feed…");
      await loadFeed();
      if (el.status.textContent.endsWith("updating your feed…")) setStatus("");
    }
    // still on screen (the feed did not change): let the user try again
    buttons.forEach((b) => { if (b.isConnected) b.disabled = false; });
  }

  // ---- provenance ----------------------------------------------------------------------------
  async function toggleProvenance(item, badge, panel) {
    if (!panel.hidden) {
      panel.hidden = true;
      badge.setAttribute("aria-expanded", "false");
      return;
    }
    panel.hidden = false;
    badge.setAttribute("aria-expanded", "true");
    if (panel.dataset.loaded === "1") return;
    panel.replaceChildren(make("p", "hint", "Loading provenance…"));
    const res = await api("GET", "/v1/items/" + encodeURIComponent(item.item_id));
    if (!res.ok) {
      panel.replaceChildren(make("p", "error", "Could not load provenance: " + res.error));
      handleAuthLost(res);
      return;
    }
    panel.dataset.loaded = "1";
    renderProvenance(panel, res.data || {});
    reveal(panel);
  }

  function reveal(node) {
    if (typeof node.scrollIntoView === "function") node.scrollIntoView({ block: "nearest", behavior: "smooth" });
  }

  function renderProvenance(panel, info) {
    const prov = info.provenance || {};
    const c2pa = info.c2pa;
    const fidelity = info.fidelity;
    const dl = make("dl", "prov-list");
    const row = (label, value, cls) => {
      const dd = make("dd", cls, value);
      dl.append(make("dt", null, label), dd);
      return dd;
    };
    panel.replaceChildren(make("h3", null, "How this was made"));
    row("Label", fmt(info.label));
    row("Operation", fmt(prov.op));
    row("Parent", fmt(info.parent_id || prov.parent_id));
    row("Generator", fmt(prov.generator !== undefined ? prov.generator : prov.model));
    const states = ["trusted", "valid", "tampered", "absent"];
    if (c2pa) {
      const state = states.includes(c2pa.state) ? c2pa.state : "unknown";
      const dd = row("C2PA", "", "c2pa c2pa-" + state);
      dd.append(make("span", "c2pa-state", fmt(c2pa.state)));
      if (c2pa.summary) dd.append(make("span", "c2pa-summary", " — " + c2pa.summary));
    } else {
      row("C2PA", "—", "c2pa");
    }
    const decision = fidelity ? fidelity.decision : null;
    row("Fidelity", fmt(decision), decision === "flag" ? "fidelity is-flagged" : "fidelity");
    panel.appendChild(dl);
  }

  // ---- instructions --------------------------------------------------------------------------
  function renderGuidance(g) {
    el.guidance.replaceChildren();
    if (g) {
      if (g.summary) el.guidance.appendChild(make("p", "summary", g.summary));
      const chips = [];
      const list = (v) => (Array.isArray(v) ? v.filter(Boolean).join(", ") : v);
      if (g.include && g.include.length) chips.push("more: " + list(g.include));
      if (g.exclude && g.exclude.length) chips.push("without: " + list(g.exclude));
      if (g.style) chips.push("style: " + g.style);
      const num = (x) => (x === null || x === undefined || !Number.isFinite(Number(x)) ? null : Number(x));
      const lo = num(g.min_duration_s), hi = num(g.max_duration_s);
      if (lo !== null || hi !== null) {
        chips.push("duration: " + (lo !== null && hi !== null ? lo + "–" + hi + " s"
          : hi !== null ? "under " + hi + " s" : "over " + lo + " s"));
      }
      if (chips.length) {
        const ul = make("ul", "chips");
        chips.forEach((c) => ul.appendChild(make("li", "chip", c)));
        el.guidance.appendChild(ul);
      }
    }
    const q = g && typeof g.clarify === "string" ? g.clarify.trim() : "";
    el.clarify.textContent = q;
    el.clarify.hidden = !q;
    el.instruction.placeholder = q ? "Your answer…" : "What do you want to see?";
  }

  async function instruct(ev) {
    ev.preventDefault();
    const text = el.instruction.value.trim();
    if (!text) {
      setStatus("Type what you want to see first.", true);
      el.instruction.focus();
      return;
    }
    el.instructBtn.disabled = true;
    setStatus("Thinking…");
    const token = ++feedToken;
    const res = await api("POST", "/v1/instruct", { text: text, session: SESSION, k: K });
    el.instructBtn.disabled = false;
    if (!res.ok) {
      if (!handleAuthLost(res)) setStatus(res.error, true);
      return;
    }
    setStatus("");
    el.instruction.value = "";
    const data = res.data || {};
    renderGuidance(data.guidance);
    if (token === feedToken && data.feed) renderFeed(data.feed);
    if (!el.clarify.hidden) el.instruction.focus();
  }

  // ---- start ---------------------------------------------------------------------------------
  async function start() {
    const ids = {
      loading: "loading", signIn: "sign-in-view", signInForm: "sign-in-form", signInBtn: "sign-in",
      signInError: "sign-in-error", key: "key", app: "app-view", account: "account", user: "user",
      signOut: "sign-out", feed: "feed", instructForm: "instruct-form", instruction: "instruction",
      instructBtn: "instruct", guidance: "guidance", clarify: "clarify", status: "status",
    };
    Object.keys(ids).forEach((name) => { el[name] = $(ids[name]); });

    if ("IntersectionObserver" in window) observer = new IntersectionObserver(onIntersect, { threshold: 0 });
    el.signInForm.addEventListener("submit", signIn);
    el.signOut.addEventListener("click", signOut);
    el.instructForm.addEventListener("submit", instruct);
    document.addEventListener("visibilitychange", () => {
      if (document.visibilityState === "hidden") flushWatches();
    });
    window.addEventListener("pagehide", () => { flushWatches(); });

    const me = await api("GET", "/v1/me");
    if (me.ok) showApp(me.data);
    else showSignIn(me.status === 0 ? me.error : "");
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
