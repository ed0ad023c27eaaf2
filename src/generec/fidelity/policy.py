"""The fidelity policy: which checks run, their thresholds, and what a failure does.

A policy is a TOML file (`generec check --policy FILE`, or `<workspace>/policy.toml` when it
exists; else the default below):

```toml
[sampling]
fps = 2.0            # video frames each check looks at per second
max_frames = 48

[checks.quality]
action = "flag"      # on failure: pass | fix | flag | block
min_percentile = 5.0 # any field of the check's config (fidelity/quality.py)

[checks.privacy]
action = "fix"

[feed]               # the feed-level bias check (fidelity/bias.py)
max_ai_share = 0.5
```

Actions on a failed check: `pass` records it and serves; `fix` applies the check's fix and
checks again (a fix that does not make it pass, or a check with no fix, is escalated to
`flag`); `flag` serves the item with a visible label and puts it in the review queue; `block`
never serves it. The item's decision is the strongest action taken: block > flag > serve.

The default (`DEFAULT_ACTIONS`): privacy is fixed (faces blurred, on-screen PII redacted,
metadata stripped); safety and originality block (unsafe content, copies of someone else's
work, memorised training images); authenticity flags (a misleading cover or an unfaithful clip
goes to review); quality flags.
"""

from __future__ import annotations

import dataclasses
import importlib
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from generec.config import from_dict, to_dict
from generec.errors import InputError

ACTIONS = ("pass", "fix", "flag", "block")
DECISIONS = ("serve", "flag", "block")

# name -> (module, check class, config class); every check is one file of generec.fidelity
CHECKS: dict[str, tuple[str, str, str]] = {
    "quality": ("generec.fidelity.quality", "QualityCheck", "QualityConfig"),
    "originality": ("generec.fidelity.originality", "OriginalityCheck", "OriginalityConfig"),
    "privacy": ("generec.fidelity.privacy", "PrivacyCheck", "PrivacyConfig"),
    "safety": ("generec.fidelity.safety", "SafetyCheck", "SafetyConfig"),
    "authenticity": ("generec.fidelity.authenticity", "AuthenticityCheck", "AuthenticityConfig"),
}
DEFAULT_ACTIONS: dict[str, str] = {
    "safety": "block", "privacy": "fix", "originality": "block", "authenticity": "flag", "quality": "flag",
}  # fmt: skip
ORDER = ("safety", "privacy", "originality", "authenticity", "quality")  # cheap refusals first; fixes before the rest


def check_class(name: str) -> tuple[type, type]:
    """(check class, config class) of the check `name`."""
    if name not in CHECKS:
        raise InputError(f"unknown fidelity check {name!r}; valid checks: {', '.join(CHECKS)}")
    module, cls, cfg = CHECKS[name]
    mod = importlib.import_module(module)
    return getattr(mod, cls), getattr(mod, cfg)


@dataclass(frozen=True)
class SamplingConfig:
    fps: float = 2.0
    max_frames: int = 48

    def __post_init__(self) -> None:
        if not (0 < self.fps <= 60) or not (1 <= self.max_frames <= 1000):
            raise InputError(f"policy [sampling]: fps must be in (0, 60] and max_frames in [1, 1000], found {self.fps}, {self.max_frames}")


@dataclass(frozen=True)
class CheckPolicy:
    name: str
    action: str
    config: Any  # the check's own config dataclass


@dataclass(frozen=True)
class Policy:
    checks: tuple[CheckPolicy, ...]
    sampling: SamplingConfig = field(default_factory=SamplingConfig)
    feed: Any = None  # bias.BiasConfig
    source: str = "default"  # the file it came from

    @classmethod
    def default(cls) -> Policy:
        return cls.from_dict({}, source="default")

    @classmethod
    def load(cls, path: str | Path) -> Policy:
        p = Path(path)
        if not p.is_file():
            raise InputError(f"policy file {p} does not exist")
        try:
            data = tomllib.loads(p.read_text())
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
            raise InputError(f"policy file {p} is not valid TOML: {exc}") from None
        return cls.from_dict(data, source=str(p))

    @classmethod
    def for_workspace(cls, root: str | Path, path: str | Path | None = None) -> Policy:
        """`path`, else `<workspace>/policy.toml` when present, else the default."""
        if path is not None:
            return cls.load(path)
        own = Path(root) / "policy.toml"
        return cls.load(own) if own.is_file() else cls.default()

    @classmethod
    def from_dict(cls, data: dict[str, Any], source: str = "policy") -> Policy:
        from generec.fidelity.bias import BiasConfig

        # 1. sections
        if not isinstance(data, dict):
            raise InputError(f"{source}: expected a TOML table, found {type(data).__name__}")
        for name in ("sampling", "feed"):
            if name in data and not isinstance(data[name], dict):
                raise InputError(f"{source}: [{name}] must be a table, found {data[name]!r}")
        unknown = sorted(set(data) - {"checks", "sampling", "feed"})
        if unknown:
            raise InputError(f"{source}: unknown section(s) {', '.join(unknown)}; valid: checks, sampling, feed")
        sections = data.get("checks", {})
        if not isinstance(sections, dict):
            raise InputError(f"{source}: [checks] must be a table of checks, found {type(sections).__name__}")
        bad = sorted(set(sections) - set(CHECKS))
        if bad:
            raise InputError(f"{source}: unknown check(s) {', '.join(bad)}; valid checks: {', '.join(CHECKS)}")
        # 2. each check: its action and thresholds
        checks = []
        for name in ORDER:
            if not isinstance(sections.get(name, {}), dict):
                raise InputError(f"{source}: [checks.{name}] must be a table, found {sections[name]!r}")
            section = dict(sections.get(name, {}))
            action = section.pop("action", DEFAULT_ACTIONS[name])
            enabled = section.pop("enabled", True)
            if action not in ACTIONS:
                raise InputError(f"{source}: checks.{name}.action must be one of {', '.join(ACTIONS)}, found {action!r}")
            if not isinstance(enabled, bool):
                raise InputError(f"{source}: checks.{name}.enabled must be true or false, found {enabled!r}")
            _, config_cls = check_class(name)
            config = from_dict(config_cls, section, source=f"{source}: checks.{name}")
            if enabled:
                checks.append(CheckPolicy(name, action, config))
        sampling = from_dict(SamplingConfig, data.get("sampling", {}), source=f"{source}: sampling")
        feed = from_dict(BiasConfig, data.get("feed", {}), source=f"{source}: feed")
        return cls(tuple(checks), sampling, feed, source)

    def to_dict(self) -> dict[str, Any]:
        return {
            "source": self.source, "sampling": to_dict(self.sampling), "feed": to_dict(self.feed),
            "checks": {c.name: {"action": c.action, **dataclasses.asdict(c.config)} for c in self.checks},
        }  # fmt: skip
