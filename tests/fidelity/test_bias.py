from generec.fidelity.bias import BiasConfig, FeedBias, FeedView
from generec.types import Item, Kind, Origin


def human(i: str, uploader: str, tags=("cat",)) -> Item:
    return Item(i, Kind.VIDEO, tags=list(tags), uploader=uploader)


def edited(parent: Item, look: str = "sketch") -> Item:
    return Item(f"{parent.id}~cover", Kind.VIDEO, tags=list(parent.tags), origin=Origin.AI_EDITED, parent_id=parent.id,
                uploader=parent.uploader, provenance={"params": {"look": look}})  # fmt: skip


def created(i: str, look: str = "sketch") -> Item:
    return Item(i, Kind.VIDEO, tags=["cat", "ai-created"], origin=Origin.AI_CREATED, uploader="generec-creator", provenance={"params": {"look": look}})


BASE = [human(f"h{i}", f"u{i % 5}", tags=(("cat", "dog", "food", "car", "sea")[i % 5],)) for i in range(10)]


def view(items, **kw) -> FeedView:
    parents = {it.parent_id: next(b for b in BASE if b.id == it.parent_id) for it in items if it.parent_id}
    return FeedView(items, BASE, parents=parents, **kw)


def test_a_feed_of_human_items_passes():
    assert FeedBias()(view(BASE[:6])).verdict == "pass"


def test_an_edit_in_its_parents_place_passes_and_counts_for_the_parents_uploader():
    items = [edited(BASE[0]), *BASE[1:6]]
    result = FeedBias()(view(items))
    assert result.verdict == "pass"
    assert result.evidence["uploader_gains"] == {}


def test_too_many_created_items_fail_and_rebalance_keeps_the_length():
    items = [created(f"c{i}", look=("sketch", "noir", "warm")[i % 3]) for i in range(4)] + BASE[:6]
    check = FeedBias(BiasConfig(max_created_share=0.2))
    result = check(view(items))
    assert result.verdict == "fail"
    assert len(result.evidence["drop"]) == 2  # 4 created in 10, at most 2
    fixed = check.rebalance(view(items))
    assert len(fixed) == 10
    assert sum(it.origin == Origin.AI_CREATED for it in fixed) == 2
    assert check(view(fixed)).verdict == "pass"


def test_an_ai_variant_that_takes_another_uploaders_slot_fails_unless_asked_for():
    outsider = human("x9", "u1")  # u1's second video, not in the baseline's top 6 (h0..h5)
    BASE.append(outsider)
    try:
        items = [edited(outsider), *BASE[:5]]  # u1: h1 + x9's edit = 2 slots against 1; u0 lost h5's slot
        result = FeedBias()(view(items))
        assert result.verdict == "fail"
        assert result.evidence["uploader_gains"] == {"u1": 1}
        assert FeedBias()(view(items, requested={"x9"})).verdict == "pass"
    finally:
        BASE.remove(outsider)


def test_ai_items_collapsing_into_one_look_fail_unless_that_look_was_asked_for():
    items = [edited(b, look="sketch") for b in BASE[:4]] + BASE[4:8]
    check = FeedBias(BiasConfig(max_ai_share=0.6))
    result = check(view(items))
    assert result.verdict == "fail" and result.evidence["top_look"] == "sketch"
    assert check(view(items, requested_look="sketch")).verdict == "pass"


def test_a_feed_narrower_than_the_users_history_fails():
    history = BASE[:10]  # five concepts, evenly
    items = [created(f"c{i}") for i in range(2)] + [h for h in BASE if h.tags == ["cat"]] * 2
    result = FeedBias(BiasConfig(max_ai_share=1.0, max_created_share=1.0))(view(items, history=history))
    assert result.verdict == "fail" and result.evidence["concept_collapse"]
    assert FeedBias(BiasConfig(max_ai_share=1.0, max_created_share=1.0))(view(items, history=history, requested_concepts=True)).verdict == "pass"


def test_created_items_the_user_asked_the_creator_for_do_not_count_against_the_caps():
    items = [created("c0", "sketch"), created("c1", "noir"), *BASE[:1]]
    assert FeedBias()(view(items)).verdict == "fail"  # 2 created in 3: over 0.3
    assert FeedBias()(view(items, requested_creations=True)).verdict == "pass"


def test_an_ai_item_no_human_item_can_replace_stays():
    lone = edited(BASE[0])
    check = FeedBias()
    only = FeedView([lone], [], parents={BASE[0].id: BASE[0]})
    assert check(only).verdict == "fail"  # all AI
    assert [it.id for it in check.rebalance(only)] == [lone.id]
