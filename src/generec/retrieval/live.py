"""The serving retriever: the current checkpoint plus the feedback logged since it was trained.

A trained retriever knows each user's positives up to its training snapshot. Feedback that
arrives later must change the user's next feed without a retrain, so `LiveRetriever.recommend`
folds it in (the model's own `fold_in_vector`, e.g. the ALS user step or EASE's row x·B):

    liked = trained positives ∪ new positives − items disliked or skipped since
    u' = fold_in(liked);  rank by score(u'), excluding everything the user has seen or rejected

Feedback on an AI variant counts for its catalogue parent, as in training (`data.positives`).
A user with nothing new gets the model's own `recommend`, so serving and offline evaluation
rank alike. Everything else is the wrapped model's (`data_`, `name`, `score`, ...).
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass

import numpy as np

from generec.retrieval.base import Constraints, Recommendation, Retriever
from generec.types import POSITIVE_EVENTS, Event
from generec.workspace import Workspace

NEGATIVE_EVENTS = (Event.DISLIKE, Event.SKIP)
WATCHED_RATIO = 0.5  # a watch of at least half the video counts as a positive


@dataclass(frozen=True)
class Fresh:
    """A user's feedback since the snapshot, as catalogue item indices of the model."""

    positives: frozenset[int]
    negatives: frozenset[int]
    events: int


class LiveRetriever:
    def __init__(self, model: Retriever, ws: Workspace, after_event_id: int = 0) -> None:
        self.model = model
        self.ws = ws
        self.after_event_id = after_event_id  # the log's last row id when the model was trained
        self._parents: dict[str, str | None] = {}
        self._fresh: dict[str, tuple[int, frozenset[int], frozenset[int], int]] = {}  # per user: (last row read, +, −, events)
        self._lock = threading.Lock()
        self._memo: OrderedDict[tuple, tuple] = OrderedDict()  # (user, events, exclude_seen) -> _scores
        self._memo_size = max(4, min(1024, (64 << 20) // (4 * max(1, model.data_.n_items))))  # at most ~64 MB of scores

    def __getattr__(self, name: str):
        return getattr(self.model, name)

    def _catalogue_index(self, item_id: str) -> int | None:
        """The model's index of the item, or of its catalogue parent for an AI variant."""
        index = self.model.data_.item_index
        if item_id in index:
            return index[item_id]
        if item_id not in self._parents:
            item = self.ws.items.get(item_id)
            self._parents[item_id] = item.parent_id if item is not None else None
        parent = self._parents[item_id]
        return index.get(parent) if parent else None

    def fresh(self, user_id: str) -> Fresh:
        """The user's feedback since the snapshot. Kept per user and brought up to date with the
        events logged since the last call only (impressions are not feedback and are not read)."""
        with self._lock:
            seen, pos, neg, n = self._fresh.get(user_id, (self.after_event_id, frozenset(), frozenset(), 0))
        new = self.ws.interactions.since(user_id, seen)
        if not new:
            return Fresh(pos, neg, n)
        p, q = set(pos), set(neg)
        for _, e in new:  # oldest first: a later like undoes an earlier skip, and back
            j = self._catalogue_index(e.item_id)
            if j is None:
                continue
            if e.event in POSITIVE_EVENTS or (e.event == Event.WATCH and (e.value or 0.0) >= WATCHED_RATIO):
                p.add(j)
                q.discard(j)
            elif e.event in NEGATIVE_EVENTS:
                q.add(j)
                p.discard(j)
        state = (new[-1][0], frozenset(p), frozenset(q), n + len(new))
        with self._lock:
            if len(self._fresh) > 100_000:
                self._fresh.clear()
            if self._fresh.get(user_id, (0,))[0] < state[0]:
                self._fresh[user_id] = state
        return Fresh(state[1], state[2], state[3])

    def recommend(self, user_id: str, k: int = 10, exclude_seen: bool = True, constraints: Constraints | None = None) -> Recommendation:
        self.model._check_k(k)
        scores, seen, note = self._scores(user_id, self.fresh(user_id), exclude_seen)
        if scores is None:  # a user the model cannot score: its own popularity fallback
            return self.model.recommend(user_id, k, exclude_seen, constraints)
        return Recommendation(user_id, self.model._rank(scores, k, seen, constraints), self.model.name, fallback=note)

    def _scores(self, user_id: str, fresh: Fresh, exclude_seen: bool) -> tuple[np.ndarray | None, np.ndarray | None, str | None]:
        """The user's scores over the catalogue, what to leave out, and a fallback note; memoised
        per (user, feedback state), since one feed ranks the same user several times."""
        key = (user_id, fresh.events, exclude_seen)
        with self._lock:
            if key in self._memo:
                self._memo.move_to_end(key)
                return self._memo[key]
        data = self.model.data_
        row = data.user_index.get(user_id)
        trained = data.matrix.indices[data.matrix.indptr[row] : data.matrix.indptr[row + 1]] if row is not None else np.zeros(0, np.int64)
        if not fresh.positives and not fresh.negatives:
            # 1. nothing new for the user: the model's own ranking
            if len(trained) == 0:
                out = (None, None, None)
            else:
                out = (self.model.score_users(np.array([row]))[0], trained if exclude_seen else None, None)
        else:
            # 2. fold in: trained positives ∪ new positives − rejected
            liked = (set(trained.tolist()) | fresh.positives) - fresh.negatives
            if not liked:  # only rejections: the popularity ranking without them
                scores, note = self.model.popularity_.copy(), f"popularity, less {len(fresh.negatives)} rejected item(s)"
            else:
                scores, note = self.model.scores_from_vectors(self.model.fold_in_vector(np.array(sorted(liked), np.int64))[None, :])[0], None
            # 3. rank without what the user saw, liked or rejected
            seen = np.array(sorted((set(trained.tolist()) | fresh.positives if exclude_seen else set()) | fresh.negatives), np.int64)
            out = (scores, seen, note)
        with self._lock:
            self._memo[key] = out
            while len(self._memo) > self._memo_size:
                self._memo.popitem(last=False)
        return out
