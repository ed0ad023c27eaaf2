import numpy as np
import pytest

from generec.editor.concept_head import ConceptHead, ConceptHeadConfig, TooFewTags
from generec.errors import InputError


def features(n: int, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).random((n, 16)).astype(np.float32)


def test_too_few_tags_is_its_own_error_with_a_short_reason():
    with pytest.raises(TooFewTags, match="no tag is on at least 5") as info:
        ConceptHead().fit(features(5), [[] for _ in range(5)])
    assert info.value.reason == "the catalogue has no tag on >= 5 covers" and isinstance(info.value, InputError)
    with pytest.raises(TooFewTags):  # a tag on every cover separates nothing
        ConceptHead().fit(features(6), [["cat"]] * 6)
    with pytest.raises(TooFewTags, match="at least 2 covers"):
        ConceptHead().fit(features(1), [["cat"]])
    with pytest.raises(InputError, match="N tag lists") as bad:
        ConceptHead().fit(features(4), [["cat"]])
    assert not isinstance(bad.value, TooFewTags)  # a caller's mistake is not a small catalogue


def test_a_tag_on_enough_covers_gets_an_axis():
    f = features(12)
    f[:6, 0] += 3.0  # the "cat" covers differ along feature 0
    head = ConceptHead(ConceptHeadConfig(min_items=5)).fit(f, [["cat"]] * 6 + [["dog"]] * 6)
    assert head.tags_ == ("cat", "dog")
    p = head.predict(f)
    assert p[:6, 0].mean() > p[6:, 0].mean()
