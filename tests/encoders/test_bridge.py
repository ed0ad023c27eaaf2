"""Text-image bridges: zero-shot through ImageNet class names on real photos with the real
encoders; the contrastive bridge on a tiny synthetic paired set and on the tiny workspace."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest
import skimage.data

from generec.encoders.bridge import (
    BridgeConfig,
    ContrastiveBridge,
    TextImageBridge,
    ZeroShotBridge,
    ZeroShotConfig,
    catalogue_bridge_path,
    catalogue_pairs,
    fit_catalogue_bridge,
    item_text,
    load_text_image_bridge,
    retrieval_ranks,
)
from generec.encoders.cache import FeatureCache
from generec.encoders.image import get_image_encoder
from generec.encoders.text import get_text_encoder
from generec.errors import InputError
from generec.types import Item, Kind
from generec.workspace import Workspace

CATS = set(range(281, 286))  # tabby, tiger cat, Persian, Siamese, Egyptian cat
SMALL = BridgeConfig(dim=32, epochs=15, batch_size=64, valid_share=0.15, patience=0, seed=3)


@pytest.fixture(scope="module")
def cache(tmp_path_factory):
    return FeatureCache(tmp_path_factory.mktemp("features"))


@pytest.fixture(scope="module")
def zero_shot(cache):
    bridge = ZeroShotBridge(get_text_encoder(), get_image_encoder(), cache=cache)
    bridge.class_embeddings  # the 1000 class names, embedded once for the module (~4 s)
    return bridge


@pytest.fixture(scope="module")
def photos():
    """Real photos: chelsea (a cat), coffee (an espresso), astronaut (a person)."""
    images = [skimage.data.chelsea(), skimage.data.coffee(), skimage.data.astronaut()]
    return get_image_encoder().encode(images)


def synthetic_pairs(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """n pairs from 10 clusters: a 16-d latent u per pair, text = normalize(u A + noise) (384-d),
    image = relu(u B + noise) (1280-d); A, B and the cluster centres are fixed, so sets drawn with
    different seeds share one relation."""
    fixed = np.random.default_rng(100)
    a, b, centres = fixed.normal(size=(16, 384)), fixed.normal(size=(16, 1280)), fixed.normal(size=(10, 16))
    rng = np.random.default_rng(seed)
    u = centres[rng.integers(0, 10, n)] + 0.7 * rng.normal(size=(n, 16))
    text = u @ a + 3.0 * rng.normal(size=(n, 384))
    text /= np.linalg.norm(text, axis=1, keepdims=True)
    image = np.maximum(u @ b + 3.0 * rng.normal(size=(n, 1280)), 0.0)
    return text.astype(np.float32), image.astype(np.float32)


@pytest.fixture(scope="module")
def synthetic():
    return synthetic_pairs(200, seed=0), synthetic_pairs(40, seed=1)  # (train, held out)


@pytest.fixture(scope="module")
def fitted(synthetic):
    (t, i), _ = synthetic
    return ContrastiveBridge(SMALL).fit(t, i)


# zero-shot ---------------------------------------------------------------------------------------


def test_chelsea_is_a_cat_to_the_image_encoder(photos):
    assert int(np.argmax(photos.logits[0])) in CATS


def test_zero_shot_scores_the_right_text_highest(zero_shot, photos):
    texts = ["a cat", "a car", "a cup of coffee", "coffee"]
    s = zero_shot.score(texts, photos.logits)  # (4 texts, 3 photos)
    assert s.shape == (4, 3) and s.dtype == np.float32
    assert s[0, 0] > max(s[1, 0], s[2, 0], s[3, 0])  # chelsea: "a cat" (0.72 against <= 0.27)
    assert np.argmax(s[[0, 1, 3], 1]) == 2  # coffee: "coffee" over "a cat" and "a car"
    assert np.argmax(s[:, 1]) in (2, 3)  # ... and a coffee text first of all four
    assert np.argmax(s[3]) == 1  # "coffee": the coffee photo over the cat and the astronaut
    # cached features give the same scores through the image encoder's classifier
    np.testing.assert_allclose(zero_shot.score_features(texts, photos.features), s, atol=1e-4)


def test_images_land_in_text_space_as_class_name_mixtures(zero_shot, photos, cache):
    e = zero_shot.image_text_embedding(photos.logits)
    assert e.shape == (3, 384)
    np.testing.assert_allclose(np.linalg.norm(e, axis=1), 1.0, atol=1e-5)
    # top_k = 1: the image is its most probable class name's embedding
    top1 = ZeroShotBridge(zero_shot.text_encoder, zero_shot.image_encoder, config=ZeroShotConfig(top_k=1), cache=cache)
    best = zero_shot.class_embeddings[np.argmax(photos.logits, axis=1)]  # (3, 384)
    np.testing.assert_allclose(top1.image_text_embedding(photos.logits), best, atol=1e-5)
    sim = zero_shot.class_text_similarity(["a cat", "a truck"])
    assert sim.shape == (2, 1000)
    assert int(np.argmax(sim[0])) in CATS | {383}  # a cat class or Madagascar cat


def test_encode_texts_gives_the_text_encoders_unit_vectors(zero_shot):
    # the name the bridges call (`TextImageBridge.score`, `text_direction`); once misspelled `encodetext_list`
    e = zero_shot.encode_texts(["a cat", "a truck"])
    assert e.shape == (2, 384)
    np.testing.assert_allclose(e, zero_shot.text_encoder.encode(["a cat", "a truck"]), atol=1e-6)
    assert not hasattr(zero_shot, "encodetext_list")


def test_text_direction_favours_cat_frames(zero_shot, photos):
    d = zero_shot.text_direction(["cat", "dog", "coffee"])  # (3, 1280)
    assert d.shape == (3, 1280) and d.dtype == np.float32
    evidence = d @ photos.features.T  # (3 texts, 3 photos)
    assert evidence[0, 0] > evidence[0, 1] + 1.0  # "cat": chelsea over coffee (4.4 against -0.3)
    assert evidence[0, 0] > evidence[1, 0] + 1.0  # chelsea: "cat" over "dog"
    assert evidence[2, 1] > evidence[2, 0] + 1.0  # "coffee": coffee over chelsea
    # d · f is the text's classes' logits above the mean logit, up to a constant
    w, b = zero_shot.classifier
    np.testing.assert_allclose(photos.features @ w.T + b, photos.logits, atol=1e-3)
    both = TextImageBridge(zero_shot)
    np.testing.assert_allclose(both.text_direction(["cat"]), d[:1], atol=1e-5)  # zero-shot alone


def test_class_names_are_read_back_from_the_cache(zero_shot, cache):
    # a doctored cache entry is what a fresh bridge serves: it read the cache, it did not re-encode
    (entry,) = cache.root.rglob("*.imagenet1k.npy")
    doctored = -zero_shot.class_embeddings
    np.save(entry, doctored)
    try:
        again = ZeroShotBridge(zero_shot.text_encoder, zero_shot.image_encoder, cache=cache)
        np.testing.assert_array_equal(again.class_embeddings, doctored)
    finally:
        np.save(entry, zero_shot.class_embeddings)


def test_zero_shot_refuses_bad_input(zero_shot, photos):
    with pytest.raises(InputError, match=r"logits: expected an array of shape \(N, 1000\), found shape \(3, 10\)"):
        zero_shot.image_text_embedding(photos.logits[:, :10])
    with pytest.raises(InputError, match=r"image features: expected an array of shape \(N, 1280\)"):
        zero_shot.score_features(["a cat"], photos.features[:, :5])
    bad = photos.logits.copy()
    bad[1, 3] = np.nan
    with pytest.raises(InputError, match="NaN or inf in 1 row"):
        zero_shot.score(["a cat"], bad)
    with pytest.raises(InputError, match="a single string"):
        zero_shot.score("a cat", photos.logits)
    with pytest.raises(InputError, match="template: expected a string with exactly one"):
        ZeroShotBridge(zero_shot.text_encoder, zero_shot.image_encoder, template="a photo").class_embeddings


# contrastive -------------------------------------------------------------------------------------


def test_contrastive_bridge_retrieves_held_out_pairs(fitted, synthetic):
    _, (t, i) = synthetic
    z_t, z_i = fitted.project_text(t), fitted.project_image(i)
    assert z_t.shape == z_i.shape == (40, 32)
    np.testing.assert_allclose(np.linalg.norm(z_t, axis=1), 1.0, atol=1e-5)
    ranks = retrieval_ranks(fitted.score(t, i))  # text -> image over 40 unseen pairs
    assert (ranks == 1).mean() >= 0.5  # chance: 1/40
    log = fitted.train_log_
    assert (log.n_train, log.n_valid) == (170, 30)
    assert log.epochs == len(log.loss) == len(log.valid_recall) == len(log.valid_mean_rank) == 15
    assert log.loss[-1] < log.loss[0]
    assert log.best_recall == max(log.valid_recall) == log.valid_recall[log.best_epoch - 1]
    assert 0.01 <= fitted.temperature_ < 1.0


def test_contrastive_bridge_is_deterministic_for_a_seed(fitted, synthetic):
    (t, i), _ = synthetic
    again = ContrastiveBridge(SMALL).fit(t, i)
    np.testing.assert_array_equal(again.text_proj_, fitted.text_proj_)
    np.testing.assert_array_equal(again.image_proj_, fitted.image_proj_)
    other = ContrastiveBridge(BridgeConfig(dim=32, epochs=1, seed=4)).fit(t, i)
    assert not np.array_equal(other.text_proj_, fitted.text_proj_)


def test_training_stops_after_patience_epochs_without_progress(synthetic):
    (t, i), _ = synthetic
    bridge = ContrastiveBridge(BridgeConfig(dim=32, epochs=200, patience=2, seed=3)).fit(t, i)
    log = bridge.train_log_
    assert log.epochs == log.best_epoch + 2 < 200


def test_save_and_load_give_identical_scores(fitted, synthetic, tmp_path):
    _, (t, i) = synthetic
    path = fitted.save(tmp_path / "bridge")
    loaded = ContrastiveBridge.load(path)
    np.testing.assert_array_equal(loaded.score(t, i), fitted.score(t, i))
    assert loaded.config == SMALL and loaded.train_log_ == fitted.train_log_
    assert json.loads((path / "config.json").read_text())["text_dim"] == 384

    with pytest.raises(InputError, match="missing config.json, weights.npz"):
        ContrastiveBridge.load(tmp_path / "empty")
    (tmp_path / "half").mkdir()
    shutil.copy(path / "config.json", tmp_path / "half")
    with pytest.raises(InputError, match="missing weights.npz"):
        ContrastiveBridge.load(tmp_path / "half")
    # another bridge's weights beside this config
    (tmp_path / "half" / "weights.npz").write_bytes(b"not the saved weights")
    with pytest.raises(InputError, match="does not match config.json"):
        ContrastiveBridge.load(tmp_path / "half")


def test_contrastive_bridge_refuses_bad_input(fitted, synthetic):
    (t, i), _ = synthetic
    bridge = ContrastiveBridge(SMALL)
    with pytest.raises(InputError, match="expected the same number of pairs, found 200 and 199"):
        bridge.fit(t, i[:-1])
    with pytest.raises(InputError, match="text_features: expected at least 2 rows, found 1"):
        bridge.fit(t[:1], i[:1])
    bad = i.copy()
    bad[5, 7] = np.nan
    with pytest.raises(InputError, match="image_features: expected finite values"):
        bridge.fit(t, bad)
    with pytest.raises(InputError, match=r"text_features: expected an array of shape \(N, D\), found shape \(200,\)"):
        bridge.fit(t[:, 0], i)
    with pytest.raises(InputError, match="not fitted"):
        bridge.project_text(t)
    with pytest.raises(InputError, match=r"image_features: expected .* shape \(N, 1280\), found shape \(4, 384\)"):
        fitted.project_image(t[:4])
    with pytest.raises(InputError, match="valid_share"):
        ContrastiveBridge(BridgeConfig(valid_share=1.0)).fit(t, i)


def test_text_image_bridge_blends_standardised_scores(zero_shot, photos, fitted, synthetic):
    (t, i), _ = synthetic
    small = ContrastiveBridge(BridgeConfig(dim=4, epochs=1)).fit(t[:, :8], i[:, :8])
    with pytest.raises(InputError, match="expected a bridge of 384-d text and 1280-d image .*, found 8-d and 8-d"):
        TextImageBridge(zero_shot, small)
    with pytest.raises(InputError, match=r"weight: expected the contrastive share in \[0, 1\], found 1.5"):
        TextImageBridge(zero_shot, fitted, weight=1.5)

    texts = ["a cat", "a cup of coffee"]
    blended = TextImageBridge(zero_shot, fitted, weight=0.5).score(texts, photos.features)
    assert blended.shape == (2, 3) and np.isfinite(blended).all()
    np.testing.assert_allclose(blended.mean(axis=1), 0.0, atol=1e-5)  # a mix of per-text z-scores
    alone = TextImageBridge(zero_shot, fitted, weight=0.0).score(texts, photos.features)
    np.testing.assert_array_equal(alone, zero_shot.score_features(texts, photos.features))
    d = TextImageBridge(zero_shot, fitted, weight=0.5).text_direction(texts)
    assert d.shape == (2, 1280) and np.isfinite(d).all()


# the catalogue's own pairs -----------------------------------------------------------------------


def test_fit_catalogue_bridge_on_the_tiny_workspace(tiny_bench, tmp_path, zero_shot):
    root = tmp_path / "ws"
    shutil.copytree(tiny_bench[0], root)
    with Workspace.open(root) as ws:
        seen = []
        config = BridgeConfig(dim=16, epochs=10, valid_share=0.2)
        bridge = fit_catalogue_bridge(ws, config, progress=lambda *a: seen.append(a))
        assert {s[0] for s in seen} == {"cover features", "text features", "bridge epochs"}
        assert seen[-1] == ("bridge epochs", 10, 10)
        assert (bridge.train_log_.n_train, bridge.train_log_.n_valid) == (24, 6)

        items = ws.items.all()
        poem = Item("t1", Kind.TEXT, title="a poem")
        cache = FeatureCache.for_workspace(ws)
        pairs = catalogue_pairs(ws, [*items, poem], get_text_encoder(), get_image_encoder(), cache)
        assert pairs.text_features.shape == (30, 384) and pairs.image_features.shape == (30, 1280)
        assert pairs.item_ids == [item.id for item in items]  # the text item has no picture
        assert item_text(Item("x", Kind.VIDEO, title="Calm garden ", tags=["plant", "ink"])) == "Calm garden plant ink"
        ranks = retrieval_ranks(bridge.score(pairs.text_features, pairs.image_features))
        assert ranks.mean() < 15.5  # in sample, better than chance

        path = catalogue_bridge_path(ws)
        assert path == root / "models" / "bridge" and (path / "weights.npz").is_file()
        both = load_text_image_bridge(ws)
        assert both.contrastive is not None
        t, i = pairs.text_features, pairs.image_features
        np.testing.assert_array_equal(both.contrastive.score(t, i), bridge.score(t, i))
