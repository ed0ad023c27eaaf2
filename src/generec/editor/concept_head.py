"""Concept head: image features -> the catalogue's own tags, learned from its (cover, tags) pairs.

One logistic regression per tag that at least `min_items` items carry (one-vs-rest, L2, C):

    q_t(f) = σ(w_t · f + b_t)

A user's taste in this space is t_u = mean_{i ∈ clicks(u)} q(f_i) − q̄ (what their clicked covers
show more of than the catalogue's average cover), and a frame scores cos(q(f) − q̄, t_u). The
space has one axis per tag (tens, not 1280), so a taste learned from a few dozen clicks is
far less noisy than User_Hist in raw feature space; and the axes are words a user can read
("animal", "warm"). Fitted heads are saved under `models/concept_head/` with a hash of the
catalogue they were fitted on.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from generec.errors import InputError

HEAD_VERSION = 1


class TooFewTags(InputError):
    """The catalogue's tags are too few to give the concept head an axis (callers may fall back to
    User_Hist); `reason` says so in a few words."""

    def __init__(self, message: str, reason: str):
        super().__init__(message)
        self.reason = reason


@dataclass(frozen=True)
class ConceptHeadConfig:
    min_items: int = 5  # a tag on fewer covers gets no axis
    c: float = 0.05  # inverse L2 strength of each logistic regression
    max_iter: int = 300


class ConceptHead:
    def __init__(self, config: ConceptHeadConfig | None = None):
        self.config = config or ConceptHeadConfig()

    def fit(self, features: np.ndarray, tags: list[list[str]]) -> ConceptHead:
        """`features` (N, F) covers, `tags[k]` the tags of cover k."""
        from sklearn.linear_model import LogisticRegression

        # 1. check inputs; the tags with enough covers
        f = np.asarray(features, np.float32)
        if f.ndim != 2 or len(f) != len(tags):
            raise InputError(f"concept head: expected (N, F) features and N tag lists, found {f.shape} and {len(tags)}")
        if len(f) < 2:
            raise TooFewTags(f"concept head: expected at least 2 covers, found {len(f)}", f"the catalogue has {len(f)} cover(s)")
        counts: dict[str, int] = {}
        for row in tags:
            for t in set(row):
                counts[t] = counts.get(t, 0) + 1
        vocab = sorted(t for t, n in counts.items() if self.config.min_items <= n < len(tags))
        if not vocab:
            n = self.config.min_items
            raise TooFewTags(f"concept head: no tag is on at least {n} (and not all) covers; the catalogue needs tags",
                             f"the catalogue has no tag on >= {n} covers")  # fmt: skip
        # 2. one logistic regression per tag on the raw (non-negative, pooled) features
        self.mean_, self.std_ = np.zeros(f.shape[1], np.float32), np.ones(f.shape[1], np.float32)
        z = f
        w = np.zeros((len(vocab), f.shape[1]), np.float32)
        b = np.zeros(len(vocab), np.float32)
        for k, tag in enumerate(vocab):
            y = np.array([tag in row for row in tags])
            lr = LogisticRegression(C=self.config.c, max_iter=self.config.max_iter).fit(z, y)
            w[k], b[k] = lr.coef_[0], lr.intercept_[0]
        self.tags_, self.coef_, self.intercept_ = tuple(vocab), w, b
        self.center_ = self.predict(f).mean(0)  # q̄ (T,)
        return self

    def predict(self, features: np.ndarray) -> np.ndarray:
        """(N, F) -> (N, T) tag probabilities."""
        z = (np.asarray(features, np.float32) - self.mean_) / self.std_
        return 1.0 / (1.0 + np.exp(-(z @ self.coef_.T + self.intercept_)))

    def taste(self, clicked: np.ndarray) -> np.ndarray:
        """t_u (T,) from the features (n, F) of a user's clicked covers."""
        if len(clicked) == 0:
            raise InputError("concept head: a taste needs at least one clicked cover")
        return self.predict(clicked).mean(0) - self.center_

    def score(self, features: np.ndarray, taste: np.ndarray) -> np.ndarray:
        """(N, F) -> (N,): cos(q(f) − q̄, t_u)."""
        q = self.predict(features) - self.center_
        return (q / (np.linalg.norm(q, axis=1, keepdims=True) + 1e-8)) @ (taste / (np.linalg.norm(taste) + 1e-8))

    # persistence ---------------------------------------------------------------------------

    def save(self, path: str | Path, data_hash: str) -> Path:
        arrays = {"mean": self.mean_, "std": self.std_, "coef": self.coef_, "intercept": self.intercept_, "center": self.center_}
        meta = {"version": HEAD_VERSION, "config": asdict(self.config), "tags": list(self.tags_), "data_hash": data_hash}
        return save_fitted(path, "head", arrays, meta)

    @classmethod
    def load(cls, path: str | Path, data_hash: str | None = None) -> ConceptHead | None:
        """The saved head, or None when there is none or it was fitted on another catalogue."""
        found = load_fitted(path, "head", HEAD_VERSION, data_hash)
        if found is None:
            return None
        meta, arrays = found
        head = cls(ConceptHeadConfig(**meta["config"]))
        head.tags_ = tuple(meta["tags"])
        head.mean_, head.std_, head.coef_ = arrays["mean"], arrays["std"], arrays["coef"]
        head.intercept_, head.center_ = arrays["intercept"], arrays["center"]
        return head


def save_fitted(path: str | Path, stem: str, arrays: dict[str, np.ndarray], meta: dict) -> Path:
    """A fitted head as `STEM.npz` (its arrays) and `STEM.json` (version, config, data hash),
    each file written to a temporary name of its own and renamed into place (`write_atomic`), the JSON last: a
    head is complete once its JSON is there, and processes that fit the same head at once (the
    shards of an evaluation, batch workers) each leave a whole one."""
    import io

    from generec.fidelity.catalogue import write_atomic

    path = Path(path)
    buf = io.BytesIO()
    np.savez(buf, **arrays)
    write_atomic(path / f"{stem}.npz", buf.getvalue())
    write_atomic(path / f"{stem}.json", json.dumps(meta, indent=2).encode())
    return path


def load_fitted(path: str | Path, stem: str, version: int, data_hash: str | None = None) -> tuple[dict, dict[str, np.ndarray]] | None:
    """(meta, arrays) of a head saved by `save_fitted`, or None when there is none, it is
    unreadable, of another version, or fitted on other data (`data_hash`)."""
    path = Path(path)
    try:
        meta = json.loads((path / f"{stem}.json").read_text())
        with np.load(path / f"{stem}.npz") as npz:
            arrays = {k: npz[k] for k in npz.files}
    except (OSError, ValueError):
        return None
    if not isinstance(meta, dict) or meta.get("version") != version or (data_hash is not None and meta.get("data_hash") != data_hash):
        return None
    return meta, arrays


def catalogue_hash(item_ids: list[str], tags: list[list[str]], cover_hashes: list[str | None], encoder_version: str) -> str:
    digest = hashlib.sha256(encoder_version.encode())
    for i, t, c in zip(item_ids, tags, cover_hashes):
        digest.update(f"{i}\x1f{','.join(sorted(t))}\x1f{c}\x1e".encode())
    return digest.hexdigest()[:16]
