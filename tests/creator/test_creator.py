"""The AI creator end to end on the toy model: a stored, playable micro-video with provenance; bad requests store nothing."""

from __future__ import annotations

import av
import numpy as np
import pytest

from generec.editor.base import CannotSatisfy
from generec.errors import InputError
from generec.instructor.guidance import Guidance
from generec.media.video import probe
from generec.pipeline import create
from generec.types import Event, Interaction, Origin


def first_user(ws) -> str:
    return sorted(ws.users.ids())[0]


def test_create_stores_a_playable_ai_created_video_with_provenance(creator_ws):
    ws = creator_ws
    user = first_user(ws)
    g = Guidance(mode="create", mode_explicit=True, include=("animal",), style="sketch", text="a sketch video of animals")
    before = ws.items.count()
    [made] = create(ws, user, guidance=g, n=1)
    item = made.item
    assert ws.items.count() == before + 1 and ws.items.get(item.id) is not None
    assert item.origin == Origin.AI_CREATED and item.parent_id is None
    assert "animal" in item.tags and "sketch" in item.tags and "animal" in item.title
    prov = item.provenance
    assert prov["checkpoint_hash"] and prov["seed"] == 0 and prov["guidance"]["include"] == ["animal"]
    assert prov["params"]["look"] == "sketch" and len(prov["params"]["shots"]) == 3
    info = probe(made.media_path)
    assert abs(info.duration - 6.0) < 0.2 and (info.width, info.height) == (128, 224) and info.has_audio
    with av.open(str(made.media_path)) as c:
        assert c.streams.video[0].codec_context.name == "h264"
        frames = [f.to_ndarray(format="rgb24") for f in c.decode(video=0)]
    assert len(frames) >= 60 and float(np.abs(frames[0].astype(int) - frames[-1].astype(int)).mean()) > 1.0  # it moves
    assert made.cover_path.is_file()
    # feedback on it is logged like any item's
    ws.interactions.add(Interaction(user, item.id, 1.0, Event.CLICK, source="create"))
    assert any(i.item_id == item.id for i in ws.interactions.for_user(user))


def test_the_same_request_gives_the_same_item_and_another_seed_another(creator_ws):
    ws = creator_ws
    user = first_user(ws)
    g = Guidance(mode="create", include=("food",))
    a = create(ws, user, guidance=g, n=2)
    b = create(ws, user, guidance=g, n=1)
    assert a[0].item.id == b[0].item.id and a[0].item.id != a[1].item.id
    assert b[0].notes == ["already created"]


def test_durations_follow_the_guidance(creator_ws):
    [made] = create(creator_ws, first_user(creator_ws), guidance=Guidance(mode="create", max_duration_s=3.0), n=1)
    assert abs(probe(made.media_path).duration - 3.0) < 0.2


@pytest.mark.parametrize("text, why", [
    ("make me a 0.1 second video of cats", "at least 1 s"),
    ("make me a 10 minute video of food", "at most 60 s"),
    ("make me a video with guns and gore", "blocked content"),
])  # fmt: skip
def test_impossible_or_blocked_requests_store_nothing(creator_ws, text, why):
    ws = creator_ws
    before = (ws.items.count(), ws.media.count())
    with pytest.raises(InputError, match=why):
        create(ws, first_user(ws), instruction=text, n=1)
    assert (ws.items.count(), ws.media.count()) == before


def test_unknown_users_and_bad_counts_are_refused(creator_ws):
    with pytest.raises(InputError, match="unknown user"):
        create(creator_ws, "nobody", guidance=Guidance(mode="create"))
    with pytest.raises(InputError, match="1 to 16"):
        create(creator_ws, first_user(creator_ws), guidance=Guidance(mode="create"), n=0)


def test_an_untrained_workspace_names_the_training_command(tiny_bench, tmp_path):
    import shutil

    from generec.workspace import Workspace

    shutil.copytree(tiny_bench[0], tmp_path / "ws")
    with Workspace.open(tmp_path / "ws") as ws:
        with pytest.raises(InputError, match="generec train --model creator"):
            create(ws, first_user(ws), guidance=Guidance(mode="create"))


def test_cannot_satisfy_is_raised_by_the_creator_itself(creator_ws):
    from generec.creator.creator import CreateConfig, duration_for

    with pytest.raises(CannotSatisfy):
        duration_for(Guidance(max_duration_s=0.5), CreateConfig())
    assert duration_for(Guidance(min_duration_s=20.0), CreateConfig()) == 20.0


def test_the_feed_serves_a_creation_when_activation_picks_create(creator_ws):
    from generec.instructor.config import InstructorConfig
    from generec.pipeline import GeneRec, GeneRecConfig

    ws = creator_ws
    user = first_user(ws)
    g = Guidance(mode="create", mode_explicit=True, include=("space",))
    result = GeneRec(ws, GeneRecConfig(InstructorConfig(create_n=2))).feed(user, 3, guidance=g)
    assert result.mode == "create" and len(result.creations) == 2
    assert [e.way for e in result.items[:2]] == ["create", "create"] and result.items[0].origin == "ai_created"
    assert any("2 new item(s) by the AI creator" in n for n in result.notes)
    # a request the creator cannot make falls back to retrieval, saying why
    bad = GeneRec(ws).feed(user, 3, guidance=Guidance(mode="create", max_duration_s=0.2))
    assert bad.creations == [] and any("at least 1 s" in n for n in bad.notes)
