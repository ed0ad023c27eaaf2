"""The repositories on both engines (the `workspace` fixture of tests/store/conftest.py)."""

import pytest

from generec.errors import InputError
from generec.types import Event, Instruction, Interaction, Item, Kind, Media, Origin, User
from helpers import db_snapshot


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
    with pytest.raises(workspace.db.IntegrityError):
        workspace.items.add(Item(id="x", kind=Kind.IMAGE, origin=Origin.AI_CREATED))


def test_interactions_need_known_user_and_item(workspace):
    workspace.users.add_many([User("u1")])
    workspace.items.add(Item(id="i1", kind=Kind.TEXT))
    workspace.interactions.add(Interaction("u1", "i1", 1.0, Event.WATCH, 0.5, "log"))
    with pytest.raises(workspace.db.IntegrityError):
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


def test_insertion_order_is_kept(workspace):
    ids = ["m", "b", "z", "a"]  # neither sorted nor hash order
    workspace.users.add_many([User(i) for i in ids])
    workspace.items.add_many(Item(id=i, kind=Kind.TEXT) for i in ids)
    workspace.items.add(Item(id="a-e", kind=Kind.TEXT, origin=Origin.AI_EDITED, parent_id="z", provenance={"op": "x"}))
    workspace.items.add(Item(id="0-e", kind=Kind.TEXT, origin=Origin.AI_EDITED, parent_id="z", provenance={"op": "y"}))
    assert workspace.users.ids() == ids and workspace.items.ids() == [*ids, "a-e", "0-e"]
    assert [i.id for i in workspace.items.all(Origin.AI_EDITED)] == ["a-e", "0-e"]
    assert [i.id for i in workspace.items.children("z")] == ["a-e", "0-e"]
    assert {k: [i.id for i in v] for k, v in workspace.items.children_of(["z", "m"]).items()} == {"z": ["a-e", "0-e"]}
    assert workspace.users.existing(["a", "q"]) == {"a"} and workspace.users.existing([f"x{k}" for k in range(1000)] + ["m"]) == {"m"}


def test_fidelity_reports_and_the_review_queue(workspace):
    workspace.items.add(Item(id="p", kind=Kind.TEXT))
    for i, report in enumerate([{"decision": "flag", "review": "pending"}, {"decision": "flag", "review": "done"}, {"decision": "pass"}, None]):
        workspace.items.add(Item(id=f"e{i}", kind=Kind.TEXT, origin=Origin.AI_EDITED, parent_id="p", provenance={"op": "x"}, fidelity=report))
    assert [i.id for i in workspace.items.review_queue()] == ["e0"]
    workspace.items.set_fidelity("e0", {"decision": "flag", "review": "approved", "note": "100% fine?"})
    assert workspace.items.review_queue() == [] and workspace.items.get("e0").fidelity["note"] == "100% fine?"
    assert sorted(workspace.items.decisions()) == [("ai_edited", "flag", 2), ("ai_edited", "none", 1), ("ai_edited", "pass", 1), ("human", "none", 1)]
    with pytest.raises(InputError, match="unknown item 'ghost'"):
        workspace.items.set_fidelity("ghost", {})


def test_the_log_by_row_id(workspace):
    workspace.users.add_many([User("u1"), User("u2")])
    workspace.items.add_many([Item(id="i1", kind=Kind.TEXT), Item(id="i2", kind=Kind.TEXT)])
    assert workspace.interactions.last_id() == 0 and workspace.interactions.frame().empty
    workspace.interactions.add_many([
        Interaction("u1", "i1", 5.0, Event.IMPRESSION), Interaction("u1", "i1", 6.0, Event.CLICK),
        Interaction("u2", "i2", 1.0, Event.LIKE), Interaction("u1", "i2", 2.0, Event.RATE, 4.0, "log"),
    ])  # fmt: skip
    first = workspace.interactions.last_id()
    assert [(i.item_id, i.event) for _, i in workspace.interactions.since("u1")] == [("i1", Event.CLICK), ("i2", Event.RATE)]
    assert workspace.interactions.add_once([Interaction("u1", "i2", 9.0, Event.SKIP, event_id="e1")] * 2) == (1, 1)
    assert workspace.interactions.add_once([Interaction("u2", "i1", 9.5, Event.LIKE, event_id="e1")]) == (1, 0)  # ids are per user
    rows = workspace.interactions.since("u1", first)
    assert [(r > first, i.event, i.event_id) for r, i in rows] == [(True, Event.SKIP, "e1")]
    assert [i.ts for i in workspace.interactions.for_user("u1")] == [2.0, 5.0, 6.0, 9.0]
    assert [i.ts for i in workspace.interactions.for_user("u1", feedback_only=True, last=2)] == [2.0, 9.0]  # by log order, then time
    assert workspace.interactions.counts() == {"impression": 1, "click": 1, "like": 2, "rate": 1, "skip": 1}
    frame = workspace.interactions.frame([Event.RATE, Event.LIKE])
    assert frame.iloc[1].to_dict() == {"user_id": "u1", "item_id": "i2", "ts": 2.0, "event": "rate", "value": 4.0, "source": "log"}
    assert frame.iloc[0][["value", "source"]].isna().all() and frame["ts"].dtype == frame["value"].dtype == "float64"


def test_a_rolled_back_multi_row_write_leaves_nothing(workspace):
    workspace.users.add_many([User("u0")])
    before = db_snapshot(workspace)
    with pytest.raises(workspace.db.IntegrityError):
        with workspace.db.transaction():
            workspace.users.add_many([User("u1"), User("u2")])
            workspace.items.add_many([Item(id="i1", kind=Kind.TEXT)])
            workspace.interactions.add_many([Interaction("u1", "i1", 1.0, Event.CLICK)] * 3)
            workspace.datasets.add("d", "test", {})
            workspace.interactions.add_many([Interaction("u1", "ghost", 2.0, Event.CLICK)])  # unknown item: all of it rolls back
    assert db_snapshot(workspace) == before
    with pytest.raises(workspace.db.IntegrityError):  # one call of many rows, the last one bad
        workspace.users.add_many([User("u3"), User("u4"), User("u0")])
    assert db_snapshot(workspace) == before
    workspace.users.add_many([User("u1")])  # the connection is usable after a rollback
    assert workspace.users.ids() == ["u0", "u1"]


def test_datasets_and_instructions(workspace):
    workspace.users.add_many([User("u1", 3.0, {"age": 30})])
    assert workspace.users.get("u1") == User("u1", 3.0, {"age": 30})
    workspace.datasets.add("d", "src", {"size": "tiny"}, {"kind": "temporal"})
    assert workspace.datasets.all() == [{"name": "d", "source": "src", "params": {"size": "tiny"}, "split": {"kind": "temporal"}}]
    workspace.instructions.add(Instruction("u1", "s", 2.0, "later", {}))
    workspace.instructions.add(Instruction("u1", "s", 1.0, "first, 50% off?", {"q": "?"}))
    assert [i.text for i in workspace.instructions.for_session("u1", "s")] == ["first, 50% off?", "later"]
    assert workspace.instructions.count() == 2
