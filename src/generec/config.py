"""Typed configuration, one dataclass per component.

Override order: defaults < config file (TOML or JSON) < command-line flags.
"""

from __future__ import annotations

import dataclasses
import json
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from generec.errors import InputError

C = TypeVar("C")


@dataclass(frozen=True)
class MediaLimits:
    """Limits applied to every media file that enters a workspace."""

    max_duration_s: float = 600.0
    max_pixels: int = 3840 * 2160
    max_file_bytes: int = 512 * 1024 * 1024
    min_frames: int = 2
    oversize: str = "refuse"  # frames over max_pixels: "refuse" the file, or "downscale" it at import


def to_dict(config: Any) -> dict[str, Any]:
    """A config as plain JSON-able data, to save beside what it made."""
    return dataclasses.asdict(config)


def from_dict(cls: type[C], data: dict[str, Any], *, source: str = "config") -> C:
    """Build `cls` from `data`, refusing unknown keys and values of the wrong type."""
    names = {f.name: f for f in dataclasses.fields(cls)}  # type: ignore[arg-type]
    unknown = sorted(set(data) - set(names))
    if unknown:
        raise InputError(
            f"{source}: unknown key(s) {', '.join(unknown)} for {cls.__name__}; "
            f"valid keys: {', '.join(sorted(names))}"
        )
    defaults = cls()  # type: ignore[call-arg]
    values: dict[str, Any] = {}
    for key, value in data.items():
        default = getattr(defaults, key)
        if dataclasses.is_dataclass(default) and isinstance(value, dict):  # a nested section
            values[key] = from_dict(type(default), value, source=f"{source}.{key}")
            continue
        if isinstance(default, tuple) and isinstance(value, list):
            value = tuple(value)  # JSON has no tuples
        if default is not None and not isinstance(default, (dict, list, tuple)):
            want = type(default)
            if want is float and isinstance(value, int) and not isinstance(value, bool):
                value = float(value)
            if not isinstance(value, want) or (want is int and isinstance(value, bool)):
                raise InputError(
                    f"{source}: {cls.__name__}.{key} must be {want.__name__}, got {value!r}"
                )
        values[key] = value
    return dataclasses.replace(defaults, **values)


def load_config(
    cls: type[C],
    path: str | Path | None = None,
    section: str | None = None,
    overrides: dict[str, Any] | None = None,
) -> C:
    """defaults < config file (TOML or JSON, optionally one `[section]`) < overrides.

    `overrides` holds command-line flags; keys whose value is None were not given.
    """
    data: dict[str, Any] = {}
    if path is not None:
        path = Path(path)
        if not path.is_file():
            raise InputError(f"config file {path} does not exist")
        text = path.read_text()
        try:
            data = json.loads(text) if path.suffix == ".json" else tomllib.loads(text)
        except (json.JSONDecodeError, tomllib.TOMLDecodeError) as exc:
            raise InputError(f"config file {path} is not valid {path.suffix[1:]}: {exc}") from None
        if section is not None:
            data = data.get(section, {})
    config = from_dict(cls, data, source=str(path or "config"))
    given = {k: v for k, v in (overrides or {}).items() if v is not None}
    return from_dict(cls, {**to_dict(config), **given}, source="command line") if given else config
