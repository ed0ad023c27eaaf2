"""Feedback fusion with the real MiniLM: a profile from the log, Rocchio's update by the instruction."""

from __future__ import annotations

import numpy as np
import pytest

from generec.encoders.text import get_text_encoder
from generec.errors import InputError
from generec.instructor.fusion import FusionConfig, concept_embeddings, fuse, item_text, user_profile, with_vector
from generec.instructor.guidance import Guidance
from generec.types import Event, Interaction, Item, Kind, User

ITEMS = {
    "pets1": ("Cute kittens playing", ["animal"]),
    "pets2": ("Puppies at the park", ["animal"]),
    "food1": ("Pizza recipe", ["food"]),
    "food2": ("Baking bread at home", ["food"]),
    "space1": ("Nebula timelapse", ["space"]),
}


@pytest.fixture(scope="module")
def encoder():
    return get_text_encoder()


@pytest.fixture
def ws(workspace):
    workspace.users.add_many([User("fan"), User("cold")])
    workspace.items.add_many(Item(i, Kind.VIDEO, title=t, tags=tags) for i, (t, tags) in ITEMS.items())
    log = [
        ("pets1", Event.IMPRESSION, 1.0), ("pets1", Event.CLICK, 2.0), ("pets2", Event.LIKE, 3.0),
        ("food1", Event.SKIP, 4.0), ("food2", Event.DISLIKE, 5.0),
        ("space1", Event.SKIP, 6.0), ("space1", Event.CLICK, 7.0),  # skipped once, clicked later: liked
    ]  # fmt: skip
    workspace.interactions.add_many(Interaction("fan", i, ts, e) for i, e, ts in log)
    workspace.interactions.add(Interaction("cold", "food1", 1.0, Event.SKIP))
    return workspace


def cos(a: np.ndarray, b: np.ndarray) -> float:
    return float(a @ b / (np.linalg.norm(a) * np.linalg.norm(b)))


def test_profile_from_the_log(ws, encoder):
    p = user_profile(ws, "fan", encoder)
    assert p.liked == ("pets1", "pets2", "space1") and p.disliked == ("food1", "food2")
    assert p.space == encoder.version and p.vector.shape == (384,)
    assert np.linalg.norm(p.vector) == pytest.approx(1.0, abs=1e-5)
    animal, food = concept_embeddings(["animal", "food"], encoder)
    assert cos(p.vector, animal) > cos(p.vector, food)
    assert p.top_concepts[0] == "animal" and p.concepts["animal"] == pytest.approx(2 / 3)


def test_profile_before_a_time_and_from_given_events(ws, encoder):
    early = user_profile(ws, "fan", encoder, before=3.0)
    assert early.liked == ("pets1",) and early.disliked == ()
    given = user_profile(ws, "fan", encoder, events=[Interaction("fan", "food1", 1.0, Event.LIKE)])
    assert given.liked == ("food1",)
    cold = user_profile(ws, "cold", encoder)
    assert cold.vector is None and cold.disliked == ("food1",)
    with pytest.raises(InputError, match="unknown user"):
        user_profile(ws, "nobody", encoder)
    with pytest.raises(InputError, match="Interaction"):
        user_profile(ws, "fan", encoder, events=["pets1"])


def test_negative_feedback_pushes_away(ws, encoder):
    plain = user_profile(ws, "fan", encoder, config=FusionConfig(negative_weight=0.0)).vector
    pushed = user_profile(ws, "fan", encoder).vector
    food = concept_embeddings(["food"], encoder)[0]
    assert cos(pushed, food) < cos(plain, food)


def test_rocchio_moves_toward_included_and_away_from_excluded(ws, encoder):
    v = user_profile(ws, "fan", encoder).vector
    space, animal = concept_embeddings(["space", "animal"], encoder)
    toward = fuse(v, Guidance(include=("space",)), encoder)
    assert cos(toward, space) > cos(v, space) and np.linalg.norm(toward) == pytest.approx(1.0, abs=1e-5)
    away = fuse(v, Guidance(exclude=("animal",)), encoder)
    assert cos(away, animal) < cos(v, animal)
    assert np.allclose(fuse(v, Guidance(), encoder), v, atol=1e-6)  # nothing asked: the history alone
    assert fuse(None, Guidance(), encoder) is None
    only = fuse(None, Guidance(include=("space",)), encoder)
    assert cos(only, space) == pytest.approx(1.0, abs=1e-5)


def test_guidance_carries_the_vector(ws, encoder):
    profile = user_profile(ws, "fan", encoder)
    history = with_vector(Guidance(source="feedback"), profile, encoder)
    assert history.user_vector == "history" and history.include == () and history.vector_space == encoder.version
    assert np.allclose(history.vector, profile.vector, atol=1e-6)
    both = with_vector(Guidance(include=("space",)), profile, encoder)
    assert both.user_vector == "history+instruction"
    alone = with_vector(Guidance(include=("space",), user_vector="instruction"), profile, encoder)
    assert alone.user_vector == "instruction" and not np.allclose(alone.vector, both.vector)
    cold = with_vector(Guidance(), user_profile(ws, "cold", encoder), encoder)
    assert cold.user_vector == "none" and cold.vector is None and cold.vector_space is None
    assert with_vector(Guidance(user_vector="none"), profile, encoder).vector is None
    # JSON round trip, and guidance stored before these fields existed still loads
    assert Guidance.from_json(both.to_json()) == both
    legacy = Guidance().model_dump(mode="json")
    legacy.pop("vector"), legacy.pop("vector_space")
    assert Guidance.model_validate(legacy).vector is None


def test_item_text():
    assert item_text(Item("v1", Kind.VIDEO, title="Pets", tags=["animal", "black_and_white"])) == "Pets. animal, black and white"
    assert item_text(Item("v1", Kind.VIDEO)) == "v1"
