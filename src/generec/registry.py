"""Registries: plain dicts from a name to a class or factory, with helpful errors."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Generic, TypeVar

from generec.errors import UnknownNameError

T = TypeVar("T")


class Registry(Generic[T]):
    """`name -> component` for one component kind (datasets, retrievers, edit ops ...)."""

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self._entries: dict[str, T] = {}

    def register(self, name: str) -> Callable[[T], T]:
        def add(entry: T) -> T:
            if name in self._entries:
                raise ValueError(f"{self.kind} {name!r} is registered twice")
            self._entries[name] = entry
            return entry

        return add

    def __getitem__(self, name: str) -> T:
        try:
            return self._entries[name]
        except KeyError:
            valid = ", ".join(sorted(self._entries)) or "(none)"
            raise UnknownNameError(f"unknown {self.kind} {name!r}; valid names: {valid}") from None

    def __contains__(self, name: object) -> bool:
        return name in self._entries

    def __iter__(self) -> Iterator[str]:
        return iter(sorted(self._entries))

    def names(self) -> list[str]:
        return sorted(self._entries)


def resolve(entry: T) -> T:
    """Registries may hold `"module:attr"` strings so that the CLI imports heavy modules only when
    one is used; this turns such a string into the object it names."""
    if isinstance(entry, str) and ":" in entry:
        import importlib

        module, attr = entry.split(":", 1)
        return getattr(importlib.import_module(module), attr)
    return entry
