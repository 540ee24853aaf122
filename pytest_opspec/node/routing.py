"""The node API's routes: one entry per path of the seed's API document, matched on the raw path.

Matching happens on the request's raw (still percent-encoded) path, so ``/pkgs/{ref}/contents`` sees
``%2F`` inside ``{ref}`` as part of one segment, as the reference's router does and as opctl's
client encodes it (see docs/design-notes.md, "Node").
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Awaitable, Callable, Mapping

from aiohttp import web

from .errors import ApiError, Code

if TYPE_CHECKING:
    from .core import Node

Handler = Callable[[web.Request, "Node", Mapping[str, str]], Awaitable[web.StreamResponse]]


@dataclass(frozen=True)
class Route:
    template: str  # as the seed writes it, e.g. /pkgs/{ref}/contents
    methods: Mapping[str, Handler]

    @property
    def pattern(self) -> re.Pattern[str]:
        return _compile(self.template)

    @property
    def allow(self) -> str:
        return ", ".join(self.methods)


def _compile(template: str) -> re.Pattern[str]:
    # {path} is the last parameter and may span segments (a client may leave its slashes unencoded).
    regex = re.sub(r"\{(\w+)\}", lambda m: f"(?P<{m[1]}>.+)" if m[1] == "path" else f"(?P<{m[1]}>[^/]+)",
                   template)
    return re.compile(regex)


class Router:
    def __init__(self, routes: tuple[Route, ...]) -> None:
        self.routes = routes
        self._compiled = [(route, route.pattern) for route in routes]

    def match(self, raw_path: str) -> tuple[Route, dict[str, str]]:
        for route, pattern in self._compiled:
            found = pattern.fullmatch(raw_path)
            if found:
                return route, found.groupdict()
        known = ", ".join(route.template for route in self.routes)
        raise ApiError(404, Code.NOT_FOUND, f"no such path: {raw_path}; the node API has {known}")
