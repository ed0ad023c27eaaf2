"""safety: blocked requests, NudeNet, the ImageNet weapon classes and the zero-shot bridge, on real photos."""

from __future__ import annotations


import cv2
import numpy as np
import pytest

from generec.errors import InputError
from generec.fidelity.safety import (BLOCKED, NUDENET_EXPOSED, SafetyCheck, SafetyConfig, blocked_terms, detect_nudity,
                                     instruction_safety, refuse_blocked)  # fmt: skip
from generec.fidelity.types import FAIL, PASS, SKIP, Candidate
from helpers import photo, shot_frames

CLEAN = ("chelsea", "coffee", "astronaut", "rocket")


def created(cover: np.ndarray | None = None, video=None, instruction: str | None = None) -> Candidate:
    return Candidate("create", "create", "a new video", ["ai"], video=video, cover=cover, instruction=instruction)


def crop(name: str) -> np.ndarray:
    return shot_frames(photo(name), 1, 128, 224)[0]


# --- the blocked words of a request ---------------------------------------------------------------


@pytest.mark.parametrize("text, hits", [
    ("make me a gun video", ["gun"]),
    ("Guns please", ["gun"]),
    ("a gunny sack", []),
    ("cats", []),
    ("a shotgun wedding", []),
    ("BLOOD, gore and weapons", ["blood", "gore", "weapon"]),
    ("nudities", ["nudity"]),
    ("", []),
])  # fmt: skip
def test_blocked_terms_match_whole_words_singular_or_plural(text, hits):
    assert blocked_terms(text) == hits


def test_blocked_terms_read_a_guidance_text_and_include():
    from generec.instructor.guidance import Guidance

    assert blocked_terms(Guidance(text="something calm", include=("guns",))) == ["gun"]
    assert blocked_terms(Guidance(text="my cats", include=("kitten",))) == []
    assert blocked_terms("a red sword", ("sword", "red wine")) == ["sword"]
    assert blocked_terms("two red wines", ("red wine",)) == ["red wine"]


def test_instruction_safety_and_refuse_blocked():
    from generec.editor.base import CannotSatisfy

    assert instruction_safety(None) == [] and instruction_safety("kittens playing") == []
    assert instruction_safety("video with blood and gore") == ["blood", "gore"]
    refuse_blocked("kittens playing")  # nothing to refuse: returns None
    with pytest.raises(InputError, match=r"^the instruction asks for blocked content \(gun\); nothing was made$"):
        refuse_blocked("make me a gun video")
    with pytest.raises(CannotSatisfy, match=r"\(gore\); nothing was created"):
        refuse_blocked("gore", outcome="nothing was created", error=CannotSatisfy)
    with pytest.raises(InputError, match="expected a text or a Guidance"):
        blocked_terms(42)


def test_creator_uses_the_shared_blocked_words():
    import generec.creator.creator as creator

    assert creator.BLOCKED is BLOCKED and creator.blocked_terms is blocked_terms
    assert creator.CreateConfig().blocked == BLOCKED
    # the creator refuses before it touches its context, generator or frames
    from generec.editor.base import CannotSatisfy
    from generec.instructor.guidance import Guidance

    with pytest.raises(CannotSatisfy, match=r"blocked content \(gun\); nothing was created"):
        creator.Creator(None, None, None)(Guidance(mode="create", text="Guns at dawn"), 1)


# --- the check ------------------------------------------------------------------------------------


def test_a_blocked_instruction_fails(pixels):
    result = SafetyCheck()(created(instruction="video with blood and gore"), pixels.context)
    assert result.verdict == FAIL and result.score == 0.0 and result.fix is None
    assert result.evidence["instruction_terms"] == ["blood", "gore"]
    assert "blocked content (blood, gore)" in result.evidence["reason"]
    # a blocked instruction fails even when the pixels are clean
    result = SafetyCheck()(created(cover=photo("chelsea"), instruction="a gun"), pixels.context)
    assert result.verdict == FAIL and result.evidence["risks"]["nudity"] == 0.0


def test_nothing_to_look_at_skips(pixels):
    result = SafetyCheck()(created(), pixels.context)
    assert result.verdict == SKIP and result.score == 1.0 and "nothing to look at" in result.evidence["reason"]


@pytest.mark.parametrize("name", CLEAN)
def test_clean_photos_pass(pixels, name):
    check = SafetyCheck(SafetyConfig(bridge=True))
    for image in (photo(name), crop(name)):
        result = check(created(cover=image, instruction="a calm video of my cat"), pixels.context)
        assert result.verdict == PASS, result.evidence
        assert result.score > 0.6
        row = result.evidence["images"][0]
        assert row["nudity"] == [] and row["imagenet_mass"] < 0.05 and row["bridge_margin"] < 0.0


def test_a_clean_video_passes_and_its_frames_are_looked_at(pixels):
    frames = pixels.shots([("chelsea", 1.0), ("coffee", 1.0), ("astronaut", 1.0), ("rocket", 1.0)])
    candidate = created(cover=frames[0], video=pixels.video("clean", frames))
    result = SafetyCheck()(candidate, pixels.context)
    assert result.verdict == PASS, result.evidence
    labels = [row["image"] for row in result.evidence["images"]]
    assert labels[0] == "cover" and len(labels) == 5 and all(x.startswith("frame@") for x in labels[1:])
    assert SafetyCheck(SafetyConfig(frames=0))(candidate, pixels.context).evidence["images"][0]["image"] == "cover"


def test_nudenet_runs_for_real():
    # the shipped 320n model finds the astronaut's face, not a blocked class; nothing on the cat
    found = detect_nudity([photo("astronaut"), photo("chelsea"), crop("astronaut")])
    assert [d["class"] for d in found[0]] == ["FACE_FEMALE"] and found[0][0]["score"] > 0.5
    assert found[1] == [] and [d["class"] for d in found[2]] == ["FACE_FEMALE"]
    assert not any(d["class"] in NUDENET_EXPOSED for f in found for d in f)


def test_the_nudity_path_is_live(pixels):
    # a class NudeNet detects on astronaut, made blocked at threshold 0: the check must fail on it
    config = SafetyConfig(nudity_threshold=0.0, nudity_classes=(*NUDENET_EXPOSED, "FACE_FEMALE"))
    result = SafetyCheck(config)(created(cover=photo("astronaut")), pixels.context)
    assert result.verdict == FAIL and "nudity: FACE_FEMALE" in result.evidence["reason"]
    assert result.evidence["images"][0]["nudity"][0]["class"] == "FACE_FEMALE"
    assert result.score == pytest.approx(1 - result.evidence["risks"]["nudity"])
    assert SafetyCheck()(created(cover=photo("astronaut")), pixels.context).verdict == PASS


def test_the_imagenet_path_is_live_and_a_space_rocket_is_not_a_weapon(pixels):
    # ImageNet reads the launch-pad photo as missile + projectile (~0.34): blocked only when asked
    candidate = created(cover=photo("rocket"))
    result = SafetyCheck(SafetyConfig(imagenet_blocked=("missile", "projectile")))(candidate, pixels.context)
    assert result.verdict == FAIL and "weapons: ImageNet mass" in result.evidence["reason"]
    assert result.evidence["images"][0]["top_blocked_class"][0] == "missile"
    default = SafetyCheck()(candidate, pixels.context)
    assert default.verdict == PASS and default.evidence["images"][0]["imagenet_mass"] < 0.05
    with pytest.raises(InputError, match="unknown ImageNet class"):
        SafetyCheck(SafetyConfig(imagenet_blocked=("bazooka",)))(candidate, pixels.context)


def test_the_bridge_path_is_live(pixels):
    config = SafetyConfig(bridge=True, bridge_margin=-1.0)  # any blocked concept "wins": must fail
    result = SafetyCheck(config)(created(cover=photo("coffee")), pixels.context)
    assert result.verdict == FAIL and "concepts:" in result.evidence["reason"]
    assert "bridge_margin" not in SafetyCheck()(created(cover=photo("coffee")), pixels.context).evidence["images"][0]


def test_a_clean_cover_and_four_video_frames_are_all_looked_at(pixels):
    frames = pixels.shots([("chelsea", 2.0), ("rocket", 2.0)])
    candidate = created(cover=cv2.resize(photo("astronaut"), (128, 224)), video=pixels.video("quick", frames))
    check = SafetyCheck()
    result = check(candidate, pixels.context)
    assert result.verdict == PASS and len(result.evidence["images"]) == 5


@pytest.mark.parametrize("changes, message", [
    ({"nudity_threshold": 1.5}, "nudity_threshold"),
    ({"imagenet_mass": -0.1}, "imagenet_mass"),
    ({"frames": -1}, "frames"),
    ({"frames": 2.5}, "frames"),
    ({"bridge_margin": 5.0}, "bridge_margin"),
    ({"nudity_classes": ("NAKED",)}, "unknown NudeNet class"),
    ({"blocked": "gun"}, "blocked must be a list"),
    ({"blocked_concepts": ("",)}, "blocked_concepts"),
    ({"bridge": True, "benign_references": ()}, "benign_references"),
])  # fmt: skip
def test_config_validation(changes, message):
    with pytest.raises(InputError, match=message):
        SafetyConfig(**changes)


def test_policy_reads_a_safety_section():
    from generec.fidelity.policy import Policy

    section = {"imagenet_mass": 0.5, "nudity_classes": ["ANUS_EXPOSED"], "bridge": True}
    policy = Policy.from_dict({"checks": {"safety": section}})
    config = next(c.config for c in policy.checks if c.name == "safety")
    assert config == SafetyConfig(imagenet_mass=0.5, nudity_classes=("ANUS_EXPOSED",), bridge=True)
