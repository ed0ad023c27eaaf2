"""The look classifier's teaching set: the catalogue's covers rendered in every look."""

from __future__ import annotations

import numpy as np

from generec.editor.look_examples import look_examples, sample_covers, small_copy, vary
from generec.editor.looks import LOOKS
from helpers import photo, shot_frames


def covers(n: int) -> list[np.ndarray]:
    names = ("chelsea", "coffee", "astronaut", "rocket")
    return [shot_frames(photo(names[k % 4]), 1, 120, 90, seed=k)[0] for k in range(n)]


def embed(images):
    return np.stack([im.reshape(-1, 3).mean(0) for im in images]), np.zeros((len(images), 2), np.float32)


def test_every_sampled_cover_is_rendered_in_every_look_and_uploads_are_not_taught_as_natural():
    images = covers(6)
    ex = look_examples(lambda k: images[k], [None] * 6, embed, max_covers=4, seed=3, min_per_look=1)
    assert ex.rendered == 4 * len(LOOKS) and len(ex.looks) == ex.rendered and "natural" not in ex.looks
    assert all(ex.looks.count(s) == 4 for s in LOOKS)
    assert ex.stats.shape == (len(ex.looks), 3) and ex.features.shape == (len(ex.looks), 2)


def test_tagged_covers_join_with_their_tag_and_the_sample_is_seeded():
    images = covers(8)
    tagged = [None, "natural", None, "warm", None, None, None, None]
    ex = look_examples(lambda k: images[k], tagged, embed, max_covers=3, seed=0, min_per_look=1)
    assert ex.looks.count("natural") == 1 and ex.looks.count("warm") >= 1
    again = look_examples(lambda k: images[k], tagged, embed, max_covers=3, seed=0, min_per_look=1)
    assert again.looks == ex.looks and np.array_equal(again.stats, ex.stats)
    assert list(sample_covers(8, 3, 0)) == list(sample_covers(8, 3, 0)) and len(set(sample_covers(8, 3, 0))) == 3
    assert list(sample_covers(5, 10, 0)) == [0, 1, 2, 3, 4]


def test_a_small_catalogue_renders_each_cover_until_every_look_has_enough():
    images = covers(2)
    ex = look_examples(lambda k: images[k], [None, None], embed, min_per_look=5)
    assert all(ex.looks.count(s) == 6 for s in LOOKS)  # ceil(5 / 2) = 3 renders of each of 2 covers
    # the repeated renders differ: each has its own strength and colour change
    warm = ex.stats[[k for k, s in enumerate(ex.looks) if s == "warm"]]
    assert len(np.unique(warm.round(3), axis=0)) == 6


def test_vary_changes_colour_a_little_and_small_copy_keeps_small_pictures():
    image = covers(1)[0]
    out = vary(image, np.random.default_rng(0), 0.06)
    assert out.shape == image.shape and out.dtype == np.uint8
    diff = np.abs(out.astype(int) - image.astype(int)).mean()
    assert 0 < diff < 40
    assert vary(image, np.random.default_rng(0), 0.0) is image
    big = np.zeros((1080, 1920, 3), np.uint8)
    assert small_copy(big, 224).shape == (224, 398, 3) and small_copy(image, 224) is image
