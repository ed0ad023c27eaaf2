"""Simulated users for the micro-video benchmark, in the spirit of RecSim (Ie et al., 2019).

Each user u has latent tastes over concepts, a_u ∈ R^C, and over styles, b_u ∈ R^S. Each video i
has a latent quality q_i. What a user sees decides what they do:

    P(click | u, cover)  = σ(β0 + β_c · a_u[c] + β_s · b_u[s] + q_i)          (c, s: the cover frame's)
    P(keep watching one more second of segment j) = σ(γ0 + γ_c · a_u[c_j] + γ_s · b_u[s_j])

so covers drive clicks and segments drive watch time. The same model, evaluated in expectation,
is the oracle that later scores an edited cover or clip (`Oracle` in `oracle.py`).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np


@dataclass(frozen=True)
class SimulatorConfig:
    beta0: float = -2.2  # click bias: most impressions are not clicked
    beta_concept: float = 1.4
    beta_style: float = 0.9
    transition_penalty: float = 1.0  # a cover caught mid-crossfade is less appealing
    gamma0: float = 2.6  # per-second continuation bias
    gamma_concept: float = 1.2
    gamma_style: float = 0.6
    like_bias: float = -3.0
    like_watch: float = 3.0
    like_concept: float = 1.0
    skip_logged: float = 0.7  # share of unclicked impressions logged as an explicit skip
    dislike_threshold: float = -0.6
    dislike_prob: float = 0.15


@dataclass
class UserTaste:
    concept: np.ndarray  # (C,) a_u
    style: np.ndarray  # (S,) b_u
    activity: float = 1.0


def sample_tastes(n_users: int, n_concepts: int, n_styles: int, rng: np.random.Generator) -> list[UserTaste]:
    """Each user loves one or two concepts and one style, dislikes one concept, and is mildly
    indifferent to the rest."""
    users = []
    for _ in range(n_users):
        concept = rng.normal(0.0, 0.4, n_concepts)
        liked = rng.choice(n_concepts, size=rng.integers(1, 3), replace=False)
        concept[liked] += rng.uniform(1.2, 2.0, len(liked))
        disliked = rng.choice(np.setdiff1d(np.arange(n_concepts), liked))
        concept[disliked] -= rng.uniform(0.8, 1.5)
        style = rng.normal(0.0, 0.5, n_styles)
        style[rng.integers(n_styles)] += rng.uniform(0.8, 1.5)
        users.append(UserTaste(concept, style, float(rng.lognormal(0.0, 0.4))))
    return users


def sigmoid(x: np.ndarray | float) -> np.ndarray | float:
    return 1.0 / (1.0 + np.exp(-x))


@dataclass
class Segment:
    """Ground truth of one segment: what it shows, how, and when."""

    start: float
    end: float
    concept: int
    style: int
    photo: str = ""


@dataclass
class VideoTruth:
    duration: float
    fps: float
    quality: float
    segments: list[Segment]
    transitions: list[tuple[float, float]] = field(default_factory=list)

    def segment_at(self, t: float) -> Segment:
        for seg in self.segments:
            if t < seg.end:
                return seg
        return self.segments[-1]

    def in_transition(self, t: float) -> bool:
        return any(a <= t < b for a, b in self.transitions)


def click_logit(cfg: SimulatorConfig, user: UserTaste, concept: int, style: int, quality: float) -> float:
    return cfg.beta0 + cfg.beta_concept * user.concept[concept] + cfg.beta_style * user.style[style] + quality


def cover_click_prob(cfg: SimulatorConfig, user: UserTaste, video: VideoTruth, t: float = 0.0, style: int | None = None) -> float:
    seg = video.segment_at(t)
    logit = click_logit(cfg, user, seg.concept, seg.style if style is None else style, video.quality)
    if video.in_transition(t):
        logit -= cfg.transition_penalty
    return float(sigmoid(logit))


def continue_probs(cfg: SimulatorConfig, user: UserTaste, concepts: np.ndarray, styles: np.ndarray) -> np.ndarray:
    """Per-second probabilities of watching on, for seconds showing (concept, style)."""
    return sigmoid(cfg.gamma0 + cfg.gamma_concept * user.concept[concepts] + cfg.gamma_style * user.style[styles])


def seconds_grid(video: VideoTruth, start: float, end: float, style: int | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The clip [start, end) cut into one-second steps (the last may be shorter):
    (concept, style, length) per step."""
    edges = np.append(np.arange(start, end, 1.0), end)
    mids = (edges[:-1] + edges[1:]) / 2
    segs = [video.segment_at(t) for t in mids]
    concepts = np.array([s.concept for s in segs])
    styles = np.array([s.style if style is None else style for s in segs])
    return concepts, styles, np.diff(edges)


def expected_watch(cfg: SimulatorConfig, user: UserTaste, concepts: np.ndarray, styles: np.ndarray, lengths: np.ndarray) -> float:
    """E[watched seconds] / total seconds, where the viewer enters step k only after continuing
    through every earlier step: E = Σ_k len_k · Π_{j<k} p_j (the first step is always seen)."""
    return watch_share(continue_probs(cfg, user, concepts, styles), lengths)


def watch_share(p: np.ndarray, lengths: np.ndarray) -> float:
    """Σ_k len_k · Π_{j<k} p_j / Σ_k len_k for per-step continuation probabilities p."""
    reach = np.concatenate([[1.0], np.cumprod(p[:-1])])
    return float((reach * lengths).sum() / lengths.sum())


def expected_continue_probs(cfg: SimulatorConfig, user: UserTaste, concept_probs: np.ndarray, style_probs: np.ndarray) -> np.ndarray:
    """(T,) E[p_continue] per step when a step's (concept, style) is only known in distribution:
    p_k = Σ_c Σ_s P_k(c) P_k(s) σ(γ0 + γ_c a_u[c] + γ_s b_u[s]); inputs (T, C) and (T, S)."""
    grid = sigmoid(cfg.gamma0 + cfg.gamma_concept * user.concept[:, None] + cfg.gamma_style * user.style[None, :])  # (C, S)
    return np.einsum("tc,cs,ts->t", concept_probs, grid, style_probs)


def expected_click_probs(cfg: SimulatorConfig, user: UserTaste, concept_probs: np.ndarray, style_probs: np.ndarray, quality: np.ndarray | float = 0.0) -> np.ndarray:
    """(N,) E[P(click)] per cover: Σ_c Σ_s P(c) P(s) σ(β0 + β_c a_u[c] + β_s b_u[s] + q); inputs (N, C), (N, S)."""
    logits = cfg.beta0 + cfg.beta_concept * user.concept[None, :, None] + cfg.beta_style * user.style[None, None, :]  # (1, C, S)
    q = np.broadcast_to(np.asarray(quality, np.float64), (len(concept_probs),))
    return np.einsum("nc,ncs,ns->n", concept_probs, sigmoid(logits + q[:, None, None]), style_probs)


def sample_watch(cfg: SimulatorConfig, user: UserTaste, video: VideoTruth, rng: np.random.Generator) -> float:
    """One viewing: the watch ratio in [0, 1]."""
    concepts, styles, lengths = seconds_grid(video, 0.0, video.duration)
    p = continue_probs(cfg, user, concepts, styles)
    watched = lengths[0]
    for k in range(1, len(lengths)):
        if rng.random() >= p[k - 1]:
            break
        watched += lengths[k]
    return float(min(1.0, watched / video.duration))


@dataclass(frozen=True)
class LogEvent:
    user: int  # index into the users list
    item: int  # index into the videos list
    ts: float
    event: str
    value: float | None = None


def simulate_log(
    cfg: SimulatorConfig,
    users: list[UserTaste],
    videos: list[VideoTruth],
    main_concepts: np.ndarray,
    upload_ts: np.ndarray,
    sessions_per_user: float,
    impressions_per_session: int,
    start: float,
    end: float,
    rng: np.random.Generator,
) -> list[LogEvent]:
    """A time-ordered interaction log under a logging policy that mixes uniform exploration
    (40 %), popularity by quality (30 %) and a noisy personalised recommender (30 %).

    Only videos uploaded before a session can be shown in it. The uploader's cover (frame 0)
    drives the click; a click is followed by a watch (its ratio) and maybe a like.
    """
    order = np.argsort(upload_ts, kind="stable")  # items by upload time
    uploaded = upload_ts[order]
    quality = np.array([v.quality for v in videos])
    popular_cum = np.cumsum(np.exp(2.0 * quality[order]))
    events: list[LogEvent] = []
    for u, user in enumerate(users):
        personal_cum = np.cumsum(np.exp(1.5 * user.concept[main_concepts[order]] + rng.normal(0, 0.5, len(order))))
        n_sessions = max(1, rng.poisson(sessions_per_user * user.activity))
        session_ts = np.sort(rng.uniform(start, end, n_sessions))
        seen: set[int] = set()
        for ts in session_ts:
            n_avail = int(np.searchsorted(uploaded, ts, side="right"))
            if n_avail == 0:
                continue
            for k in range(impressions_per_session):
                for _ in range(8):  # redraw an item this user has already been shown
                    policy = rng.random()
                    if policy < 0.4:
                        pos = int(rng.integers(n_avail))
                    else:
                        cum = popular_cum if policy < 0.7 else personal_cum
                        pos = int(np.searchsorted(cum[:n_avail], rng.random() * cum[n_avail - 1], side="right"))
                        pos = min(pos, n_avail - 1)
                    item = int(order[pos])
                    if item not in seen:
                        break
                else:
                    continue
                seen.add(item)
                video = videos[item]
                t = float(ts + 20.0 * k)
                events.append(LogEvent(u, item, t, "impression"))
                if rng.random() < cover_click_prob(cfg, user, video, 0.0):
                    ratio = sample_watch(cfg, user, video, rng)
                    events.append(LogEvent(u, item, t + 1.0, "click"))
                    events.append(LogEvent(u, item, t + 1.0 + ratio * video.duration, "watch", round(ratio, 4)))
                    like = cfg.like_bias + cfg.like_watch * ratio + cfg.like_concept * user.concept[main_concepts[item]]
                    if rng.random() < sigmoid(like):
                        events.append(LogEvent(u, item, t + 2.0 + ratio * video.duration, "like"))
                else:
                    if rng.random() < cfg.skip_logged:
                        events.append(LogEvent(u, item, t + 0.5, "skip"))
                    cover = video.segment_at(0.0)
                    if user.concept[cover.concept] < cfg.dislike_threshold and rng.random() < cfg.dislike_prob:
                        events.append(LogEvent(u, item, t + 0.6, "dislike"))
    events.sort(key=lambda e: (e.ts, e.user))
    return events
