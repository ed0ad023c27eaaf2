"""The activation study's creation arm: requests for what the catalogue lacks, served by the creator.

With `ActivationStudyConfig.create`, each user also asks `create_per_user` times for a new video
(`datasets/instructions.py`, kind "create", hand-written): their favourite concept in the looks,
among their three favourite, that the catalogue shows that concept in the least (seconds of
ground-truth segments) — the combinations a retriever is worst placed to serve. When activation
picks create, `CreationArm` makes one item with `pipeline.create` (stored in the workspace, origin
ai_created) and it leads the feed, the retrieved items filling the rest. The label columns have no
ground truth for a created item and are left out (NaN) for it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from generec.datasets.instructions import CREATE_KIND, user_rng, write_instruction


def catalogue_seconds(oracle) -> np.ndarray:
    """(C, S) seconds of catalogue video showing concept c in look s (ground truth)."""
    out = np.zeros((len(oracle.concepts), len(oracle.styles)))
    for video in oracle.videos.values():
        for seg in video.segments:
            out[seg.concept, seg.style] += seg.end - seg.start
    return out


def create_requests(oracle, users: list[str], seed: int, per_user: int, request_cls: Callable) -> list[Any]:
    seconds = catalogue_seconds(oracle)
    out = []
    for uid in users:
        taste, rng = oracle.users[uid], user_rng(seed + 7919, uid)
        c = int(np.argmax(taste.concept))
        looks = [int(s) for s in np.argsort(-taste.style)[:3]]
        rare = sorted(looks, key=lambda s: (seconds[c, s], looks.index(s)))[:per_user]
        for s in rare:
            w = write_instruction(CREATE_KIND, oracle.concepts[c], rng, look=oracle.styles[s])
            out.append(request_cls(uid, CREATE_KIND, w.text, c, oracle.styles[s], None, None, w.template))
    return out


class CreationArm:
    """Serves activation's create decisions with the creator; `made` counts the items created."""

    def __init__(self, ws, screen, items: dict, shown_cls: Callable, k: int) -> None:
        self.ws, self.screen, self.items, self.shown_cls, self.k = ws, screen, items, shown_cls, k
        self.made = 0
        self.failed: list[str] = []

    def __call__(self, user_id: str, guidance, retrieval: list) -> list:
        from generec.errors import InputError
        from generec.pipeline import create

        try:
            [made] = create(self.ws, user_id, guidance=guidance, n=1)
        except InputError as exc:  # no trained creator, a request it cannot make: retrieval stands
            self.failed.append(str(exc))
            return retrieval
        item = made.item
        self.items[item.id] = item
        self.screen.items[item.id] = item
        self.made += 1
        return [self.shown_cls(item.id, 0.0, float(item.media.duration), None, 0.0, "retrieve")] + retrieval[: self.k - 1]
