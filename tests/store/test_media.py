import hashlib

import pytest

from generec.store.media import MediaStore


def test_content_addressed_and_deduplicated(tmp_path):
    store = MediaStore(tmp_path / "media")
    d1 = store.put_bytes(b"hello", "image/png")
    d2 = store.put_bytes(b"hello", "image/png")
    assert d1 == d2 == hashlib.sha256(b"hello").hexdigest()
    assert store.path(d1, "image/png").read_bytes() == b"hello"
    assert store.path(d1, "image/png").parent.name == d1[:2]
    assert store.count() == 1
    assert not list((tmp_path / "media").rglob(".tmp-*"))


def test_put_file(tmp_path):
    src = tmp_path / "clip.mp4"
    src.write_bytes(b"\x00" * 10_000)
    store = MediaStore(tmp_path / "media")
    digest, mime = store.put_file(src)
    assert mime == "video/mp4"
    assert store.path(digest, mime).suffix == ".mp4"


def test_staging_removes_new_files_on_failure(tmp_path):
    store = MediaStore(tmp_path / "media")
    kept = store.put_bytes(b"kept", "image/png")
    with pytest.raises(RuntimeError):
        with store.staging():
            store.put_bytes(b"new", "image/png")
            store.put_bytes(b"kept", "image/png")  # already stored: must survive the rollback
            raise RuntimeError
    assert store.count() == 1
    assert store.exists(kept, "image/png")
