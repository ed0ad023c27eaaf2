"""The activation study: does serving an instruction by editing beat retrieval alone?

On the micro-video benchmark, for a seeded sample of users who clicked something, each user asks
for what they truly like (the oracle's a_u, b_u): their favourite concept x, least liked concept
y and favourite look. One request per template:

- `duration`: x under d seconds, d drawn in [2, median duration];
- `look`:     x in the user's look;
- `concept`:  x — the control: retrieval alone can satisfy it;
- `exclude`:  x, and not y.

The wording comes from `datasets/instructions.py`: phrasings written by hand in users' voice
("got any floofs?", "i'm sick of snacks. got any spaaace?"), one seeded choice per user; the
parser has never seen them (none are generated from its tables).

Each instruction is parsed by the embedded parser, then served two ways over the same retriever
ranking (seen items excluded):

- retrieval only: the ranking filtered to the items whose metadata satisfies the guidance
  (`activation.check_item`, match >= `min_match`), top k; if none does, the unfiltered top k;
- instructor: `activation.decide` over the top-K candidates. Retrieve: the same feed. Repurpose:
  every candidate an edit can make fit (best match_if_edited, then rank), up to k, edited as
  `pipeline.edit` would (the clip op: the user's concept preference steered by the guidance
  through the text→image bridge, `choose_clip` over the clip length the guidance allows, the
  asked look rendered, the best usable keyframe inside as cover; the style op: the named look,
  the first usable keyframe as cover) but without writing anything to the workspace. Create:
  with `create` on, the creator's item leads the feed (`activation_create.py`, stored in the
  workspace); otherwise the retrieved feed stands in (counted in `modes`).

Both feeds are scored on the pixels shown. Per item, the user sees its cover (the catalogue's
cover, or the edit's keyframe rendered in the edit's look by the product's own restyle) and one
frame per second of the span served, in its look. The oracle scores them:

    ctr = Oracle.click_prob(u, cover pixels),  watch_s = Oracle.watch_value(u, frames, fps)
    utility = ctr × watch_s

and its judge (`Oracle.judge`, its own features and weights) reads every frame: frame i, standing
for ℓ_i seconds, shows concept ĉ_i = argmax p_i(concept) and look ŝ_i = argmax p_i(look), and

    share(z) = Σ_i ℓ_i [ẑ_i = z] / Σ_i ℓ_i
    satisfied = [length <= asked] × [share(x) >= min_share] × [share(y) < max_excluded_share]
                × [share(look) >= min_share]

`satisfied_utility` = utility × satisfied. The same two numbers on ground truth and the edit's
label (the look counted as rendered perfectly), `utility_label` and `satisfied_label`, are kept
as extra columns only. A feed scores the mean over its items (@k) and its first item (@1); an
instruction counts once. The report gives both policies, their relative gain, per template too,
and which ways the instructor took.

Derived caches (keyframe features, the concept head, class-name embeddings) may be written to
the workspace's `features/` and `models/`; no interaction or instruction is, and no item unless
the creation arm is on.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from generec.datasets.instructions import KINDS, user_rng, write_instruction
from generec.datasets.oracle import ClipRef, FrameRef, Oracle
from generec.editor.base import EditContext
from generec.editor.clip import ClipConfig, choose_clip, clip_length
from generec.editor.keyframes import KeyframeConfig, Keyframes, keyframes
from generec.errors import InputError
from generec.evaluation.screen import WATCH_FPS, Screen
from generec.instructor.activation import ActivationConfig, CandidateCheck, check_item, decide, editable_candidates
from generec.instructor.guidance import Guidance
from generec.types import Event, Origin
from generec.workspace import Workspace

TEMPLATES = KINDS
METRICS = ("ctr", "watch_s", "utility", "satisfied", "satisfied_utility", "utility_label", "satisfied_label")
POLICIES = ("retrieval", "instructor")


@dataclass(frozen=True)
class ActivationStudyConfig:
    n_users: int = 30
    k: int = 10  # feed length
    seed: int = 0
    templates: tuple[str, ...] = TEMPLATES
    min_share: float = 0.5  # share of the shown seconds that must show the asked concept / look
    max_excluded_share: float = 0.25  # the refused concept must show in less than this share
    activation: ActivationConfig = field(default_factory=ActivationConfig)
    clip: ClipConfig = field(default_factory=ClipConfig)
    keyframes: KeyframeConfig = field(default_factory=KeyframeConfig)
    create: bool = False  # the creation arm (`activation_create.py`): requests for what the catalogue lacks, served by the creator
    create_per_user: int = 2  # with the 4 templates: a third of the instructions

    def __post_init__(self) -> None:
        if self.n_users < 1 or self.k < 1:
            raise InputError(f"ActivationStudyConfig: n_users and k must be >= 1, found {self.n_users}, {self.k}")
        bad = [t for t in self.templates if t not in TEMPLATES]
        if bad or not self.templates:
            raise InputError(f"ActivationStudyConfig.templates: unknown {bad or 'none given'}; valid: {', '.join(TEMPLATES)}")
        if not (0.0 < self.min_share <= 1.0 and 0.0 < self.max_excluded_share <= 1.0):
            raise InputError(
                "ActivationStudyConfig: min_share and max_excluded_share must be in (0, 1], "
                f"found {self.min_share}, {self.max_excluded_share}"
            )


@dataclass(frozen=True)
class Request:
    """One written instruction and what it truly asks for."""

    user_id: str
    template: str
    text: str
    concept: int  # index into oracle.concepts
    look: str | None = None
    max_duration_s: float | None = None
    exclude: int | None = None  # index into oracle.concepts
    wording: str = ""  # the hand-written template the text was made from


@dataclass(frozen=True)
class Shown:
    """One item as shown: a span of a benchmark video, maybe restyled, with its cover frame."""

    item_id: str
    start: float
    end: float
    style: str | None
    cover_t: float
    way: str  # retrieve | repurpose
    strength: float = 1.0  # of the look rendered


@dataclass
class ActivationReport:
    overall: dict[str, dict[str, float]]  # policy -> metric@k -> value
    templates: dict[str, dict[str, dict[str, float]]]  # template -> policy -> metric@k -> value
    gains: dict[str, float]  # metric@k -> (instructor − retrieval) / |retrieval|
    modes: dict[str, int]  # the instructor's ways, over all instructions
    modes_by_template: dict[str, dict[str, int]]
    parse_accuracy: float  # share of instructions parsed to the asked concepts, look and length
    info: dict[str, Any]
    requests: list[Request] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {"overall": self.overall, "templates": self.templates, "gains": self.gains, "modes": self.modes,
                "modes_by_template": self.modes_by_template, "parse_accuracy": self.parse_accuracy, "info": self.info,
                "instructions": [dataclasses.asdict(r) for r in self.requests]}  # fmt: skip


def _retriever(ws: Workspace, retriever):
    """The given retriever, else the workspace's current one, else EASE fitted in memory."""
    if retriever is not None:
        return retriever, getattr(retriever, "name", "given")
    from generec.retrieval.serving import load_current

    try:
        return load_current(ws), "current"
    except InputError:
        from generec.retrieval import RETRIEVERS
        from generec.retrieval.data import full_data
        from generec.retrieval.trainer import default_config

        return RETRIEVERS["ease"](default_config("ease")).fit(full_data(ws)), "ease (fitted in memory)"


def make_requests(
    oracle: Oracle, users: list[str], durations: np.ndarray, templates: tuple[str, ...], seed: int
) -> list[Request]:
    """One instruction per (user, template), from the user's favourite and least liked concept and
    favourite look, worded by `datasets/instructions.py` with the user's own seeded generator."""
    top = max(3, int(round(float(np.median(durations)))))
    out = []
    for uid in users:
        taste, rng = oracle.users[uid], user_rng(seed, uid)
        c, y = int(np.argmax(taste.concept)), int(np.argmin(taste.concept))
        look = oracle.styles[int(np.argmax(taste.style))]
        d = int(rng.integers(2, top + 1))
        for template in templates:
            w = write_instruction(
                template, oracle.concepts[c], rng, exclude=oracle.concepts[y], look=look, seconds=d
            )  # fmt: skip
            out.append(Request(
                uid, template, w.text, c, look if template == "look" else None,
                float(d) if template == "duration" else None, y if template == "exclude" else None, w.template,
            ))  # fmt: skip
    return out


def _parsed_right(g: Guidance, r: Request, concepts: list[str]) -> bool:
    return (
        g.include == (concepts[r.concept],) and g.style == r.look
        and (r.exclude is None or g.exclude == (concepts[r.exclude],))
        and (r.max_duration_s is None or g.max_duration_s == r.max_duration_s)
    )  # fmt: skip


def _meets(
    r: Request, cfg: ActivationStudyConfig, length: float, share: Callable[[str, int], float], look: int | None
) -> bool:
    """The rule of `satisfied` (module doc); share(kind, index) is the share of the shown seconds
    whose concept (kind "concept") or look ("style") is that index."""
    if length <= 0 or (r.max_duration_s is not None and length > r.max_duration_s + 1e-6):
        return False
    if share("concept", r.concept) < cfg.min_share:
        return False
    if r.exclude is not None and share("concept", r.exclude) >= cfg.max_excluded_share:
        return False
    return look is None or share("style", look) >= cfg.min_share


def _label_scores(oracle: Oracle, r: Request, s: Shown, cfg: ActivationStudyConfig) -> tuple[float, float]:
    """(utility, satisfied) on ground truth with the edit's look counted as rendered perfectly."""
    video = oracle.videos[s.item_id]
    end = min(s.end, video.duration)
    ctr = oracle.click_prob(r.user_id, FrameRef(s.item_id, min(s.cover_t, video.duration), s.style))
    watch = oracle.watch_value(r.user_id, ClipRef(s.item_id, s.start, end, s.style)).seconds

    def share(kind: str, index: int) -> float:
        got = 0.0
        for seg in video.segments:
            overlap = max(0.0, min(seg.end, end) - max(seg.start, s.start))
            value = seg.concept if kind == "concept" else (oracle.styles.index(s.style) if s.style else seg.style)
            got += overlap * (value == index)
        return got / max(end - s.start, 1e-9)

    look = oracle.styles.index(r.look) if r.look else None
    return ctr * watch, float(_meets(r, cfg, s.end - s.start, share, look))


def score_feed(
    oracle: Oracle, screen: Screen, r: Request, feed: list[Shown], cfg: ActivationStudyConfig
) -> dict[str, np.ndarray]:
    """metric -> (len(feed),) per shown item, on its pixels (and the label columns)."""
    rows = {m: [] for m in METRICS}
    look = oracle.styles.index(r.look) if r.look else None
    for s in feed:
        v = screen.view(s)
        ctr = oracle.click_prob(r.user_id, v.cover)
        watch = oracle.watch_value(r.user_id, v.watch_frames(), WATCH_FPS).seconds
        ok = float(_meets(r, cfg, float(v.lengths.sum()), v.share, look))
        utility_label, ok_label = _label_scores(oracle, r, s, cfg) if s.item_id in oracle.videos else (np.nan, np.nan)  # created: no truth
        for m, x in zip(METRICS, (ctr, watch, ctr * watch, ok, ctr * watch * ok, utility_label, ok_label)):
            rows[m].append(x)
    return {m: np.asarray(x, np.float64) for m, x in rows.items()}


class _Editor:
    """pipeline.edit's choices (clip window, look, cover frame) without writing anything."""

    def __init__(self, ws: Workspace, cfg: ActivationStudyConfig) -> None:
        from generec.encoders.cache import FeatureCache
        from generec.encoders.image import get_image_encoder

        self.ws, self.cfg = ws, cfg
        self.encoder = get_image_encoder()
        self.cache = FeatureCache.for_workspace(ws)
        self._head = None
        self._bridge = None
        self._kf: dict[str, Keyframes] = {}
        self._prefs: dict[str, Any] = {}
        self.edited = 0  # edits made (none stored)

    def keyframes(self, item) -> Keyframes:
        if item.id not in self._kf:
            path = self.ws.media_path(item.media.hash, item.media.mime)
            self._kf[item.id] = keyframes(path, item.media.hash, self.encoder, self.cache, self.cfg.keyframes)
        return self._kf[item.id]

    def context(self, user_id: str, guidance: Guidance) -> EditContext:
        from generec.editor.preference import concept_head, concept_preference

        if self._head is None:
            self._head = concept_head(self.ws, self.encoder, self.cache)
        if user_id not in self._prefs:
            self._prefs[user_id] = concept_preference(self.ws, user_id, self.encoder, self.cache, self._head)
        bridge = None
        if guidance.include or guidance.exclude:
            if self._bridge is None:
                from generec.encoders.bridge import load_text_image_bridge

                self._bridge = load_text_image_bridge(self.ws)
            bridge = self._bridge
        return EditContext(self.ws, user_id, self._prefs[user_id], self.encoder, self.cache, bridge, 0)

    def __call__(self, user_id: str, item, guidance: Guidance, check: CandidateCheck) -> Shown:
        self.edited += 1
        kf = self.keyframes(item)
        look = guidance.look if guidance.look not in (None, "natural") else None
        strength = guidance.style_strength or 1.0  # as choose_style renders a named look
        if check.edit_op == "clip":
            length = clip_length(kf.duration, self.cfg.clip, guidance)
            choice = choose_clip(kf, self.context(user_id, guidance), length, guidance, self.cfg.clip)
            inside = (kf.timestamps >= choice.start) & (kf.timestamps < choice.end)
            cover_t = float(kf.timestamps[inside][np.argmax(kf.usable[inside])]) if inside.any() else choice.start
            return Shown(item.id, choice.start, choice.end, look, cover_t, "repurpose", strength)
        # the style op with a named look: the look is fixed; the cover is the first usable keyframe
        order = np.argsort(~kf.usable, kind="stable")
        cover_t = float(kf.timestamps[order[0]]) if len(order) else 0.0
        return Shown(item.id, 0.0, kf.duration, look, cover_t, "repurpose", strength)


def activation_study(
    ws: Workspace,
    n_users: int | None = None,
    seed: int | None = None,
    config: ActivationStudyConfig | None = None,
    retriever=None,
    progress: Callable[[str, int, int], None] | None = None,
) -> ActivationReport:
    """Retrieval alone vs. the instructor's activation on users' written instructions (module doc)."""
    from generec.instructor.parser import DEFAULT_VOCABULARY, ParseContext
    from generec.instructor.catalogue import catalogue_vocabulary
    from generec.pipeline import get_parser

    cfg = config or ActivationStudyConfig()
    if n_users is not None:
        cfg = dataclasses.replace(cfg, n_users=n_users)
    if seed is not None:
        cfg = dataclasses.replace(cfg, seed=seed)
    started = time.perf_counter()
    # 1. check inputs: a benchmark workspace (it has an oracle and its judge) and a retriever
    oracle = Oracle.load(ws.oracle_dir)
    model, model_source = _retriever(ws, retriever)
    items = {i.id: i for i in ws.items.all(origin=Origin.HUMAN)}
    screen = Screen(ws, items, oracle)
    vocabulary = catalogue_vocabulary(items.values()).tags or DEFAULT_VOCABULARY
    # 2. users who clicked something (an edit needs their history), seeded sample, their instructions
    clicked = set(ws.interactions.frame((Event.CLICK, Event.LIKE))["user_id"])
    pool = sorted(u for u in clicked if u in oracle.users and u in model.data_.user_index)
    if not pool:
        raise InputError(f"workspace {ws.root}: no user with clicks to study")
    rng = np.random.default_rng(cfg.seed)
    users = sorted(rng.choice(pool, size=min(cfg.n_users, len(pool)), replace=False).tolist())
    durations = np.array([i.media.duration for i in items.values() if i.media is not None and i.media.duration])
    requests = make_requests(oracle, users, durations, cfg.templates, cfg.seed)
    arm = None
    if cfg.create:  # the creation arm: what the catalogue lacks, asked for in so many words
        from generec.evaluation.activation_create import CreationArm, create_requests

        requests += create_requests(oracle, users, cfg.seed, cfg.create_per_user, Request)
        arm = CreationArm(ws, screen, items, Shown, cfg.k)
    # 3. parse every instruction (one encoder call)
    parser = get_parser()
    guidances = parser.parse_many([r.text for r in requests], ParseContext(vocabulary=vocabulary))
    editor = _Editor(ws, cfg)
    n_items = model.data_.n_items
    results: list[tuple[Request, str, dict[str, dict[str, np.ndarray]]]] = []
    rankings: dict[str, list] = {}
    parsed: list[bool] = []
    for n, (r, g) in enumerate(zip(requests, guidances)):
        # 4. one ranking per user; every item checked against the guidance
        if r.user_id not in rankings:
            rankings[r.user_id] = model.recommend(r.user_id, n_items, exclude_seen=True).items
        ranking = rankings[r.user_id]
        checks = [check_item(items[s.item_id], g, j, s.score, vocabulary, cfg.activation.min_clip_s) for j, s in enumerate(ranking)]
        # 5. retrieval only: the satisfying items first k, else the unfiltered top k
        ok = [c for c in checks if c.match >= cfg.activation.min_match][: cfg.k] or checks[: cfg.k]
        retrieval = [_original(items[c.item_id], oracle) for c in ok]
        # 6. the instructor: activation over the top-K candidates
        candidates = checks[: cfg.activation.k]
        act = decide(g, candidates, (), cfg.activation)
        instructor = retrieval
        if act.mode == "repurpose":
            fixable = editable_candidates(candidates, cfg.activation)[: cfg.k]
            instructor = [editor(r.user_id, items[c.item_id], g, c) for c in fixable] or retrieval
        elif act.mode == "create" and arm is not None:
            instructor = arm(r.user_id, g, retrieval)
        # 7. the oracle scores the pixels of both
        scores = {"retrieval": score_feed(oracle, screen, r, retrieval, cfg)}
        same = instructor is retrieval
        scores["instructor"] = scores["retrieval"] if same else score_feed(oracle, screen, r, instructor, cfg)
        results.append((r, act.mode, scores))
        parsed.append(_parsed_right(g, r, oracle.concepts))
        if progress:
            progress("activation study", n + 1, len(requests))
    # 8. aggregate: per instruction @1 and @k, then the mean over instructions
    def table(rows: list) -> dict[str, dict[str, float]]:
        out: dict[str, dict[str, float]] = {}
        for policy in POLICIES:
            out[policy] = {}
            for m in METRICS:
                first = [s[policy][m][0] for _, _, s in rows]
                feeds = [np.nanmean(s[policy][m]) if np.isfinite(s[policy][m]).any() else np.nan for _, _, s in rows]
                out[policy][f"{m}@1"] = float(np.nanmean(first)) if np.isfinite(first).any() else float("nan")
                out[policy][f"{m}@k"] = float(np.nanmean(feeds)) if np.isfinite(feeds).any() else float("nan")
        return out

    overall = table(results)
    templates = cfg.templates + (("create",) if cfg.create else ())
    per_template = {t: table([x for x in results if x[0].template == t]) for t in templates}
    gains = {m: _gain(overall["instructor"][m], overall["retrieval"][m]) for m in overall["retrieval"]}
    modes = {m: sum(1 for _, mode, _ in results if mode == m) for m in ("retrieve", "repurpose", "create")}
    by_template = {t: {m: sum(1 for r, mode, _ in results if r.template == t and mode == m) for m in modes} for t in templates}
    info = {
        "users": len(users), "instructions": len(requests), "k": cfg.k, "candidates": cfg.activation.k,
        "min_match": cfg.activation.min_match, "seed": cfg.seed, "retriever": model_source, "model": model.name,
        "min_share": cfg.min_share, "max_excluded_share": cfg.max_excluded_share, "scored_on": "pixels (oracle judge)",
        "items_edited": editor.edited, "frames_decoded": screen.frames_decoded, "items_created": arm.made if arm else 0,
        "create_failures": arm.failed[:3] if arm else [],
        "seconds": round(time.perf_counter() - started, 1),
    }  # fmt: skip
    return ActivationReport(overall, per_template, gains, modes, by_template, float(np.mean(parsed)), info, requests)


def _original(item, oracle: Oracle) -> Shown:
    return Shown(item.id, 0.0, oracle.videos[item.id].duration, None, 0.0, "retrieve")


def _gain(new: float, old: float) -> float:
    return float((new - old) / abs(old)) if abs(old) > 1e-12 else (0.0 if abs(new) < 1e-12 else float("inf"))
