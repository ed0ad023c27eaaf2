"""The text encoder: the packaged all-MiniLM-L6-v2, real weights on the CPU."""

from __future__ import annotations

import numpy as np
import pytest

from generec.encoders.text import TEXT_DIM, get_text_encoder
from generec.errors import InputError


@pytest.fixture(scope="module")
def encoder():
    return get_text_encoder()


def test_minilm_gives_unit_vectors_that_put_cat_near_kitten(encoder):
    v = encoder.encode(["a cat", "a kitten", "a truck"])
    assert v.shape == (3, TEXT_DIM) and v.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(v, axis=1), 1.0, atol=1e-5)
    cos = v @ v.T
    assert cos[0, 1] > cos[0, 2] + 0.2  # measured: 0.77 against 0.32


def test_same_text_gives_the_same_vector(encoder):
    a = encoder.encode(["a cup of coffee", "a cat"])
    b = encoder.encode(["a cat"])
    np.testing.assert_allclose(a[1], b[0], atol=1e-5)  # alone or in a batch
    np.testing.assert_array_equal(encoder.encode(["a cat"]), b)
    assert encoder.version == "minilm-l6-v2"


def test_empty_list_gives_no_rows(encoder):
    out = encoder.encode([])
    assert out.shape == (0, TEXT_DIM) and out.dtype == np.float32


def test_non_strings_are_refused(encoder):
    with pytest.raises(InputError, match=r"texts\[1\]: expected a string, found int"):
        encoder.encode(["a cat", 3])
    with pytest.raises(InputError, match="a single string"):
        encoder.encode("a cat")
