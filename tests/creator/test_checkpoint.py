"""The creator's checkpoint: training writes and resumes it; a changed or foreign checkpoint is refused."""

from __future__ import annotations

import json
import shutil

import pytest
import torch

from generec.creator.checkpoint import creator_dir
from generec.creator.pipeline import CreatorPipeline
from generec.creator.training import TrainBudget, train_creator
from generec.errors import InputError
from generec.workspace import Workspace

from helpers import TOY_BUDGET, TOY_CREATOR as TOY


def test_training_saves_weights_config_and_state_and_resume_continues(creator_ws):
    root = creator_dir(creator_ws)
    assert (root / "creator.pt").is_file() and (root / "state.pt").is_file()
    assert json.loads((root / "config.json").read_text())["image_size"] == 32
    state = torch.load(root / "state.pt", weights_only=False)
    assert (state["ae_steps"], state["dn_steps"]) == (TOY_BUDGET.autoencoder_steps, TOY_BUDGET.denoiser_steps)
    before = CreatorPipeline.load(creator_ws).checkpoint_hash
    more = TrainBudget(minutes=5.0, autoencoder_steps=TOY_BUDGET.autoencoder_steps, denoiser_steps=TOY_BUDGET.denoiser_steps + 3)
    report = train_creator(creator_ws, TOY, more, resume=True)
    assert report.resumed and (report.autoencoder_steps, report.denoiser_steps) == (6, 11)
    assert CreatorPipeline.load(creator_ws).checkpoint_hash != before


def test_a_changed_checkpoint_file_is_refused(creator_ws):
    path = creator_dir(creator_ws) / "creator.pt"
    with open(path, "ab") as f:
        f.write(b"tampered")
    with pytest.raises(InputError, match="does not match its record"):
        CreatorPipeline.load(creator_ws)


def test_a_checkpoint_from_another_workspace_is_refused(creator_ws, tmp_path):
    from generec.types import Item, Kind, Media

    # another catalogue: two videos of its own, and the toy creator's files copied in
    workspace = Workspace.open(tmp_path / "other", create=True)
    for n in range(2):
        digest = workspace.media.put_bytes(f"video {n}".encode(), "video/mp4")
        workspace.items.add(Item(id=f"other{n}", kind=Kind.VIDEO, media=Media(digest, "video/mp4", 4.0, 10.0, 64, 64)))
    shutil.copytree(creator_dir(creator_ws), creator_dir(workspace))
    with pytest.raises(InputError, match="another catalogue"):
        CreatorPipeline.load(workspace)


def test_resuming_on_another_catalogue_is_refused(creator_ws, tiny_bench, tmp_path):
    other = tmp_path / "other"
    shutil.copytree(tiny_bench[0], other)
    with Workspace.open(other) as ws:
        with ws.db.transaction() as conn:  # another catalogue: one video fewer
            victim = conn.execute("SELECT MIN(id) FROM items").fetchone()[0]
            conn.execute("DELETE FROM interactions WHERE item_id = ?", (victim,))
            conn.execute("DELETE FROM items WHERE id = ?", (victim,))
        shutil.copytree(creator_dir(creator_ws), creator_dir(ws))
        with pytest.raises(InputError, match="another catalogue"):
            train_creator(ws, TOY, TOY_BUDGET, resume=True)
