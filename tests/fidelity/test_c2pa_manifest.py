"""Signed C2PA manifests: real MP4 / PNG / JPEG files signed with real workspace keys, read back,
checked against another workspace's root, tampered with, forged and stripped."""

from __future__ import annotations

import json
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import pytest
from PIL import Image

import generec
from generec.errors import InputError
from generec.fidelity.c2pa_manifest import SOURCE_TYPES, manifest_definition, read_manifest, sign_file
from generec.fidelity.keys import Keys, init_keys, load_keys
from generec.instructor.guidance import Guidance
from generec.media.encode import write_mp4
from helpers import gradient_frames

MIME = {"generec.mp4": "video/mp4", "pyav.mp4": "video/mp4", "cover.png": "image/png", "cover.jpg": "image/jpeg"}
EMAIL, PHONE = "jane.doe@example.com", "+44 20 7946 0958"


@pytest.fixture(scope="module")
def keys(tmp_path_factory: pytest.TempPathFactory) -> Keys:
    root = tmp_path_factory.mktemp("ws")
    init_keys(root)
    return load_keys(root)


@pytest.fixture(scope="module")
def other_keys(tmp_path_factory: pytest.TempPathFactory) -> Keys:
    root = tmp_path_factory.mktemp("other_ws")
    init_keys(root)
    return load_keys(root)


def _pyav_mp4(path: Path, frames: list[np.ndarray], fps: int = 10) -> Path:
    """An MP4 written by plain PyAV (moov after mdat, no faststart): not generec's writer."""
    with av.open(str(path), "w") as out:
        stream = out.add_stream("libx264", rate=fps)
        stream.height, stream.width = frames[0].shape[:2]
        stream.pix_fmt = "yuv420p"
        for i, arr in enumerate(frames):
            frame = av.VideoFrame.from_ndarray(arr, format="rgb24")
            frame.pts, frame.time_base = i, Fraction(1, fps)
            out.mux(stream.encode(frame))
        out.mux(stream.encode(None))
    return path


@pytest.fixture(scope="module")
def media(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """One tiny unsigned file of each kind an AI op writes."""
    d = tmp_path_factory.mktemp("media")
    frames = gradient_frames(12, 64, 48)
    write_mp4(d / "generec.mp4", frames, fps=10)
    _pyav_mp4(d / "pyav.mp4", frames)
    Image.fromarray(frames[5]).save(d / "cover.png")
    Image.fromarray(frames[5]).save(d / "cover.jpg", quality=90)
    return {name: d / name for name in MIME}


def _definition(name: str, action: str = "created", **changes) -> dict:
    parent = {"id": "v_parent", "title": "a cat on a sofa", "media_hash": "ab" * 32} if action == "edited" else None
    kw = {"title": "cats, remixed", "action": action, "op": "create" if action == "created" else "cover",
          "item_id": "ai_0042", "watermark_id": 123456, "parent": parent,
          "guidance": {"include": ["cat"], "text": "more cats"}, "model": "creator-toy", "checkpoint": "ckpt_7f3a",
          "seed": 7, "mime": MIME[name]}  # fmt: skip
    return manifest_definition(**{**kw, **changes})


def _signed(media: dict[str, Path], keys: Keys, tmp_path: Path, name: str, action: str = "created", **changes) -> Path:
    dst = tmp_path / f"signed_{name}"
    result = sign_file(media[name], dst, MIME[name], _definition(name, action, **changes), keys)
    assert result.path == dst and result.manifest_bytes > 0
    return dst


def _flip(data: bytes, at: int, n: int = 4) -> bytes:
    out = bytearray(data)
    out[at : at + n] = bytes(b ^ 0xFF for b in out[at : at + n])
    return bytes(out)


def _media_span(data: bytes, mime: str) -> tuple[int, int]:
    """(start, end) of the coded pixels: the MP4 mdat box, the PNG IDAT chunk, the JPEG scan."""
    if mime == "video/mp4":
        pos = 0
        while pos < len(data):
            size, kind = int.from_bytes(data[pos : pos + 4], "big"), data[pos + 4 : pos + 8]
            if kind == b"mdat":
                return pos + 8, pos + size
            pos += size
    elif mime == "image/png":
        pos = 8
        while pos < len(data):
            size, kind = int.from_bytes(data[pos : pos + 4], "big"), data[pos + 4 : pos + 8]
            if kind == b"IDAT":
                return pos + 8, pos + 8 + size
            pos += 12 + size
    else:
        return data.rindex(b"\xff\xda") + 16, data.rindex(b"\xff\xd9")
    raise AssertionError(f"no media data found in the {mime} file")


# -- signing and reading back -----------------------------------------------------------------------


@pytest.mark.parametrize("name", list(MIME))
def test_created_file_reads_trusted(media, keys, tmp_path, name):
    signed = _signed(media, keys, tmp_path, name)
    reading = read_manifest(signed, keys.root_pem)

    assert reading.state == "trusted", reading.message
    assert reading.claim_generator == f"generec {generec.__version__}"
    assert reading.action == "c2pa.created"
    assert reading.digital_source_type == SOURCE_TYPES["created"]
    assert reading.digital_source_type.endswith("/trainedAlgorithmicMedia")
    assert reading.generec["item_id"] == "ai_0042" and reading.generec["watermark_id"] == 123456
    assert reading.generec["op"] == "create" and reading.generec["seed"] == 7
    assert reading.ingredients == []
    assert reading.trust_root == keys.fingerprint
    assert "O=generec workspace" in reading.signer
    assert reading.codes["failure"] == [] and "claimSignature.validated" in reading.codes["success"]
    json.dumps(reading.to_dict())  # serialisable as is


@pytest.mark.parametrize("name", ["generec.mp4", "cover.png"])
def test_edited_file_names_its_parent(media, keys, tmp_path, name):
    reading = read_manifest(_signed(media, keys, tmp_path, name, action="edited"), keys.root_pem)

    assert reading.state == "trusted", reading.message
    assert reading.action == "c2pa.edited"
    assert reading.digital_source_type.endswith("/compositeWithTrainedAlgorithmicMedia")
    assert reading.ingredients == [{"title": "a cat on a sofa", "relationship": "parentOf", "id": "v_parent"}]
    assert reading.generec["parent"] == {"id": "v_parent", "title": "a cat on a sofa", "media_hash": "ab" * 32}


def test_signing_leaves_the_source_and_no_temporary_file(media, keys, tmp_path):
    before = media["cover.png"].read_bytes()
    signed = _signed(media, keys, tmp_path, "cover.png")
    assert media["cover.png"].read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == [signed.name]
    assert read_manifest(media["cover.png"], keys.root_pem).state == "absent"


# -- trust ---------------------------------------------------------------------------------------------


def test_another_workspaces_root_reads_valid_not_trusted(media, keys, other_keys, tmp_path):
    signed = _signed(media, keys, tmp_path, "generec.mp4")

    foreign = read_manifest(signed, other_keys.root_pem)
    assert foreign.state == "valid" and "another signer" in foreign.message
    assert foreign.codes["failure"] == ["signingCredential.untrusted"]
    assert foreign.generec["item_id"] == "ai_0042"  # still readable

    # trust settings do not leak from one call to the next
    assert read_manifest(signed, keys.root_pem).state == "trusted"
    assert read_manifest(signed, None).state == "valid"
    assert read_manifest(signed, other_keys.root_pem).state == "valid"


# -- tampering, forgery, stripping ------------------------------------------------------------------


@pytest.mark.parametrize("name", list(MIME))
def test_changed_media_data_reads_tampered(media, keys, tmp_path, name):
    signed = _signed(media, keys, tmp_path, name)
    data = signed.read_bytes()
    start, end = _media_span(data, MIME[name])
    signed.write_bytes(_flip(data, (start + end) // 2))

    reading = read_manifest(signed, keys.root_pem)
    assert reading.state == "tampered", reading.message
    assert "media data changed" in reading.message
    assert any(code.endswith("Hash.mismatch") for code in reading.codes["failure"])


@pytest.mark.parametrize("name", ["pyav.mp4", "cover.jpg"])
def test_edited_manifest_reads_tampered(media, keys, tmp_path, name):
    signed = _signed(media, keys, tmp_path, name)
    data = signed.read_bytes()
    assert data.count(b"ai_0042") == 1
    signed.write_bytes(data.replace(b"ai_0042", b"ai_9999"))  # a forged item id, same length

    reading = read_manifest(signed, keys.root_pem)
    assert reading.state == "tampered" and "altered or forged" in reading.message


def test_unparsable_manifest_reads_tampered(media, keys, tmp_path):
    signed = _signed(media, keys, tmp_path, "cover.png")
    data = signed.read_bytes()
    signed.write_bytes(_flip(data, data.index(b"jumb") + 4, 8))  # the manifest store's description box

    reading = read_manifest(signed, keys.root_pem)
    assert reading.state == "tampered" and "cannot be read" in reading.message


def test_reencoded_mp4_reads_absent(media, keys, tmp_path):
    signed = _signed(media, keys, tmp_path, "generec.mp4")
    with av.open(str(signed)) as src:
        frames = [f.to_ndarray(format="rgb24") for f in src.decode(video=0)]
    reencoded = _pyav_mp4(tmp_path / "reencoded.mp4", frames)

    reading = read_manifest(reencoded, keys.root_pem)
    assert reading.state == "absent" and "no C2PA manifest" in reading.message
    assert reading.generec is None


# -- personal data -------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["generec.mp4", "cover.jpg"])
def test_pii_in_guidance_is_not_in_the_signed_file(media, keys, tmp_path, name):
    guidance = {"text": f"cats please, mail me at {EMAIL} or call {PHONE}", "include": ["cat", f"note {EMAIL}"],
                "notes": [{"raw": f"call {PHONE}"}], "vector": [0.25] * 8}  # fmt: skip
    signed = _signed(media, keys, tmp_path, name, action="edited", guidance=guidance, title=f"cats for {EMAIL}")
    data = signed.read_bytes()
    reading = read_manifest(signed, keys.root_pem)

    assert reading.state == "trusted", reading.message
    text = json.dumps(reading.to_dict())
    for secret in (EMAIL, PHONE, "jane.doe", "7946"):
        assert secret.encode() not in data and secret not in text
    assert reading.generec["guidance"]["text"] == "cats please, mail me at [email] or call [phone]"
    assert "vector" not in reading.generec["guidance"]  # the user's taste vector is never published


def test_guidance_object_is_redacted_too():
    guidance = Guidance(text=f"cats for {EMAIL}", include=("cat",), vector=(0.6, 0.8))
    data = _definition("cover.png", guidance=guidance)["assertions"][1]["data"]["guidance"]
    assert data["text"] == "cats for [email]" and data["include"] == ["cat"] and "vector" not in data


# -- bad input -----------------------------------------------------------------------------------------


def test_bad_input_is_refused(media, keys, tmp_path):
    definition = _definition("cover.png")
    with pytest.raises(InputError, match="cannot sign 'image/gif'"):
        sign_file(media["cover.png"], tmp_path / "x.gif", "image/gif", definition, keys)
    with pytest.raises(InputError, match="no such file"):
        sign_file(tmp_path / "missing.png", tmp_path / "x.png", "image/png", definition, keys)
    with pytest.raises(InputError, match="action"):
        _definition("cover.png", action="remixed")
    with pytest.raises(InputError, match="parent"):
        _definition("cover.png", action="edited", parent=None)
    with pytest.raises(InputError, match="no such file"):
        read_manifest(tmp_path / "missing.mp4", keys.root_pem)
    (tmp_path / "notes.txt").write_text("not a media file")
    with pytest.raises(InputError, match="carries a C2PA manifest"):
        read_manifest(tmp_path / "notes.txt", keys.root_pem)
    assert not list(tmp_path.glob("x.*")) and not list(tmp_path.glob(".x.*"))
