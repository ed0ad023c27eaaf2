import sqlite3

import pytest

from generec.types import Event, Instruction, Interaction, Item, Kind, Media, Origin, User


def test_item_round_trip(workspace):
    item = Item(
        id="v1", kind=Kind.VIDEO, title="Cats", text="Cats at home", tags=["cat", "pets"],
        media=Media("ab" * 32, "video/mp4", 4.0, 10.0, 128, 224, True),
        cover=Media("cd" * 32, "image/png"), uploader="c1", created_at=5.0,
    )  # fmt: skip
    workspace.items.add(item)
    edited = Item(id="v1-e", kind=Kind.VIDEO, origin=Origin.AI_EDITED, parent_id="v1", provenance={"op": "clip", "user": "u1"})
    workspace.items.add(edited)
    assert workspace.items.get("v1") == item
    assert workspace.items.get("v1-e").provenance == {"op": "clip", "user": "u1"}
    assert workspace.items.get("nope") is None
    assert workspace.items.counts() == {"kind": {"video": 2}, "origin": {"ai_edited": 1, "human": 1}}


def test_ai_items_must_carry_provenance(workspace):
    with pytest.raises(sqlite3.IntegrityError):
        workspace.items.add(Item(id="x", kind=Kind.IMAGE, origin=Origin.AI_CREATED))


def test_interactions_need_known_user_and_item(workspace):
    workspace.users.add_many([User("u1")])
    workspace.items.add(Item(id="i1", kind=Kind.TEXT))
    workspace.interactions.add(Interaction("u1", "i1", 1.0, Event.WATCH, 0.5, "log"))
    with pytest.raises(sqlite3.IntegrityError):
        workspace.interactions.add(Interaction("ghost", "i1", 2.0, Event.CLICK))
    frame = workspace.interactions.frame()
    assert list(frame.columns) == ["user_id", "item_id", "ts", "event", "value", "source"]
    assert frame.iloc[0].to_dict() == {"user_id": "u1", "item_id": "i1", "ts": 1.0, "event": "watch", "value": 0.5, "source": "log"}
    assert workspace.interactions.for_user("u1")[0].event is Event.WATCH


def test_instructions(workspace):
    workspace.users.add_many([User("u1")])
    workspace.instructions.add(Instruction("u1", "s1", 1.0, "more cats", {"mode": "retrieve"}))
    assert workspace.instructions.for_session("u1", "s1")[0].guidance == {"mode": "retrieve"}


def test_existing_handles_many_ids(workspace):
    workspace.items.add_many(Item(id=f"i{k}", kind=Kind.TEXT) for k in range(2000))
    assert workspace.items.existing([f"i{k}" for k in range(1990, 2010)]) == {f"i{k}" for k in range(1990, 2000)}
