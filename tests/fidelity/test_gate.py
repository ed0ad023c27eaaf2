"""The gate in the pipeline: every edit is checked, watermarked and signed before it is stored;
blocked edits are not stored, flagged ones wait for review; `verify` names the item from its file."""

import shutil

import pytest

from generec.errors import InputError
from generec.evaluation.watermark_robustness import pyav_reencode
from generec.fidelity.c2pa_manifest import read_manifest
from generec.fidelity.gate import FidelityBlocked, servable
from generec.fidelity.keys import init_keys, load_keys
from generec.fidelity.policy import Policy
from generec.fidelity.review import check_item, decide, queue
from generec.fidelity.verify import verify_file
from generec.fidelity.watermark import Watermarker
from generec.media.decode import decode_frames
from generec.media.encode import write_mp4
from generec.pipeline import edit
from generec.types import Origin
from generec.workspace import Workspace
from helpers import snapshot

pytest_plugins = ["editor.conftest"]

CHECKS = {"safety", "privacy", "originality", "authenticity", "quality"}


def stored(ws):
    """The workspace's files but its reports (a blocked edit's report is kept there for the record)
    and what is derived and fitted on first use (frame features, catalogue statistics, heads)."""
    return {k: v for k, v in snapshot(ws.root).items() if not k.startswith(("reports", "features/", "models/"))}


def test_an_edit_carries_a_report_a_watermark_and_a_signed_manifest(catalogue):
    result = edit(catalogue, "cover", "animal_lover0", "m_food_cat")
    item = catalogue.items.get(result.item.id)
    assert item.fidelity["decision"] in ("serve", "flag")
    assert {c["check"] for c in item.fidelity["checks"]} == CHECKS
    assert item.fidelity["marks"]["c2pa"] and item.watermark_id == item.fidelity["marks"]["watermark_id"]
    keys = load_keys(catalogue.root)
    reading = read_manifest(result.cover_path, keys.root_pem)
    assert reading.state == "trusted" and reading.action == "c2pa.edited"
    assert reading.generec["item_id"] == item.id and reading.ingredients[0]["id"] == "m_food_cat"
    assert Watermarker(keys.watermark_key).detect_file(result.cover_path).watermark_id == int(item.watermark_id, 16)
    v = verify_file(catalogue, result.cover_path)
    assert v.status == "identified" and v.item.id == item.id and v.parent.id == "m_food_cat"
    # checking it again changes nothing stored
    before = snapshot(catalogue.root)
    again = check_item(catalogue, item.id)
    assert {r.check for r in again.results} == CHECKS
    assert snapshot(catalogue.root) == before


def test_a_restyled_video_is_identified_by_its_watermark_after_a_crf28_reencode(pixels_root, tmp_path):
    """On a copy of the portrait (128x224, the benchmark's size) catalogue; the re-encode is plain
    PyAV's libx264 at CRF 28, which strips the manifest."""
    shutil.copytree(pixels_root, tmp_path / "ws")
    ws = Workspace.open(tmp_path / "ws")
    result = edit(ws, "style", "animal_lover0", "cat_rocket", instruction="in vintage style")
    assert read_manifest(result.media_path, load_keys(ws.root).root_pem).state == "trusted"
    copy = tmp_path / "reupload.mp4"
    frames = pyav_reencode(decode_frames(result.media_path).images, 28)
    write_mp4(copy, frames, 10, crf=18)  # what a re-upload keeps of it, in a file
    v = verify_file(ws, copy)
    assert v.manifest["state"] == "absent"
    assert v.status == "identified" and v.item.id == result.item.id and v.parent.id == "cat_rocket", v.message
    ws.close()


def test_a_file_changed_after_signing_or_signed_elsewhere_is_not_identified(catalogue, tmp_path):
    result = edit(catalogue, "cover", "animal_lover0", "m_food_cat")
    data = bytearray(result.cover_path.read_bytes())
    idat = data.find(b"IDAT")
    data[idat + 40] ^= 0xFF
    tampered = tmp_path / "tampered.png"
    tampered.write_bytes(bytes(data))
    assert verify_file(catalogue, tampered).status == "tampered"
    other = Workspace.open(tmp_path / "other", create=True)
    init_keys(other.root)
    v = verify_file(other, result.cover_path)
    assert v.status in ("foreign", "unknown-watermark") and not v.ok  # another signer; its watermark key differs too
    other.close()


def test_a_blocking_policy_stores_nothing(catalogue):
    (catalogue.root / "policy.toml").write_text('[checks.quality]\naction = "block"\nmax_sharpness_drop = -5.0\n')
    before = stored(catalogue)
    with pytest.raises(FidelityBlocked, match="quality"):
        edit(catalogue, "cover", "animal_lover0", "m_food_cat")
    assert stored(catalogue) == before
    assert list((catalogue.root / "reports" / "fidelity").glob("blocked-*.json"))


def test_a_flagged_edit_waits_for_review_and_a_reviewer_can_block_it(catalogue):
    (catalogue.root / "policy.toml").write_text('[checks.quality]\naction = "flag"\nmax_sharpness_drop = -5.0\n')
    result = edit(catalogue, "cover", "animal_lover0", "m_food_cat")
    item = catalogue.items.get(result.item.id)
    assert item.fidelity["decision"] == "flag" and item.fidelity["review"] == "pending" and servable(item)
    assert [i.id for i in queue(catalogue)] == [item.id]
    blocked = decide(catalogue, item.id, "block", note="misleading")
    assert blocked.fidelity["review"] == "blocked" and not servable(blocked)
    assert queue(catalogue) == []
    with pytest.raises(InputError, match="not waiting for review"):
        decide(catalogue, item.id, "approve")
    with pytest.raises(InputError, match="human-made"):
        decide(catalogue, "m_food_cat", "block")
    assert all(servable(i) for i in catalogue.items.all(origin=Origin.HUMAN))


@pytest.mark.parametrize(
    "text, match",
    [
        ('[checks.vibes]\naction = "block"\n', "unknown check"),
        ('[checks.quality]\naction = "explode"\n', "action must be one of"),
        ('[checks.quality]\nmin_lumen = 3.0\n', "unknown key"),
        ("[feed]\nmax_ai_share = 2.0\n", "max_ai_share"),
        ("[checks.quality\n", "not valid TOML"),
        ("[extras]\n", "unknown section"),
    ],
)
def test_a_bad_policy_file_is_refused_by_name(tmp_path, text, match):
    path = tmp_path / "policy.toml"
    path.write_text(text)
    with pytest.raises(InputError, match=match):
        Policy.load(path)


def test_the_default_policy_runs_every_check_with_its_documented_action():
    policy = Policy.default()
    assert {c.name: c.action for c in policy.checks} == {"safety": "block", "privacy": "fix", "originality": "block", "authenticity": "flag", "quality": "flag"}


def test_an_edit_asking_for_blocked_content_is_refused_before_anything_is_made(catalogue):
    before = stored(catalogue)
    with pytest.raises(InputError, match=r"blocked content \(gun\); nothing was made"):
        edit(catalogue, "style", "animal_lover0", "m_food_cat", instruction="restyle it with guns everywhere")
    assert stored(catalogue) == before
