"""The instructor on an imported catalogue of other topics: its own tags and title words are the vocabulary."""

from __future__ import annotations

import av
import numpy as np
import pandas as pd
import pytest

from generec.store.importer import import_data
from generec.instructor.catalogue import catalogue_vocabulary, title_words
from generec.instructor.instructor import Instructor, usual_duration
from generec.pipeline import get_parser
from generec.types import Item

VIDEOS = [  # id, title, tags, seconds at 10 fps
    ("c1", "Pasta carbonara at home", "cooking", 2.0),
    ("c2", "Knife skills for onions", "cooking", 2.0),
    ("f1", "Messi free kick goal", "football", 4.0),
    ("f2", "Messi dribbling highlights", "football", 4.0),
    ("g1", "Strumming patterns for beginners", "guitar", 3.0),
    ("g2", "Fingerstyle strumming lesson", "guitar", 3.0),
]


def pyav_video(path, seconds: float, fps: int = 10, seed: int = 0) -> None:
    """A tiny H.264 file written with plain PyAV."""
    rng = np.random.default_rng(seed)
    with av.open(str(path), "w") as out:
        stream = out.add_stream("libx264", rate=fps)
        stream.width, stream.height, stream.pix_fmt = 64, 48, "yuv420p"
        base = rng.integers(0, 255, (48, 64, 3), dtype=np.uint8)
        for k in range(int(seconds * fps)):
            frame = av.VideoFrame.from_ndarray(np.roll(base, k, axis=1), format="rgb24")
            out.mux(stream.encode(frame))
        out.mux(stream.encode(None))


@pytest.fixture
def imported(workspace, tmp_path):
    media = tmp_path / "media"
    media.mkdir()
    for k, (item_id, _, _, seconds) in enumerate(VIDEOS):
        pyav_video(media / f"{item_id}.mp4", seconds, seed=k)
    items = pd.DataFrame({
        "item_id": [v[0] for v in VIDEOS], "title": [v[1] for v in VIDEOS], "tags": [v[2] for v in VIDEOS],
        "media": [f"{v[0]}.mp4" for v in VIDEOS],
    })  # fmt: skip
    inter = pd.DataFrame({"user_id": ["u1", "u1", "u2"], "item_id": ["f1", "f2", "c1"],
                          "timestamp": ["100", "200", "300"], "event": ["watch", "click", "click"]})  # fmt: skip
    items.to_csv(tmp_path / "items.csv", index=False)
    inter.to_csv(tmp_path / "inter.csv", index=False)
    import_data(workspace, tmp_path / "items.csv", tmp_path / "inter.csv", media)
    return workspace


def test_vocabulary_is_the_catalogues_tags_and_title_words():
    items = [Item(i, "video", title=t, tags=[tag]) for i, t, tag, _ in VIDEOS]
    vocab = catalogue_vocabulary(items)
    assert set(vocab.tags) == {"cooking", "football", "guitar"} and not vocab.from_titles
    terms = dict(vocab.terms)
    assert terms["messi"] == "football" and terms["strumming"] == "guitar" and terms["carbonara"] == "cooking"
    assert "for" not in terms and "at" not in terms  # stop words are not terms
    assert title_words("The BEST Messi goal, at home!") == ["messi", "goal", "home"]


def test_a_tagless_catalogue_uses_its_title_words():
    items = [Item(i, "video", title=t) for i, t, _, _ in VIDEOS]
    vocab = catalogue_vocabulary(items)
    assert vocab.from_titles and vocab.tags[:2] == ("messi", "strumming") and vocab.terms == ()


def test_instructor_on_an_imported_catalogue(imported):
    instructor = Instructor(imported, get_parser())
    assert set(instructor.vocabulary()) == {"cooking", "football", "guitar"}
    assert instructor("u1", "more messi", session="a").include == ("football",)  # a title word of the catalogue
    assert instructor("u1", "no strumming please", session="b").exclude == ("guitar",)
    assert instructor("u1", "footbal", session="c").include == ("football",)
    g = instructor("u1", "why is it all football", session="d")
    assert (g.include, g.exclude) == ((), ("football",))
    g = instructor("u1", "i'm vegan so no meat videos", session="e")
    assert g.exclude == ("cooking",)
    # no retriever: the mode stays as parsed, and the guidance says it was not asked for
    assert not g.mode_explicit and any("stays as parsed" in n for n in g.notes)


def test_shorter_is_relative_to_what_the_user_watched(imported):
    assert usual_duration(imported, "u1") == pytest.approx(4.0, abs=0.2)  # u1 watched the 4 s football clips
    assert usual_duration(imported, "nobody") is None
    g = Instructor(imported, get_parser())("u1", "shorter videos pls", session="s")
    assert g.max_duration_s == pytest.approx(0.6 * usual_duration(imported, "u1")) and g.clarify is None
