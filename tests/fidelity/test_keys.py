"""Workspace signing keys: a real P-256 chain on disk, C2PA's certificate profile, safe modes."""

from __future__ import annotations

import datetime as dt
import stat
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from generec.errors import InputError
from generec.fidelity.keys import KeyPaths, ensure_keys, init_keys, load_keys

DOCUMENT_SIGNING = x509.ObjectIdentifier("1.3.6.1.5.5.7.3.36")


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_init_makes_the_chain_and_keys_with_private_modes(tmp_path: Path):
    paths = init_keys(tmp_path / "ws")
    assert paths == KeyPaths.under(tmp_path / "ws")
    assert sorted(p.name for p in paths.folder.iterdir()) == ["chain.pem", "root.pem", "signer.key", "watermark.key"]
    assert _mode(paths.signer_key) == 0o600 and _mode(paths.watermark_key) == 0o600
    assert _mode(paths.folder) == 0o700
    assert not [p for p in (tmp_path / "ws").iterdir() if p.name.startswith(".")]  # no temporary folder left

    keys = load_keys(tmp_path / "ws")
    assert len(keys.watermark_key) == 32
    assert len(keys.fingerprint) == 16
    assert "PRIVATE" not in repr(keys)


def test_chain_follows_the_c2pa_certificate_profile(tmp_path: Path):
    keys = ensure_keys(tmp_path / "ws")
    signer, intermediate = x509.load_pem_x509_certificates(keys.chain_pem)  # signer first, no root
    root = x509.load_pem_x509_certificate(keys.root_pem)

    # each one is issued by the next, up to the self-signed root
    signer.verify_directly_issued_by(intermediate)
    intermediate.verify_directly_issued_by(root)
    root.verify_directly_issued_by(root)

    for cert in (root, intermediate, signer):
        assert isinstance(cert.public_key(), ec.EllipticCurvePublicKey) and cert.public_key().curve.name == "secp256r1"
        assert cert.subject.get_attributes_for_oid(NameOID.ORGANIZATION_NAME)[0].value == "generec workspace"
        assert cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value.startswith("generec ")
        assert cert.not_valid_after_utc - cert.not_valid_before_utc > dt.timedelta(days=5 * 365)
    for ca in (root, intermediate):
        assert ca.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
        assert ca.extensions.get_extension_for_class(x509.KeyUsage).value.key_cert_sign

    assert not signer.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    usage = signer.extensions.get_extension_for_class(x509.KeyUsage)
    assert usage.critical and usage.value.digital_signature and not usage.value.key_cert_sign
    eku = signer.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    assert ExtendedKeyUsageOID.EMAIL_PROTECTION in eku and DOCUMENT_SIGNING in eku
    assert ExtendedKeyUsageOID.ANY_EXTENDED_KEY_USAGE not in eku


def test_init_refuses_to_overwrite_unless_forced(tmp_path: Path):
    ws = tmp_path / "ws"
    init_keys(ws)
    before = load_keys(ws)
    with pytest.raises(InputError, match=r"already exist in .*keys.*--force"):
        init_keys(ws)
    assert load_keys(ws) == before  # untouched

    init_keys(ws, force=True)
    after = load_keys(ws)
    assert after.fingerprint != before.fingerprint and after.watermark_key != before.watermark_key
    assert not [p for p in ws.iterdir() if p.name.startswith(".")]  # the old folder is gone


def test_ensure_keys_makes_them_once(tmp_path: Path):
    first = ensure_keys(tmp_path / "ws")
    assert ensure_keys(tmp_path / "ws") == first


def test_missing_keys_name_keys_init(tmp_path: Path):
    with pytest.raises(InputError, match="generec keys init"):
        load_keys(tmp_path / "nothing here")


DAMAGES = ["missing signer key", "garbled chain", "short watermark key", "other key", "other root"]


@pytest.mark.parametrize("damage", DAMAGES)
def test_damaged_keys_name_keys_init(tmp_path: Path, damage: str):
    paths = init_keys(tmp_path / "ws")
    if damage == "missing signer key":
        paths.signer_key.unlink()
    elif damage == "garbled chain":
        paths.chain.write_bytes(b"-----BEGIN CERTIFICATE-----\nnot a certificate\n-----END CERTIFICATE-----\n")
    elif damage == "short watermark key":
        paths.watermark_key.write_bytes(b"\x00" * 5)
    elif damage == "other key":  # a signer key from another workspace beside this chain
        other = init_keys(tmp_path / "other")
        paths.signer_key.write_bytes(other.signer_key.read_bytes())
    else:  # another workspace's root beside this chain
        other = init_keys(tmp_path / "other")
        paths.root.write_bytes(other.root.read_bytes())
    with pytest.raises(InputError, match="generec keys init"):
        load_keys(tmp_path / "ws")
