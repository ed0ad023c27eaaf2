"""bias: a feed-level check. AI-made items must not crowd out people, one uploader, or variety.

It looks at one assembled feed (`FeedView`), not at one item:

1. AI share: AI-edited + AI-created entries / feed length <= `max_ai_share`; created items alone
   <= `max_created_share`; when the user asked the creator ("make me ..."), the created
   items are what they asked for and do not count.
2. Uploader exposure: an AI variant counts for its parent's uploader. Against the feed of human
   items the user would have had (`baseline`), no uploader may gain slots through AI variants,
   since each such slot is one another uploader lost: gain(u) = credited(u) - baseline(u) with
   credited(u) = #entries whose item (or parent) is u's, for u with AI variants in the feed.
   Items the user asked for by name (a repurpose of a named video) are exempt.
3. Diversity: the AI-made entries must not collapse into one look: the most common look's share
   <= `max_look_share` (when there are at least `min_ai_for_looks` of them), unless the user asked
   for that look; and the feed's concept entropy H(tags) >= `min_concept_ratio` · H(history's
   tags), unless the user asked for concepts (`H(p) = -Σ p log p` over tag shares).

Score: 1 minus the worst violation's size (1 = no violation). The fix (`rebalance`) drops the
offending AI entries, lowest-ranked first, and fills their places from the baseline; an offender
no baseline item can replace stays (with nothing human to show, no one is crowded out).
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass, field

from generec.errors import InputError
from generec.fidelity.types import FAIL, PASS, SKIP, CheckResult
from generec.types import Item, Origin


@dataclass(frozen=True)
class BiasConfig:
    action: str = "fix"  # on failure: pass | fix | flag | block (block: serve the baseline feed)
    max_ai_share: float = 0.5
    max_created_share: float = 0.3
    max_look_share: float = 0.6
    min_ai_for_looks: int = 3
    min_concept_ratio: float = 0.5
    min_history_tags: int = 5  # fewer tagged history items: the concept test is skipped

    def __post_init__(self) -> None:
        for name in ("max_ai_share", "max_created_share", "max_look_share", "min_concept_ratio"):
            v = getattr(self, name)
            if not 0.0 <= v <= 1.0:
                raise InputError(f"policy [feed]: {name} must be in [0, 1], found {v}")
        if self.action not in ("pass", "fix", "flag", "block"):
            raise InputError(f"policy [feed]: action must be one of pass, fix, flag, block, found {self.action!r}")


@dataclass
class FeedView:
    """One feed as the bias check sees it, in rank order."""

    items: list[Item]
    baseline: list[Item]  # the human feed the user would have had (retrieval only), in rank order
    history: list[Item] = field(default_factory=list)  # items the user engaged with
    parents: dict[str, Item] = field(default_factory=dict)  # parent id -> parent, for AI-edited entries
    requested: set[str] = field(default_factory=set)  # item ids the user asked for by name
    requested_look: str | None = None
    requested_concepts: bool = False
    requested_creations: bool = False  # the user asked the creator ("make me ..."): created items are what they asked for


def _look(item: Item) -> str:
    params = (item.provenance or {}).get("params") or {}
    return str(params.get("look") or params.get("style") or "natural")


def _is_ai(item: Item) -> bool:
    return item.origin != Origin.HUMAN


def _entropy(tag_lists: list[list[str]]) -> float:
    counts = Counter(t for tags in tag_lists for t in tags if t != "ai-created")
    n = sum(counts.values())
    return -sum(c / n * math.log(c / n) for c in counts.values()) if n else 0.0


class FeedBias:
    name = "bias"

    def __init__(self, config: BiasConfig | None = None) -> None:
        self.config = config or BiasConfig()

    def uploader(self, item: Item, view: FeedView) -> str | None:
        if item.origin == Origin.AI_EDITED and item.parent_id in view.parents:
            return view.parents[item.parent_id].uploader
        return None if item.origin == Origin.AI_CREATED else item.uploader

    def offenders(self, view: FeedView) -> tuple[dict, list[int]]:
        """(evidence, indices of the AI entries to drop, lowest-ranked first)."""
        cfg, n = self.config, len(view.items)
        ai = [i for i, it in enumerate(view.items) if _is_ai(it)]
        created = [i for i in ai if view.items[i].origin == Origin.AI_CREATED]
        drop: list[int] = []
        ev: dict = {"n": n, "ai": len(ai), "created": len(created)}
        # 1. AI share (what the user asked the creator for does not count against it)
        if view.requested_creations:
            ai = [i for i in ai if i not in created]
            created = []
        over_created = len(created) - math.floor(cfg.max_created_share * n + 1e-9)
        if over_created > 0:
            drop += created[::-1][:over_created]
        over_ai = len(ai) - math.floor(cfg.max_ai_share * n + 1e-9)
        extra = [i for i in ai[::-1] if i not in drop][: max(0, over_ai - len([d for d in drop if d in ai]))]
        drop += extra
        ev["ai_share"] = len(ai) / n if n else 0.0
        # 2. uploader exposure: slots gained through AI variants
        base = Counter(it.uploader for it in view.baseline[:n])
        credited = Counter(self.uploader(it, view) for it in view.items)
        gains = {}
        for i in ai:
            it = view.items[i]
            u = self.uploader(it, view)
            if u is None or it.parent_id in view.requested or it.id in view.requested:
                continue
            if credited[u] - base.get(u, 0) > 0:
                gains[u] = credited[u] - base.get(u, 0)
                if i not in drop:
                    drop.append(i)
        ev["uploader_gains"] = gains
        # 3. diversity: looks of the AI entries, concepts of the feed
        looks = Counter(_look(view.items[i]) for i in ai)
        if len(ai) >= cfg.min_ai_for_looks and looks:
            look, count = looks.most_common(1)[0]
            ev["top_look"], ev["top_look_share"] = look, count / len(ai)
            if count / len(ai) > cfg.max_look_share and look != view.requested_look:
                keep = math.floor(cfg.max_look_share * len(ai))
                same = [i for i in ai if _look(view.items[i]) == look]
                drop += [i for i in same[keep:][::-1] if i not in drop]
        tagged = [h.tags for h in view.history if h.tags]
        if len(tagged) >= cfg.min_history_tags and not view.requested_concepts:
            h_hist, h_feed = _entropy(tagged), _entropy([it.tags for it in view.items])
            ev["concept_entropy"], ev["history_entropy"] = h_feed, h_hist
            if h_hist > 0 and h_feed < cfg.min_concept_ratio * h_hist:
                ev["concept_collapse"] = True
                drop += [i for i in ai[::-1] if i not in drop]  # AI entries first: they are what narrowed it
        return ev, sorted(set(drop), reverse=True)

    def __call__(self, view: FeedView, context=None) -> CheckResult:
        if not view.items:
            return CheckResult(self.name, SKIP, 1.0, {"reason": "empty feed"})
        ev, drop = self.offenders(view)
        if not drop and not ev.get("concept_collapse"):
            return CheckResult(self.name, PASS, 1.0, ev)
        ev["drop"] = [view.items[i].id for i in drop]
        score = 1.0 - len(drop) / len(view.items)
        return CheckResult(self.name, FAIL, score, ev, fix=None)

    def rebalance(self, view: FeedView) -> list[Item]:
        """The feed with the offending AI entries replaced by the next baseline items, lowest-ranked
        first and only as many as the baseline can replace: an AI item nothing human can stand in
        for (the only thing that meets the guidance) crowds no one out, so it stays."""
        _, drop = self.offenders(view)
        shown = {it.id for it in view.items} | {it.parent_id for it in view.items if it.parent_id}
        fill = [b for b in view.baseline if b.id not in shown]
        drop = set(drop[: len(fill)])
        kept = [it for i, it in enumerate(view.items) if i not in drop]
        return kept + fill[: len(view.items) - len(kept)]
