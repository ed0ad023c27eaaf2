"""Fidelity: nothing AI-made reaches a user unchecked or unmarked.

- checks, one per file, each `check(candidate, context) -> CheckResult` (`types.py`):
  `quality`, `originality`, `privacy`, `safety`, `authenticity`, and `bias` at the feed level;
- `policy.py`: the TOML policy (thresholds, and pass / fix / flag / block per check);
- `gate.py`: runs the checks on a candidate, applies fixes, marks what may be served;
- identifiability: `watermark.py` (an invisible spread-spectrum mark in every frame and cover),
  `keys.py` and `c2pa_manifest.py` (a signed C2PA manifest in every AI-made file), `verify.py`.
"""
