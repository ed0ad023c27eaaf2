"""The look judge: look statistics, the classifier on tagged covers, tastes from impressions,
and the edit ops restyling into the look a user clicks."""

from __future__ import annotations

import numpy as np
import pytest

from generec.datasets.styles import apply_style
from generec.editor.look_judge import (
    LookClassifier,
    LookJudgeConfig,
    fit_rates,
    look_classifier,
    look_stats,
    look_taste,
    tag_look,
    user_impressions,
)
from generec.encoders.cache import FeatureCache
from generec.encoders.image import get_image_encoder
from generec.errors import InputError
from generec.media.image import encode_image
from generec.pipeline import edit, look_judge_or_reason
from generec.types import Event, Interaction, Item, Kind, Media
from helpers import photo, shot_frames

pytest_plugins = ["editor.conftest"]

LOOKS = ("natural", "warm", "cool", "bright", "dark", "vivid", "muted", "black_and_white", "cartoon", "sketch")


def crops(name: str, n: int, side: int = 96, seed: int = 0) -> list[np.ndarray]:
    """`n` different crops of a real photo."""
    return [shot_frames(photo(name), 1, side, side, seed=seed + k)[0] for k in range(n)]


def test_look_stats_measure_colour_light_and_grey():
    cat = photo("chelsea")
    natural, bw = look_stats(cat), look_stats(apply_style(cat, "black_and_white"))
    warm, cool = look_stats(apply_style(cat, "warm")), look_stats(apply_style(cat, "cool"))
    bright, dark = look_stats(apply_style(cat, "bright")), look_stats(apply_style(cat, "dark"))
    assert natural.shape == (20,) and natural.dtype == np.float32
    assert bw[19] < 0.01 < natural[19]  # channel spread: zero for grey
    assert bw[6] < 0.01 < natural[6]  # saturation
    assert warm[18] > natural[18] > cool[18]  # red minus blue
    assert bright[9] > natural[9] > dark[9]  # mean luminance


def test_tag_look_reads_look_tags_and_synonyms():
    assert tag_look(["animal", "Black and white"]) == "black_and_white"
    assert tag_look(["b&w"]) == "black_and_white"
    assert tag_look(["food", "warm", "cool"]) == "warm"
    assert tag_look(["food", "cat"]) is None


def test_classifier_tells_looks_apart_on_frames_it_never_saw():
    # fitted on 3 crops of each photo in every look, tested on another crop of each (97.5 % measured)
    encoder = get_image_encoder()
    names = ("chelsea", "coffee", "astronaut", "rocket")
    train = [(apply_style(im, look), look) for name in names for im in crops(name, 3) for look in LOOKS]
    images, looks = [im for im, _ in train], [look for _, look in train]
    stats, feats = np.stack([look_stats(im) for im in images]), encoder.encode(images).features
    held_out = [im for name in names for im in crops(name, 1, seed=20)]
    # with EfficientNet features (97.5 % measured) and on the look statistics alone (72.5 %)
    for use_features, floor in ((True, 0.8), (False, 0.6)):
        classifier = LookClassifier(LookJudgeConfig(use_features=use_features)).fit(stats, feats, looks)
        assert set(classifier.looks_) == set(LOOKS)
        probs = classifier.images([apply_style(im, look) for look in LOOKS for im in held_out], encoder)  # (40, 10)
        assert probs.shape == (40, 10) and np.allclose(probs.sum(1), 1.0, atol=1e-5)
        predicted = np.array(classifier.looks_)[probs.argmax(1)]
        accuracy = float(np.mean(predicted == np.repeat(LOOKS, len(names))))
        assert accuracy >= floor, f"held-out look accuracy {accuracy:.2f}: {list(zip(np.repeat(LOOKS, len(names)), predicted))}"


def test_two_looks_give_two_probabilities():
    # sklearn keeps one row of weights for two classes; the classifier must still give both
    rng = np.random.default_rng(0)
    stats = np.vstack([rng.normal(0, 1, (10, 20)), rng.normal(3, 1, (10, 20))]).astype(np.float32)
    classifier = LookClassifier(LookJudgeConfig(use_features=True)).fit(stats, np.zeros((20, 4), np.float32), ["cool"] * 10 + ["warm"] * 10)
    probs = classifier.proba(stats, np.zeros((20, 4), np.float32))
    assert probs.shape == (20, 2) and classifier.looks_ == ("cool", "warm")
    assert (probs.argmax(1) == np.repeat([0, 1], 10)).all()
    from sklearn.linear_model import LogisticRegression

    z = (np.hstack([stats, np.zeros((20, 4), np.float32)]) - classifier.mean_) / classifier.std_
    reference = LogisticRegression(C=classifier.config.c, max_iter=2000).fit(z, ["cool"] * 10 + ["warm"] * 10)
    assert np.allclose(probs, reference.predict_proba(z), atol=1e-4)


def _classifier_on(pairs: list[tuple[str, str]], encoder) -> LookClassifier:
    """A classifier fitted on the editor's own renders: (rendered look, label it is taught) pairs."""
    from generec.editor.looks import render_look

    names = ("chelsea", "coffee", "astronaut", "rocket")
    images, labels = [], []
    for name in names:
        for im in crops(name, 3):
            for look, label in pairs:
                images.append(render_look(im, look))
                labels.append(label)
    return LookClassifier().fit(np.stack([look_stats(im) for im in images]), encoder.encode(images).features, labels)


def test_the_look_decision_is_judged_on_the_render_not_its_label():
    from generec.editor.look_judge import LookJudge, LookTaste

    encoder = get_image_encoder()
    image = crops("astronaut", 1, seed=30)[0]

    def decide(classifier, liked: float, others: float, look: str):
        rates = np.array([liked if s == look else others for s in classifier.looks_])
        return LookJudge(classifier, LookTaste("u", classifier.looks_, rates, 30, 6), margin=0.02).choose([image], encoder)

    def not_shown(classifier) -> str:
        return "warm" if decide(classifier, 0.1, 0.1, "warm").shown == "cool" else "cool"

    # a classifier that reads the editor's renders right: the user's clearly best look is rendered
    right = _classifier_on([("natural", "natural"), ("warm", "warm"), ("cool", "cool")], encoder)
    liked = not_shown(right)
    decision = decide(right, 0.5, 0.1, liked)
    assert decision.look == liked and decision.gain > 0.05
    assert set(decision.judged) == {liked}  # only looks rated above the image are rendered, never "natural"
    # a user who barely prefers a look (under the margin) keeps the image as it is: nothing is rendered
    barely = decide(right, 0.21, 0.2, liked)
    assert barely.look is None and barely.judged == {}
    # a classifier that sees the editor's cool render as warm and its warm render as cool: the
    # user's liked label is not what the render of that look shows, so it is not applied
    swapped = _classifier_on([("natural", "natural"), ("warm", "cool"), ("cool", "warm")], encoder)
    liked = not_shown(swapped)
    decision = decide(swapped, 0.5, 0.05, liked)
    assert liked in decision.judged and decision.look != liked, decision


def test_classifier_needs_two_tagged_looks():
    f = np.zeros((12, 8), np.float32)
    with pytest.raises(InputError, match="at least 2 looks"):
        LookClassifier().fit(np.zeros((12, 20)), f, ["warm"] * 10 + ["cool"] * 2)


def test_rates_favour_the_look_a_user_clicks_and_shrink_small_samples():
    rng = np.random.default_rng(0)
    looks = rng.integers(0, 3, 300)
    clicked = rng.random(300) < np.where(looks == 2, 0.6, 0.1)
    rates = fit_rates(np.eye(3)[looks], clicked, prior=10.0)
    assert int(np.argmax(rates)) == 2 and rates[2] > 0.45 and rates[0] < 0.2
    # one clicked impression of a look barely moves its rate away from the user's overall rate
    few = fit_rates(np.eye(3)[[0, 1, 1, 1]], np.array([1.0, 0.0, 0.0, 0.0]), prior=10.0)
    assert few[0] - 0.25 < 0.1 and few[0] > few[1]


# the workspace: tagged covers, impressions, and the ops ------------------------------------------


def add_look_covers(ws, looks=("black_and_white", "warm", "cool"), per_look: int = 6) -> dict[str, list[str]]:
    """Image items whose covers show each look, tagged with it; returns look -> item ids."""
    out: dict[str, list[str]] = {}
    names = ("chelsea", "coffee", "astronaut", "rocket")
    for look in looks:
        for k in range(per_look):
            image = apply_style(crops(names[k % len(names)], 1, seed=k)[0], look)
            digest = ws.media.put_bytes(encode_image(image), "image/png")
            item_id = f"{look}{k}"
            ws.items.add(Item(item_id, Kind.IMAGE, title=f"{look} photo", tags=["photo", look],
                              media=Media(digest, "image/png", None, None, image.shape[1], image.shape[0])))  # fmt: skip
            out.setdefault(look, []).append(item_id)
    return out


def show(ws, user: str, shown: dict[str, list[str]], clicks: str, ts: float = 5_000.0) -> None:
    """Impressions of every look's covers; the user clicks only those of `clicks`."""
    events = []
    for look, ids in shown.items():
        for item_id in ids:
            events.append(Interaction(user, item_id, ts, Event.IMPRESSION))
            if look == clicks:
                events.append(Interaction(user, item_id, ts + 1, Event.CLICK))
            ts += 10
    ws.interactions.add_many(events)


def test_taste_from_impressions_names_the_clicked_look(catalogue):
    shown = add_look_covers(catalogue)
    show(catalogue, "animal_lover0", shown, clicks="black_and_white")
    encoder, cache = get_image_encoder(), FeatureCache.for_workspace(catalogue)
    classifier = look_classifier(catalogue, encoder, cache)
    # taught on the catalogue's covers in every look the editor renders, and on the tagged covers
    assert classifier is not None and set(classifier.looks_) == set(LOOKS) - {"natural"}
    saved = catalogue.root / "models" / "look_classifier" / "classifier.npz"
    stamp = saved.stat().st_mtime_ns
    assert look_classifier(catalogue, encoder, cache).looks_ == classifier.looks_ and saved.stat().st_mtime_ns == stamp  # reused
    taste = look_taste(catalogue, "animal_lover0", classifier, encoder, cache)
    assert taste is not None and taste.best == "black_and_white" and taste.impressions == 18 + 5 and taste.clicks == 6 + 4
    # impressions after `before` are not seen
    assert look_taste(catalogue, "animal_lover0", classifier, encoder, cache, before=5_000.0) is None
    ids, clicked = user_impressions(catalogue, "animal_lover0", before=5_000.0)
    assert len(ids) == 5 and clicked.sum() == 4


def test_cover_clip_and_style_ops_restyle_into_the_clicked_look(catalogue):
    show(catalogue, "food_lover0", add_look_covers(catalogue), clicks="black_and_white")
    judge, _ = look_judge_or_reason(catalogue, "food_lover0", get_image_encoder(), FeatureCache.for_workspace(catalogue))
    assert judge is not None and judge.taste.best == "black_and_white"
    cover = edit(catalogue, "cover", "food_lover0", "m_food_cat")
    assert cover.params["style"] == "black_and_white"
    from generec.media.image import load_image

    image = load_image(cover.cover_path).astype(int)
    assert np.abs(image[..., 0] - image[..., 2]).max() <= 2  # grey
    clip = edit(catalogue, "clip", "food_lover0", "m_food_cat")
    assert clip.params["style"] == "black_and_white"
    styled = edit(catalogue, "style", "food_lover0", "m_cat_food")
    assert styled.params["style"] == "black_and_white" and styled.params["strength"] in (0.6, 1.0)


def test_a_user_who_clicks_unedited_covers_gets_no_restyle(catalogue):
    # the user clicks only the covers tagged natural: no render beats the image as it is
    shown = add_look_covers(catalogue, looks=("natural", "black_and_white", "cool"))
    show(catalogue, "food_lover1", shown, clicks="natural")
    judge, _ = look_judge_or_reason(catalogue, "food_lover1", get_image_encoder(), FeatureCache.for_workspace(catalogue))
    assert judge is not None and "natural" in judge.taste.looks  # the covers tagged natural give the class
    result = edit(catalogue, "cover", "food_lover1", "m_food_cat")
    assert "style" not in result.params, result.notes


def test_a_video_already_in_the_users_look_is_not_restyled_again(catalogue, tmp_path):
    # the user clicks black-and-white covers; a black-and-white video keeps its look
    from editor.conftest import _add_video
    from generec.editor.base import CannotSatisfy

    show(catalogue, "food_lover0", add_look_covers(catalogue), clicks="black_and_white")
    _add_video(catalogue, tmp_path, "bw_cat", [apply_style(photo("chelsea"), "black_and_white")], ["animal"], seconds=1.0)
    assert "style" not in edit(catalogue, "cover", "food_lover0", "bw_cat").params
    with pytest.raises(CannotSatisfy, match="looks black_and_white"):
        edit(catalogue, "style", "food_lover0", "bw_cat")


def test_items_without_a_picture_are_skipped_and_a_catalogue_without_covers_has_no_classifier(tmp_path):
    from generec.workspace import Workspace

    ws = Workspace.open(tmp_path / "ws", create=True)
    encoder, cache = get_image_encoder(), FeatureCache.for_workspace(ws)
    ws.items.add(Item("t0", Kind.TEXT, title="a text item", tags=["warm"]))
    # an image item with a cover but no media shows no picture: skipped, not a crash
    digest = ws.media.put_bytes(encode_image(crops("coffee", 1)[0]), "image/png")
    ws.items.add(Item("i0", Kind.IMAGE, title="no media", tags=[], cover=Media(digest, "image/png", None, None, 96, 96)))
    assert look_classifier(ws, encoder, cache) is None
    add_look_covers(ws, looks=("warm",), per_look=1)  # one picture is enough to teach every look
    classifier = look_classifier(ws, encoder, cache)
    assert classifier is not None and set(classifier.looks_) == set(LOOKS) - {"natural"}
