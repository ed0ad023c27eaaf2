"""Workspace signing keys: a local certificate chain for C2PA manifests and the watermark key.

`generec keys init` makes, under `<workspace>/keys/`:

```
keys/
  root.pem        root CA certificate: the trust anchor when verifying (no key is kept for it)
  chain.pem       signer certificate, then the intermediate CA certificate (C2PA wants no root)
  signer.key      the signer's EC P-256 private key, PKCS#8 PEM (mode 0600)
  watermark.key   32 random bytes, the key of the invisible watermark (mode 0600)
```

The chain follows C2PA's certificate profile (C2PA 2.x, "X.509 certificates"):

- root CA: self-signed, basicConstraints CA:true (critical), keyUsage keyCertSign + cRLSign;
- intermediate CA: issued by the root, CA:true with pathLen 0, keyCertSign + cRLSign;
- signer: issued by the intermediate, CA:false, keyUsage digitalSignature (critical), extended
  key usage emailProtection + documentSigning (C2PA accepts either; anyExtendedKeyUsage is
  refused), subject and authority key identifiers, EC P-256 so manifests are signed ES256.

Every certificate's subject is `O=generec workspace, CN=generec <role> <id>`, where `id` is 8
random hex digits drawn at init, so a manifest from another workspace names its signer. The CA
private keys are dropped once the chain is made: `keys init --force` makes a new chain, and
files signed with the old one then read as "valid (another signer)", no longer "trusted".

The folder is written atomically: everything goes into a temporary sibling folder first, which
is then renamed to `keys/`; a concurrent first write cannot leave half a chain.
"""

from __future__ import annotations

import datetime as dt
import errno
import hashlib
import os
import secrets
import shutil
import uuid
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from generec.errors import InputError, os_reason

KEYS_DIR = "keys"
ROOT_NAME, CHAIN_NAME, SIGNER_KEY_NAME, WATERMARK_KEY_NAME = "root.pem", "chain.pem", "signer.key", "watermark.key"
WATERMARK_KEY_BYTES = 32
ORGANIZATION = "generec workspace"
# validity in days: long-lived local CAs, a signer valid for years
ROOT_DAYS, INTERMEDIATE_DAYS, SIGNER_DAYS = 20 * 365, 15 * 365, 10 * 365
_INIT_HINT = "run `generec keys init` to make them"


@dataclass(frozen=True)
class KeyPaths:
    folder: Path
    root: Path
    chain: Path
    signer_key: Path
    watermark_key: Path

    @classmethod
    def under(cls, workspace_root: Path) -> KeyPaths:
        folder = Path(workspace_root) / KEYS_DIR
        names = (ROOT_NAME, CHAIN_NAME, SIGNER_KEY_NAME, WATERMARK_KEY_NAME)
        return cls(folder, *(folder / name for name in names))


@dataclass(frozen=True)
class Keys:
    signer_key_pem: bytes  # PKCS#8 PEM of the signer's EC P-256 private key
    chain_pem: bytes  # signer certificate, then the intermediate (PEM)
    root_pem: bytes  # the workspace's root CA certificate (PEM): the trust anchor
    watermark_key: bytes  # 32 bytes
    fingerprint: str  # sha256 of the root certificate (DER), first 16 hex digits

    def __repr__(self) -> str:  # never print key material
        return f"Keys(fingerprint={self.fingerprint!r})"


def root_fingerprint(root_pem: bytes) -> str:
    """sha256 of the first certificate in `root_pem` (DER), first 16 hex digits."""
    cert = x509.load_pem_x509_certificate(root_pem)
    return hashlib.sha256(cert.public_bytes(serialization.Encoding.DER)).hexdigest()[:16]


# -- making the chain -------------------------------------------------------------------------------


def _name(role: str, ident: str) -> x509.Name:
    return x509.Name([
        x509.NameAttribute(NameOID.ORGANIZATION_NAME, ORGANIZATION),
        x509.NameAttribute(NameOID.COMMON_NAME, f"generec {role} {ident}"),
    ])  # fmt: skip


def _certificate(
    subject: x509.Name, public_key: ec.EllipticCurvePublicKey, issuer: x509.Name,
    issuer_key: ec.EllipticCurvePrivateKey, days: int, now: dt.datetime, *, ca: bool, path_length: int | None = None,
) -> x509.Certificate:  # fmt: skip
    """One X.509 v3 certificate signed ecdsa-with-SHA256 by `issuer_key`."""
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer)
        .public_key(public_key)
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))  # tolerate a little clock skew
        .not_valid_after(now + dt.timedelta(days=days))
        .add_extension(x509.BasicConstraints(ca=ca, path_length=path_length), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public_key), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer_key.public_key()), critical=False)
    )  # fmt: skip
    if ca:
        usage = {"digital_signature": False, "key_cert_sign": True, "crl_sign": True}
    else:
        usage = {"digital_signature": True, "key_cert_sign": False, "crl_sign": False}
        eku = [ExtendedKeyUsageOID.EMAIL_PROTECTION, x509.ObjectIdentifier("1.3.6.1.5.5.7.3.36")]  # documentSigning
        builder = builder.add_extension(x509.ExtendedKeyUsage(eku), critical=False)
    builder = builder.add_extension(
        x509.KeyUsage(content_commitment=False, key_encipherment=False, data_encipherment=False, key_agreement=False,
                      encipher_only=False, decipher_only=False, **usage),
        critical=True,
    )  # fmt: skip
    return builder.sign(issuer_key, hashes.SHA256())


def _make_chain() -> tuple[bytes, bytes, bytes]:
    """(signer key PEM, chain PEM (signer, intermediate), root PEM) of a fresh P-256 chain."""
    ident = secrets.token_hex(4)
    now = dt.datetime.now(dt.UTC)
    root_key, inter_key, signer_key = (ec.generate_private_key(ec.SECP256R1()) for _ in range(3))
    root_name, inter_name, signer_name = (_name(role, ident) for role in ("root CA", "intermediate CA", "signer"))
    root = _certificate(root_name, root_key.public_key(), root_name, root_key, ROOT_DAYS, now, ca=True)
    inter = _certificate(inter_name, inter_key.public_key(), root_name, root_key, INTERMEDIATE_DAYS, now, ca=True,
                         path_length=0)  # fmt: skip
    signer = _certificate(signer_name, signer_key.public_key(), inter_name, inter_key, SIGNER_DAYS, now, ca=False)
    pem = serialization.Encoding.PEM
    key_pem = signer_key.private_bytes(pem, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    return key_pem, signer.public_bytes(pem) + inter.public_bytes(pem), root.public_bytes(pem)


def _write(path: Path, data: bytes, mode: int) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
    with os.fdopen(fd, "wb") as f:
        os.fchmod(f.fileno(), mode)  # whatever the umask
        f.write(data)
        f.flush()
        os.fsync(f.fileno())


def init_keys(workspace_root: Path, force: bool = False) -> KeyPaths:
    """Make the workspace's signing chain and watermark key under `<workspace_root>/keys/`.

    Refuses (InputError naming the folder) when keys exist, unless `force`, which replaces them.
    """
    # 1. check inputs
    paths = KeyPaths.under(workspace_root)
    root = Path(workspace_root)
    if root.exists() and not root.is_dir():
        raise InputError(f"workspace {root} is not a directory")
    if paths.folder.exists() and not force:
        raise InputError(f"signing keys already exist in {paths.folder}; pass --force to replace them "
                         "(files signed with the old keys will no longer read as trusted)")  # fmt: skip

    # 2. make the chain and the watermark key
    key_pem, chain_pem, root_pem = _make_chain()
    watermark = secrets.token_bytes(WATERMARK_KEY_BYTES)

    # 3. write them into a temporary sibling folder
    tmp = paths.folder.with_name(f".{KEYS_DIR}.{uuid.uuid4().hex}.tmp")
    try:
        root.mkdir(parents=True, exist_ok=True)
        tmp.mkdir(mode=0o700)
        _write(tmp / ROOT_NAME, root_pem, 0o644)
        _write(tmp / CHAIN_NAME, chain_pem, 0o644)
        _write(tmp / SIGNER_KEY_NAME, key_pem, 0o600)
        _write(tmp / WATERMARK_KEY_NAME, watermark, 0o600)
    except OSError as exc:
        shutil.rmtree(tmp, ignore_errors=True)
        raise InputError(f"cannot write signing keys in {paths.folder}: {os_reason(exc)}") from exc

    # 4. rename it to keys/ (an old folder, with force, is moved aside first and then removed)
    old = paths.folder.with_name(f".{KEYS_DIR}.{uuid.uuid4().hex}.old")
    try:
        if force and paths.folder.exists():
            os.rename(paths.folder, old)
        os.rename(tmp, paths.folder)  # fails if another process made a non-empty keys/ meanwhile
    except OSError as exc:
        shutil.rmtree(tmp, ignore_errors=True)
        if old.exists() and not paths.folder.exists():
            os.rename(old, paths.folder)
        if exc.errno in (errno.EEXIST, errno.ENOTEMPTY):
            raise InputError(f"signing keys already exist in {paths.folder}; pass --force to replace them") from exc
        raise InputError(f"cannot write signing keys in {paths.folder}: {os_reason(exc)}") from exc
    shutil.rmtree(old, ignore_errors=True)
    return paths


# -- loading ----------------------------------------------------------------------------------------


def _read(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except FileNotFoundError:
        raise InputError(f"signing keys incomplete: {path} is missing; {_INIT_HINT} (with --force)") from None
    except OSError as exc:
        raise InputError(f"cannot read {path}: {os_reason(exc)}; {_INIT_HINT} (with --force)") from exc


def load_keys(workspace_root: Path) -> Keys:
    """The workspace's keys; InputError naming `generec keys init` when missing or unreadable."""
    # 1. the folder
    paths = KeyPaths.under(workspace_root)
    if not paths.folder.is_dir():
        raise InputError(f"no signing keys in {paths.folder}; {_INIT_HINT}")

    # 2. read every file
    key_pem, chain_pem, root_pem = _read(paths.signer_key), _read(paths.chain), _read(paths.root)
    watermark = _read(paths.watermark_key)

    # 3. check that each is what it should be
    if len(watermark) != WATERMARK_KEY_BYTES:
        raise InputError(f"{paths.watermark_key}: expected {WATERMARK_KEY_BYTES} bytes, found {len(watermark)}; "
                         f"{_INIT_HINT} (with --force)")  # fmt: skip
    try:
        key = serialization.load_pem_private_key(key_pem, password=None)
        chain = x509.load_pem_x509_certificates(chain_pem)
        fingerprint = root_fingerprint(root_pem)
    except (ValueError, TypeError) as exc:
        raise InputError(f"signing keys in {paths.folder} are unreadable ({exc}); {_INIT_HINT} (with --force)") from exc
    try:
        chain[-1].verify_directly_issued_by(x509.load_pem_x509_certificate(root_pem))
    except (ValueError, TypeError, InvalidSignature) as exc:
        raise InputError(f"{paths.chain} was not issued by the root in {paths.root}; "
                         f"{_INIT_HINT} (with --force)") from exc  # fmt: skip
    if not isinstance(key, ec.EllipticCurvePrivateKey) or key.public_key() != chain[0].public_key():
        raise InputError(f"{paths.signer_key} does not match the signer certificate in {paths.chain}; "
                         f"{_INIT_HINT} (with --force)")  # fmt: skip
    return Keys(key_pem, chain_pem, root_pem, watermark, fingerprint)


def ensure_keys(workspace_root: Path) -> Keys:
    """`load_keys`, or `init_keys` first when the workspace has no keys folder (first AI write)."""
    if not KeyPaths.under(workspace_root).folder.exists():
        try:
            init_keys(workspace_root)
        except InputError:
            if not KeyPaths.under(workspace_root).folder.exists():
                raise
            # another process made them first: use those
    return load_keys(workspace_root)
