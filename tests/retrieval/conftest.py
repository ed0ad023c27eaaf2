"""A tiny data set with planted structure: three groups of users, each liking a block of items."""

import numpy as np
import pytest
import scipy.sparse as sp

from generec.retrieval.data import InteractionData, Split


def planted_split(n_users: int = 60, n_items: int = 40, groups: int = 3, seed: int = 0) -> Split:
    rng = np.random.default_rng(seed)
    block = n_items // groups
    dense = np.zeros((n_users, n_items), np.float32)
    for u in range(n_users):
        g = u % groups
        liked = rng.choice(np.arange(g * block, (g + 1) * block), size=block - 3, replace=False)
        dense[u, liked] = 1
        dense[u, rng.choice(n_items, 2)] = 1  # a little noise
    held = (rng.random(dense.shape) < 0.2) & (dense > 0)
    train = sp.csr_matrix(dense * ~held)
    test = sp.csr_matrix(dense * held)
    valid_mask = (rng.random(dense.shape) < 0.2) & (train.toarray() > 0)
    inner = sp.csr_matrix(train.toarray() * ~valid_mask)
    users = np.array([f"u{u}" for u in range(n_users)])
    items = np.array([f"i{i}" for i in range(n_items)])
    data = InteractionData(users, items, train, name="planted")
    return Split("planted", data, test, sp.csr_matrix(train.toarray() * valid_mask), data.with_matrix(inner))


@pytest.fixture
def planted():
    return planted_split()
