"""A signed C2PA manifest in every AI-made MP4, PNG and JPEG, and reading it back.

The manifest (`manifest_definition`) says, in C2PA's own terms, that generec made the file:

- claim generator `generec <version>`;
- a `c2pa.actions` assertion (written as `c2pa.actions.v2`): `c2pa.created` with the IPTC digital
  source type `trainedAlgorithmicMedia` for a created item, or `c2pa.opened` (the parent) then
  `c2pa.edited` with `compositeWithTrainedAlgorithmicMedia` for an edit; softwareAgent generec,
  parameters {op};
- the parent item as a `parentOf` ingredient (title, `instance_id` = `generec:item:<id>`; no file
  is needed, C2PA allows an ingredient described only by its fields);
- `org.generec.provenance`: item id, op, watermark id, model / checkpoint / seed, the parent's
  id, title and media hash, and the guidance. Every free-text string in it (and the titles) goes
  through `redact_pii`; the user's fused taste vector is left out.

`sign_file` embeds it signed ES256 with the workspace's keys (`keys.py`), with no timestamp
authority, so signing works offline. `read_manifest` validates a file and sorts it into one of:

- "trusted": signature and hashes verify and the signer chains to the given root;
- "valid": signature and hashes verify, but the signer is another one (or no root was given);
- "tampered": a hash or the signature fails (the content changed after signing, or the manifest
  was edited or forged), or the manifest cannot be parsed;
- "absent": no manifest (never signed, or stripped, e.g. by a re-encode).

c2pa settings live on a `c2pa.Context` made per call (never the deprecated, thread-global
`load_settings`), so the trust anchor of one call never leaks into another. Remote manifest and
OCSP fetches are off: reading, like signing, never touches the network.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import c2pa

import generec
from generec.errors import InputError, describe_os_error
from generec.fidelity.keys import Keys, root_fingerprint
from generec.instructor.sanitize import redact_pii

ASSERTION_LABEL = "org.generec.provenance"
ITEM_URI = "generec:item:"
_IPTC = "http://cv.iptc.org/newscodes/digitalsourcetype/"
SOURCE_TYPES = {"created": _IPTC + "trainedAlgorithmicMedia", "edited": _IPTC + "compositeWithTrainedAlgorithmicMedia"}
MIMES = ("video/mp4", "image/png", "image/jpeg")
STATES = ("trusted", "valid", "tampered", "absent")
_PRIVATE_GUIDANCE_KEYS = frozenset({"vector"})  # the user's fused taste vector: personal, never published
_TRUST_CODES = frozenset({"signingCredential.untrusted"})  # failures that mean "another signer", not "tampered"
_CONTENT_CODES = ("assertion.dataHash.mismatch", "assertion.bmffHash.mismatch", "assertion.boxesHash.mismatch",
                  "assertion.collectionHash.mismatch")  # fmt: skip
_OFFLINE = {"verify": {"remote_manifest_fetch": False, "ocsp_fetch": False}}


# -- the manifest ---------------------------------------------------------------------------------


def _redacted(value: Any) -> Any:
    """`value` with `redact_pii` applied to every string in it (dict values, list items)."""
    if isinstance(value, str):
        return redact_pii(value)
    if isinstance(value, dict):
        return {str(k): _redacted(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_redacted(v) for v in value]
    if value is None or isinstance(value, (bool, int, float)):
        return value
    return redact_pii(str(value))


def manifest_definition(
    *, title: str, action: str, op: str, item_id: str, watermark_id: int | None = None, parent: dict | None = None,
    guidance: Any = None, model: str | None = None, checkpoint: str | None = None, seed: int | None = None,
    mime: str,
) -> dict:  # fmt: skip
    """The C2PA manifest definition (c2pa-python's JSON) of one AI-made file.

    `action` is "created" (no parent) or "edited" (`parent` = {"id", "title", "media_hash"});
    `guidance` is a `Guidance` or its dict; every string in it is PII-redacted here.
    """
    # 1. check inputs
    if not isinstance(title, str):
        raise InputError(f"manifest title: expected a string, found {type(title).__name__}")
    if action not in SOURCE_TYPES:
        raise InputError(f"manifest action: expected one of {', '.join(SOURCE_TYPES)}, found {action!r}")
    if mime not in MIMES:
        raise InputError(f"manifest mime: expected one of {', '.join(MIMES)}, found {mime!r}")
    if not item_id or not isinstance(item_id, str):
        raise InputError(f"manifest item_id: expected a non-empty string, found {item_id!r}")
    if action == "edited" and (not isinstance(parent, dict) or not parent.get("id")):
        raise InputError(f"an edited item's manifest needs its parent as {{'id', 'title', 'media_hash'}}, "
                         f"found {parent!r}")  # fmt: skip
    if action == "created" and parent is not None:
        raise InputError("a created item has no parent; use action='edited' for an item made from another")
    if hasattr(guidance, "model_dump"):  # a `Guidance`
        guidance = guidance.model_dump(mode="json")
    if guidance is not None and not isinstance(guidance, dict):
        raise InputError(f"manifest guidance: expected a dict or a Guidance, found {type(guidance).__name__}")

    # 2. the actions: created, or opened (the parent ingredient) then edited
    agent = {"name": "generec", "version": generec.__version__}
    actions: list[dict[str, Any]] = []
    if action == "edited":
        actions.append({"action": "c2pa.opened", "parameters": {"ingredientIds": ["parent"]}})
    actions.append({"action": f"c2pa.{action}", "digitalSourceType": SOURCE_TYPES[action], "softwareAgent": agent,
                    "parameters": {"op": op}})  # fmt: skip

    # 3. generec's own assertion, every free-text string PII-redacted
    guidance_data = None
    if guidance is not None:
        guidance_data = _redacted({k: v for k, v in guidance.items() if k not in _PRIVATE_GUIDANCE_KEYS})
    provenance = {
        "generec_version": generec.__version__, "item_id": item_id, "op": op, "action": action,
        "watermark_id": watermark_id, "model": model, "checkpoint": checkpoint, "seed": seed,
        "parent": None if parent is None else {"id": str(parent["id"]), "title": _redacted(parent.get("title")),
                                               "media_hash": parent.get("media_hash")},
        "guidance": guidance_data,
    }  # fmt: skip

    # 4. the definition, with the parent as a parentOf ingredient
    definition: dict[str, Any] = {
        "claim_generator_info": [agent],
        "title": redact_pii(title),
        "format": mime,
        "assertions": [{"label": "c2pa.actions", "data": {"actions": actions}},
                       {"label": ASSERTION_LABEL, "data": provenance}],
    }  # fmt: skip
    if parent is not None:
        definition["ingredients"] = [{
            "title": redact_pii(str(parent.get("title") or parent["id"])), "relationship": "parentOf",
            "instance_id": f"{ITEM_URI}{parent['id']}", "label": "parent",
        }]  # fmt: skip
    return definition


# -- signing ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SignResult:
    path: Path  # the signed file
    mime: str
    sha256: str  # of the signed file, as the media store will key it
    manifest_bytes: int  # size of the embedded manifest store


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def sign_file(src: Path, dst: Path, mime: str, manifest: dict, keys: Keys) -> SignResult:
    """Embed `manifest` in a copy of `src`, signed ES256 with `keys`, written atomically to `dst`."""
    # 1. check inputs
    src, dst = Path(src), Path(dst)
    if mime not in MIMES:
        raise InputError(f"{src}: cannot sign {mime!r}; expected one of {', '.join(MIMES)}")
    if not src.is_file():
        raise InputError(f"cannot sign {src}: no such file")

    # 2. the signer (no timestamp authority: offline) and a context without thumbnails or fetches
    info = c2pa.C2paSignerInfo(c2pa.C2paSigningAlg.ES256, keys.chain_pem, keys.signer_key_pem, None)
    settings = {**_OFFLINE, "builder": {"thumbnail": {"enabled": False}}}

    # 3. sign into a temporary file beside dst, then rename it
    tmp = dst.with_name(f".{dst.name}.{uuid.uuid4().hex}.tmp")
    try:
        with (
            c2pa.Context.from_dict(settings) as context,
            c2pa.Signer.from_info(info) as signer,
            c2pa.Builder({**manifest, "format": mime}, context) as builder,
            open(src, "rb") as source,
            open(tmp, "w+b") as out,
        ):  # fmt: skip
            manifest_store = builder.sign(signer, mime, source, out)
            out.flush()
            os.fsync(out.fileno())
        os.replace(tmp, dst)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise InputError(describe_os_error(exc, "sign")) from exc
    except c2pa.C2paError as exc:
        tmp.unlink(missing_ok=True)
        raise InputError(f"cannot sign {src} as {mime}: {exc}") from exc
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return SignResult(dst, mime, _sha256(dst), len(manifest_store))


# -- reading ----------------------------------------------------------------------------------------


@dataclass
class ManifestReading:
    path: str
    state: str  # trusted | valid | tampered | absent
    message: str  # one line, for people
    title: str | None = None
    claim_generator: str | None = None  # "generec 0.1.0"
    action: str | None = None  # the main action: c2pa.created | c2pa.edited | ...
    digital_source_type: str | None = None
    generec: dict | None = None  # the org.generec.provenance assertion (item_id, watermark_id, op, ...)
    ingredients: list[dict] = field(default_factory=list)  # [{"title", "id", "relationship"}]
    signer: str | None = None  # the signing certificate's subject, "CN=..., O=..."
    trust_root: str | None = None  # fingerprint of the root it was checked against, or None
    codes: dict[str, list[str]] = field(default_factory=dict)  # c2pa's status codes: success / informational / failure

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


def _reader_settings(trust_root_pem: bytes | None) -> dict:
    verify = {**_OFFLINE["verify"], "verify_trust": trust_root_pem is not None}
    if trust_root_pem is None:
        return {"verify": verify}
    return {"verify": verify, "trust": {"trust_anchors": trust_root_pem.decode("ascii")}}


def _read_store(path: Path, trust_root_pem: bytes | None) -> dict | None:
    """The manifest store's JSON, or None when the file has none; C2paError when it is damaged."""
    with c2pa.Context.from_dict(_reader_settings(trust_root_pem)) as context, open(path, "rb") as f:
        try:
            reader = c2pa.Reader(f, context=context)  # the format is detected from the bytes
        except c2pa.C2paError.ManifestNotFound:
            return None
        with reader:
            return json.loads(reader.json())


def _main_action(manifest: dict) -> dict:
    for assertion in manifest.get("assertions", []):
        if assertion.get("label", "").startswith("c2pa.actions"):
            actions = assertion.get("data", {}).get("actions", [])
            main = [a for a in actions if a.get("action") != "c2pa.opened"] or actions
            return main[0] if main else {}
    return {}


def _fields(manifest: dict) -> dict[str, Any]:
    """What a reading shows of the active manifest."""
    generators = manifest.get("claim_generator_info") or [{}]
    generator = " ".join(str(generators[0][k]) for k in ("name", "version") if generators[0].get(k))
    action = _main_action(manifest)
    ours = next((a.get("data") for a in manifest.get("assertions", []) if a.get("label") == ASSERTION_LABEL), None)
    ingredients = []
    for ing in manifest.get("ingredients", []):
        instance = ing.get("instance_id") or ""
        item = instance.removeprefix(ITEM_URI) if instance.startswith(ITEM_URI) else None
        ingredients.append({"title": ing.get("title"), "relationship": ing.get("relationship"), "id": item})
    sig = manifest.get("signature_info") or {}
    subject = ", ".join(f"{k}={sig[v]}" for k, v in (("CN", "common_name"), ("O", "issuer")) if sig.get(v)) or None
    return {"title": manifest.get("title"), "claim_generator": generator or None, "action": action.get("action"),
            "digital_source_type": action.get("digitalSourceType"), "generec": ours, "ingredients": ingredients,
            "signer": subject}  # fmt: skip


def _state(validation: str | None, failures: list[str], trusted_check: bool, signer: str | None) -> tuple[str, str]:
    """(state, message) from c2pa's validation state and failure codes."""
    bad = [c for c in failures if c not in _TRUST_CODES]
    if bad:
        what = ("the media data changed after signing" if any(c in _CONTENT_CODES for c in bad)
                else "the manifest was altered or forged")  # fmt: skip
        return "tampered", f"tampered: {what} ({', '.join(sorted(set(bad)))})"
    if validation not in ("Valid", "Trusted") and not failures:
        return "tampered", f"tampered: the manifest does not validate (validation state {validation})"
    if validation == "Trusted":
        return "trusted", f"trusted: signed by this workspace ({signer}); signature and hashes verify"
    if trusted_check:
        return "valid", f"valid, but signed by another signer ({signer}), not this workspace; hashes verify"
    return "valid", f"valid: signature and hashes verify; the signer ({signer}) was not checked against a trust root"


def read_manifest(path: Path, trust_root_pem: bytes | None) -> ManifestReading:
    """Validate `path`'s C2PA manifest against `trust_root_pem` (None: no trust check).

    Never raises for a tampered, forged, foreign or unsigned file (that is a reading); raises
    InputError only for a path that cannot be read or a file type that carries no C2PA manifest.
    """
    # 1. check inputs
    path = Path(path)
    fingerprint = None
    if trust_root_pem is not None:
        try:
            fingerprint = root_fingerprint(trust_root_pem)
        except ValueError as exc:
            raise InputError(f"trust root: expected a PEM certificate ({exc})") from exc
    if not path.is_file():
        reason = "is a directory, expected a file" if path.is_dir() else "no such file"
        raise InputError(f"cannot verify {path}: {reason}")

    # 2. read and validate the manifest store
    try:
        store = _read_store(path, trust_root_pem)
    except OSError as exc:
        raise InputError(describe_os_error(exc, "read")) from exc
    except c2pa.C2paError.NotSupported as exc:
        raise InputError(f"cannot verify {path}: not a file type that carries a C2PA manifest "
                         f"(expected one of {', '.join(MIMES)})") from exc  # fmt: skip
    except c2pa.C2paError as exc:  # a manifest that cannot even be parsed: damaged or forged
        reason = str(exc).strip() or type(exc).__name__.strip("_")
        return ManifestReading(str(path), "tampered", f"tampered: the manifest cannot be read ({reason})",
                               trust_root=fingerprint, codes={"failure": [reason]})  # fmt: skip
    if store is None or not store.get("active_manifest"):
        message = "absent: no C2PA manifest (never signed, or stripped, e.g. by a re-encode)"
        return ManifestReading(str(path), "absent", message, trust_root=fingerprint)

    # 3. the active manifest's fields and validation codes
    manifest = store.get("manifests", {}).get(store["active_manifest"], {})
    fields = _fields(manifest)
    results = (store.get("validation_results") or {}).get("activeManifest") or {}
    codes = {k: [s.get("code") for s in results.get(k, [])] for k in ("success", "informational", "failure")}

    # 4. the state
    checked = trust_root_pem is not None
    state, message = _state(store.get("validation_state"), codes["failure"], checked, fields["signer"])
    return ManifestReading(str(path), state, message, trust_root=fingerprint, codes=codes, **fields)
