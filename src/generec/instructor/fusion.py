"""Feedback fusion: the user's history and their instruction become one vector in text space.

Items and concepts meet in MiniLM's 384-d sentence space: an item is the embedding of what it
says about itself (`item_text`: "title. tag, tag"), a concept the embedding of its name.

1. `user_profile`: the user's feedback as a preference vector (Rocchio's relevance feedback,
   Rocchio 1971, with the history as the relevance judgements):

       v_u = normalize( Σ_i w_i e_i / Σ_i w_i  −  λ · Σ_j w_j e_j / Σ_j w_j )

   over the items i the user clicked (w = `click_weight`) or liked (w = `like_weight`) and the
   items j they disliked (w = `dislike_weight`) or skipped (w = `skip_weight`) and never clicked.
   With no positive feedback at all the profile has no vector (a cold user).
2. `fuse`: the instruction moves that vector, Rocchio's query update with the instruction's
   concepts as the relevant and non-relevant sets:

       v' = normalize( v_u + α · mean_{c ∈ include} e_c − β · mean_{c ∈ exclude} e_c )

3. `with_vector`: the guidance carrying v' (`vector`, `vector_space`) and `user_vector` saying
   what went into it: "history", "history+instruction", "instruction" or "none". A guidance that
   asks to leave the history out (`user_vector="instruction"`) gets v_u = 0; one that asks for
   no vector (`"none"`) gets none. With no instruction at all the guidance is the feedback alone:
   mode retrieve, `include` empty (the history is in the vector, not spelled out as concepts),
   `user_vector="history"`.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from generec.errors import InputError
from generec.instructor.guidance import Guidance
from generec.types import Event, Interaction, Item
from generec.workspace import Workspace

POSITIVE = (Event.CLICK, Event.LIKE)
NEGATIVE = (Event.DISLIKE, Event.SKIP)


@dataclass(frozen=True)
class FusionConfig:
    like_weight: float = 2.0
    click_weight: float = 1.0
    dislike_weight: float = 1.0
    skip_weight: float = 0.5
    negative_weight: float = 0.5  # λ
    alpha: float = 0.8  # α: pull toward included concepts
    beta: float = 0.4  # β: push away from excluded concepts

    def __post_init__(self) -> None:
        for name in ("like_weight", "click_weight", "dislike_weight", "skip_weight", "negative_weight", "alpha", "beta"):
            value = getattr(self, name)
            if not np.isfinite(value) or value < 0:
                raise InputError(f"FusionConfig.{name}: expected a finite value >= 0, found {value}")


@dataclass
class UserProfile:
    user_id: str
    liked: tuple[str, ...]  # items clicked or liked, oldest first
    disliked: tuple[str, ...]  # items disliked or skipped and never clicked or liked, oldest first
    vector: np.ndarray | None  # (384,) unit v_u; None with no positive feedback
    space: str  # the text encoder's version, e.g. "minilm-l6-v2"
    concepts: dict[str, float] = field(default_factory=dict)  # tag -> share of the liked items carrying it, largest first

    @property
    def top_concepts(self) -> tuple[str, ...]:
        return tuple(self.concepts)


def item_text(item: Item) -> str:
    """What an item says about itself: "title. tag, tag" (underscores read as spaces)."""
    tags = ", ".join(t.replace("_", " ") for t in item.tags)
    title = item.title or item.text or item.id
    return f"{title}. {tags}" if tags else title


class TextCache:
    """Embeddings of short texts, per encoder version, kept in memory (least recently used out)."""

    def __init__(self, size: int = 50_000) -> None:
        self.size = size
        self._cache: OrderedDict[tuple[str, str], np.ndarray] = OrderedDict()
        self._lock = threading.Lock()

    def encode(self, encoder, texts: Sequence[str]) -> np.ndarray:
        """(N,) texts -> (N, D) unit vectors, one encoder call for the texts not cached yet."""
        version = getattr(encoder, "version", type(encoder).__name__)
        with self._lock:
            missing = list(dict.fromkeys(t for t in texts if (version, t) not in self._cache))
        if missing:
            vectors = np.asarray(encoder.encode(missing), np.float32)
            with self._lock:
                for text, vector in zip(missing, vectors):
                    self._cache[(version, text)] = vector
                while len(self._cache) > self.size:
                    self._cache.popitem(last=False)
        with self._lock:
            out = [self._cache[(version, t)] for t in texts]
            for t in texts:
                self._cache.move_to_end((version, t))
        dim = out[0].shape[0] if out else getattr(encoder, "dim", 384)
        return np.stack(out) if out else np.zeros((0, dim), np.float32)


TEXT_CACHE = TextCache()


def item_embeddings(items: Sequence[Item], text_encoder) -> np.ndarray:
    """(N,) items -> (N, D) embeddings of `item_text`."""
    return TEXT_CACHE.encode(text_encoder, [item_text(i) for i in items])


def _unit(x: np.ndarray) -> np.ndarray | None:
    norm = float(np.linalg.norm(x))
    return (x / norm).astype(np.float32) if norm > 1e-8 else None


def user_profile(
    ws: Workspace,
    user_id: str,
    text_encoder,
    before: float | None = None,
    events: Sequence[Interaction] | None = None,
    config: FusionConfig | None = None,
) -> UserProfile:
    """The user's feedback (the log, or `events` when given; only before `before`) as a profile."""
    cfg = config or FusionConfig()
    # 1. check inputs
    if ws.users.get(user_id) is None:
        raise InputError(f"unknown user {user_id!r}: not in workspace {ws.root}")
    if events is None:
        events = ws.interactions.for_user(user_id)
    elif isinstance(events, (str, bytes)) or not all(isinstance(e, Interaction) for e in events):
        raise InputError("history: expected a list of Interaction records")
    # 2. per item, its strongest positive and negative signal
    pos_w = {Event.LIKE: cfg.like_weight, Event.CLICK: cfg.click_weight}
    neg_w = {Event.DISLIKE: cfg.dislike_weight, Event.SKIP: cfg.skip_weight}
    positive: dict[str, float] = {}
    negative: dict[str, float] = {}
    for e in sorted(events, key=lambda e: e.ts):
        if e.user_id != user_id or (before is not None and e.ts >= before):
            continue
        if e.event in pos_w:
            positive[e.item_id] = max(positive.get(e.item_id, 0.0), pos_w[e.event])
        elif e.event in neg_w:
            negative[e.item_id] = max(negative.get(e.item_id, 0.0), neg_w[e.event])
    negative = {i: w for i, w in negative.items() if i not in positive}
    from generec.instructor.catalogue import catalogue_items

    catalogue = catalogue_items(ws)
    items = {i: catalogue.get(i) or ws.items.get(i) for i in (*positive, *negative)}
    positive = {i: w for i, w in positive.items() if items[i] is not None}
    negative = {i: w for i, w in negative.items() if items[i] is not None}
    # 3. v_u = normalize(weighted mean of liked − λ · weighted mean of disliked)
    vector = None
    if positive:
        emb = item_embeddings([items[i] for i in (*positive, *negative)], text_encoder)  # (P + N, D)
        w = np.array([*positive.values(), *negative.values()], np.float32)
        p = len(positive)
        v = (w[:p, None] * emb[:p]).sum(0) / max(w[:p].sum(), 1e-8)
        if len(negative) and cfg.negative_weight > 0:
            v = v - cfg.negative_weight * (w[p:, None] * emb[p:]).sum(0) / max(w[p:].sum(), 1e-8)
        vector = _unit(v)
    # 4. the liked items' tags, as shares
    counts: dict[str, float] = {}
    for i in positive:
        for tag in items[i].tags:
            counts[tag] = counts.get(tag, 0.0) + 1.0
    concepts = {t: c / len(positive) for t, c in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))}
    space = getattr(text_encoder, "version", type(text_encoder).__name__)
    return UserProfile(user_id, tuple(positive), tuple(negative), vector, space, concepts)


def concept_embeddings(concepts: Sequence[str], text_encoder) -> np.ndarray:
    """(C,) concept names -> (C, D); underscores read as spaces."""
    return TEXT_CACHE.encode(text_encoder, [c.replace("_", " ") for c in concepts])


def fuse(
    profile_vector: np.ndarray | None,
    guidance: Guidance,
    text_encoder,
    alpha: float = FusionConfig.alpha,
    beta: float = FusionConfig.beta,
) -> np.ndarray | None:
    """v' = normalize(v_u + α · mean(e_include) − β · mean(e_exclude)); None when there is nothing
    to go on (no history vector and no concepts)."""
    if profile_vector is None and not guidance.include and not guidance.exclude:
        return None
    v = np.zeros(0, np.float32) if profile_vector is None else np.asarray(profile_vector, np.float32)
    if guidance.include:
        inc = concept_embeddings(guidance.include, text_encoder).mean(0)
        v = alpha * inc if v.size == 0 else v + alpha * inc
    if guidance.exclude:
        exc = concept_embeddings(guidance.exclude, text_encoder).mean(0)
        v = -beta * exc if v.size == 0 else v - beta * exc
    return _unit(v)


def with_vector(guidance: Guidance, profile: UserProfile | None, text_encoder, config: FusionConfig | None = None) -> Guidance:
    """The guidance carrying the fused vector, and `user_vector` saying what went into it."""
    cfg = config or FusionConfig()
    if guidance.user_vector == "none":
        return Guidance.model_validate({**guidance.model_dump(), "vector": None, "vector_space": None})
    history = profile.vector if profile is not None and guidance.user_vector != "instruction" else None
    vector = fuse(history, guidance, text_encoder, cfg.alpha, cfg.beta)
    has_concepts = bool(guidance.include or guidance.exclude)
    source = {(True, True): "history+instruction", (True, False): "history", (False, True): "instruction",
              (False, False): "none"}[(history is not None, has_concepts and vector is not None)]  # fmt: skip
    if vector is None:
        source = "none"
    space = getattr(text_encoder, "version", type(text_encoder).__name__)
    return Guidance.model_validate({
        **guidance.model_dump(), "user_vector": source,
        "vector": None if vector is None else tuple(float(x) for x in vector),
        "vector_space": None if vector is None else space,
    })  # fmt: skip
