"""The retrieval-augmented condition (RDM's idea): what to create from, chosen among real frames.

Every training frame is scored by the editor's steered preference (the user's taste, plus the
guidance's included concepts through the text→image bridge, minus its excluded ones); the top
`pool` frames are what the user asked for and likes. Each shot draws an anchor from the pool
(rank-weighted, seeded; a video already drawn for this creation is drawn less) and is
conditioned on the mean features of the anchor and its nearest pool-mates: shots of one creation
come from different frames, and another seed draws other anchors.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from generec.creator.frames import TrainingFrames
from generec.editor.preference import Preference, steered_scores


@dataclass
class ShotCondition:
    features: np.ndarray  # (1280,) mean features of the retrieved frames
    anchor: int  # the training frame the shot is anchored on (its SDEdit source, when varied)
    frames: list[int]  # every retrieved frame averaged into the condition
    anchor_item: str  # the catalogue video the anchor frame came from


def frame_scores(frames: TrainingFrames, preference: Preference | None, guidance, bridge, include_weight: float = 2.0) -> np.ndarray:
    """(N,) how much the user wants each training frame now (higher: more)."""
    return steered_scores(frames.features, preference, guidance, bridge, include_weight=include_weight)


def shot_conditions(frames: TrainingFrames, scores: np.ndarray, n_shots: int, k: int, rng: np.random.Generator,
                    pool: int = 48) -> list[ShotCondition]:  # fmt: skip
    """`n_shots` conditions from the `pool` best-scored frames (module doc)."""
    candidates = np.argsort(-scores, kind="stable")[: max(pool, k)]
    weights = 1.0 / (1.0 + np.arange(len(candidates))) ** 0.5  # rank-weighted: better frames more often
    f = frames.features[candidates]
    f = f / np.maximum(np.linalg.norm(f, axis=1, keepdims=True), 1e-8)
    out: list[ShotCondition] = []
    used_videos: set[int] = set()
    for _ in range(n_shots):
        w = weights * np.array([0.2 if frames.video[c] in used_videos else 1.0 for c in candidates])  # vary the source videos
        a = int(rng.choice(len(candidates), p=w / w.sum()))
        near = np.argsort(-(f @ f[a]), kind="stable")[:k]  # the anchor first (cosine 1)
        members = [int(candidates[j]) for j in near]
        used_videos.add(int(frames.video[candidates[a]]))
        anchor = int(candidates[a])
        out.append(ShotCondition(frames.features[members].mean(0), anchor, members, frames.item_ids[int(frames.video[anchor])]))
    return out
