"""The diffusers backend on a tiny Stable Diffusion pipeline built here from configs (random weights, never downloaded)."""

from __future__ import annotations

import json
import string
from pathlib import Path

import numpy as np
import pytest
import torch

from generec.creator.diffusers_backend import DiffusersBackend, prompts
from generec.errors import InputError
from generec.instructor.guidance import Guidance
from generec.media.video import probe
from generec.pipeline import CreatorSettings, create
from generec.types import Origin


def tiny_pipeline(path: Path) -> Path:
    """A StableDiffusionPipeline small enough for a CPU test: a character-level CLIP tokenizer written here."""
    from diffusers import AutoencoderKL, DDIMScheduler, StableDiffusionPipeline, UNet2DConditionModel
    from transformers import CLIPTextConfig, CLIPTextModel, CLIPTokenizer

    torch.manual_seed(0)
    path.mkdir(parents=True)
    vocab = {"<|startoftext|>": 0, "<|endoftext|>": 1}
    for c in string.ascii_lowercase + string.digits + ",.&'-":
        vocab[c] = len(vocab)
        vocab[c + "</w>"] = len(vocab)
    (path / "vocab.json").write_text(json.dumps(vocab))
    (path / "merges.txt").write_text("#version: 0.2\n")
    tokenizer = CLIPTokenizer(str(path / "vocab.json"), str(path / "merges.txt"), model_max_length=77)
    text = CLIPTextModel(CLIPTextConfig(vocab_size=len(vocab), hidden_size=32, intermediate_size=37, num_attention_heads=4, num_hidden_layers=2,
                                        max_position_embeddings=77, bos_token_id=0, eos_token_id=1, pad_token_id=1))  # fmt: skip
    unet = UNet2DConditionModel(block_out_channels=(32, 64), layers_per_block=1, sample_size=16, in_channels=4, out_channels=4,
                                down_block_types=("DownBlock2D", "CrossAttnDownBlock2D"), up_block_types=("CrossAttnUpBlock2D", "UpBlock2D"),
                                cross_attention_dim=32, norm_num_groups=16, attention_head_dim=8)  # fmt: skip
    vae = AutoencoderKL(block_out_channels=(16, 32), down_block_types=("DownEncoderBlock2D",) * 2, up_block_types=("UpDecoderBlock2D",) * 2,
                        latent_channels=4, norm_num_groups=8)  # fmt: skip
    pipe = StableDiffusionPipeline(vae=vae, text_encoder=text, tokenizer=tokenizer, unet=unet, scheduler=DDIMScheduler(clip_sample=False),
                                   safety_checker=None, feature_extractor=None, requires_safety_checker=False)  # fmt: skip
    pipe.save_pretrained(path)
    return path


@pytest.fixture(scope="module")
def pipeline_dir(tmp_path_factory):
    return tiny_pipeline(tmp_path_factory.mktemp("diffusers") / "tiny-sd")


def test_the_backend_loads_a_local_pipeline_and_samples_reproducibly(pipeline_dir):
    backend = DiffusersBackend.load(pipeline_dir, steps=3)
    assert backend.device in ("cpu", "cuda") and len(backend.checkpoint_hash) == 16
    g = Guidance(mode="create", include=("animal",), exclude=("food",), style="sketch")
    a = backend(np.zeros((2, 1280)), seed=4, guidance=g)
    b = backend(np.zeros((2, 1280)), seed=4, guidance=g)
    assert a.shape == (2, 32, 32, 3) and a.dtype == np.uint8 and np.array_equal(a, b)
    assert prompts(g) == ("a sketch photo of animal", "food, blurry, low quality, distorted, watermark, text")


def test_created_items_from_the_backend_go_through_the_same_path(pipeline_dir, creator_ws):
    ws = creator_ws
    user = sorted(ws.users.ids())[0]
    settings = CreatorSettings(backend="diffusers", diffusers_path=str(pipeline_dir))
    [made] = create(ws, user, guidance=Guidance(mode="create", include=("plant",)), n=1, settings=settings)
    assert made.item.origin == Origin.AI_CREATED and made.item.provenance["generator"] == "generec.creator.diffusers:tiny-sd"
    assert made.item.provenance["checkpoint_hash"] == DiffusersBackend.load(pipeline_dir).checkpoint_hash
    assert probe(made.media_path).duration > 5.0


def test_a_directory_that_is_not_a_pipeline_is_refused(tmp_path, pipeline_dir):
    with pytest.raises(InputError, match="not a diffusers pipeline directory"):
        DiffusersBackend.load(tmp_path)
    (tmp_path / "model_index.json").write_text("[1, 2]")
    with pytest.raises(InputError, match="not a pipeline index"):
        DiffusersBackend.load(tmp_path)
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "model_index.json").write_text((pipeline_dir / "model_index.json").read_text())  # the index without its parts
    with pytest.raises(InputError, match="could not load the diffusers pipeline"):
        DiffusersBackend.load(broken)
