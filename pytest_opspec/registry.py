"""One small registry: named entries in registration order, where registering a name twice is an error.

Used for the static checks of op.yml (model/checks.py), the conformance checks (conformance/registry.py)
and the `opspec` subcommands (cli/__init__.py). Extensions add to the pytest run through hooks instead
(plugin/hookspecs.py), never by importing a module for its side effects.
"""

from __future__ import annotations

from typing import Callable, Generic, Iterator, TypeVar

T = TypeVar("T")


class DuplicateNameError(ValueError):
    """A name was registered twice (two entries would silently shadow each other)."""


class Registry(Generic[T]):
    def __init__(self, kind: str) -> None:
        self.kind = kind  # what an entry is, for error messages: "static check", "command"...
        self._entries: dict[str, T] = {}

    def add(self, name: str, entry: T) -> T:
        if name in self._entries:
            raise DuplicateNameError(f"{self.kind} {name!r} is registered twice")
        self._entries[name] = entry
        return entry

    def register(self, name: str) -> Callable[[T], T]:
        """A decorator: ``@registry.register("name")`` adds the decorated object under ``name``."""
        return lambda entry: self.add(name, entry)

    def __getitem__(self, name: str) -> T:
        return self._entries[name]

    def get(self, name: str) -> T | None:
        return self._entries.get(name)

    def __contains__(self, name: object) -> bool:
        return name in self._entries

    def __iter__(self) -> Iterator[str]:
        return iter(self._entries)

    def __len__(self) -> int:
        return len(self._entries)

    def values(self) -> list[T]:
        return list(self._entries.values())

    def items(self) -> list[tuple[str, T]]:
        return list(self._entries.items())
