"""What a check gets: raw HTTP and WebSocket access to the node, the suite's packages, the engine,
the configuration, and shared scenarios (an op run once and judged by several checks).

Every exchange and every event message is recorded with the check that caused it; the spec checks
(``*.responses-match-spec``, ``events.stream.messages-match-spec``) judge them all at the end.
"""

from __future__ import annotations

import email.utils
import json
from dataclasses import dataclass
from typing import Any, Callable, Mapping, TypeVar
from urllib.parse import quote, urlencode

from . import events
from .config import Config
from .engine import Engine
from .pkgs import SuitePackages
from .registry import CheckDisabled, CheckFailed
from .transport import EventStream, Exchange, Http, Message, Node, StreamRefused

T = TypeVar("T")

LIVENESS = "/liveness"
OPS_STARTS = "/ops/starts"
OPS_KILLS = "/ops/kills"
PKG_CONTENTS = "/pkgs/{ref}/contents"
PKG_CONTENT = "/pkgs/{ref}/contents/{path}"


def encode_segment(text: str) -> str:
    """One path segment, every reserved character escaped (``/`` as %2F, ``#`` as %23)."""
    return quote(text, safe="")


@dataclass
class OpRun:
    """An op started through the API and its events, read from a stream opened before the start."""

    op_id: str
    start: Exchange
    events: list[Message]  # the root's events, in the order received, up to its root opEnded
    after_end: list[Message]  # the root's events that arrived after it (within the drain time)

    @property
    def ended(self) -> Message:
        return self.events[-1]

    @property
    def outcome(self) -> Any:
        return events.field(self.ended.document, "outcome")


class Context:
    def __init__(self, config: Config, url: str, packages: SuitePackages, engine: Engine | None,
                 engine_reason: str) -> None:
        self.config = config
        self.url = url
        self.packages = packages
        self.node = Node(url, config.client_tls)
        self.exchanges: list[Exchange] = []
        self.messages: list[Message] = []
        self.check_id = "setup"
        self.http = Http(self.node, config.timeout, self.exchanges.append, lambda: self.check_id)
        self._engine = engine
        self._engine_reason = engine_reason
        self._scenarios: dict[Callable[..., Any], tuple[Any, BaseException | None]] = {}

    # -- raw access -----------------------------------------------------------------------------

    def request(self, method: str, target: str, *, template: str, headers: Mapping[str, str] | None = None,
                body: bytes | None = None, timeout: float | None = None) -> Exchange:
        return self.http.request(method, target, template=template, headers=headers, body=body, timeout=timeout)

    def stream(self, query: str = "") -> EventStream:
        """Open the event stream (raises StreamRefused when the node does not upgrade)."""
        return EventStream(self.node, query, self.config.timeout, self.exchanges.append, self.messages.append,
                           self.check_id)

    def open_stream(self, query: str = "") -> EventStream:
        """Open the event stream; a refusal fails the check."""
        try:
            return self.stream(query)
        except StreamRefused as refused:
            raise CheckFailed(f"the node refused the event stream: {refused.exchange.describe()} "
                              f"{refused.exchange.excerpt()}") from None

    # -- the API, by endpoint -------------------------------------------------------------------

    def liveness(self) -> Exchange:
        return self.request("GET", LIVENESS, template=LIVENESS)

    def post_json(self, path: str, document: Any, headers: Mapping[str, str] | None = None) -> Exchange:
        body = document if isinstance(document, bytes) else json.dumps(document).encode()
        return self.request("POST", path, template=path, body=body,
                            headers={"Content-Type": "application/json", **(headers or {})})

    def listing(self, ref: str, headers: Mapping[str, str] | None = None) -> Exchange:
        return self.request("GET", f"/pkgs/{encode_segment(ref)}/contents", template=PKG_CONTENTS, headers=headers)

    def content(self, ref: str, path: str, method: str = "GET", headers: Mapping[str, str] | None = None,
                raw_path: bool = False) -> Exchange:
        """A file of a package; ``path`` is encoded as one segment unless ``raw_path``."""
        segment = path if raw_path else encode_segment(path)
        return self.request(method, f"/pkgs/{encode_segment(ref)}/contents/{segment}", template=PKG_CONTENT,
                            headers=headers)

    # -- ops --------------------------------------------------------------------------------------

    def start_body(self, package: str, args: Mapping[str, Any] | None = None) -> dict[str, Any]:
        body: dict[str, Any] = {"pkg": {"ref": self.packages.ref(package)}}
        if args:
            body["args"] = dict(args)
        return body

    def start_op(self, package: str, args: Mapping[str, Any] | None = None) -> tuple[str, Exchange]:
        """Start one of the suite's packages; the op id and the exchange (fails unless 201 with an id)."""
        exchange = self.post_json(OPS_STARTS, self.start_body(package, args))
        if exchange.status != 201:
            raise CheckFailed(f"starting {package} ({self.packages.ref(package)}): expected 201, got "
                              f"{exchange.status} {exchange.excerpt()}")
        return op_id_of(exchange), exchange

    def since_now(self) -> str:
        """A ``since`` query that replays at most about a second of history: the node's own clock (its
        Date header), so a clock difference between suite and node cannot lose events. Empty when the
        node sends no Date."""
        date = self.liveness().headers.get("Date")
        moment = email.utils.parsedate_to_datetime(date) if date else None
        if moment is None:
            return ""
        return urlencode({"since": moment.strftime("%Y-%m-%dT%H:%M:%SZ")})

    def run_op(self, package: str, args: Mapping[str, Any] | None = None, *, drain: float = 0.0,
               on_message: Callable[[EventStream, str, Message], None] | None = None) -> OpRun:
        """Open a stream, start ``package`` and read its root's events up to the root's opEnded (then
        ``drain`` seconds more). ``on_message(stream, op_id, message)`` sees each root event as it comes."""
        with self.open_stream(self.since_now()) as stream:
            op_id, exchange = self.start_op(package, args)

            def done(message: Message) -> bool:
                if events.root_of(message) == op_id and on_message is not None:
                    on_message(stream, op_id, message)
                return events.is_op_ended(message, op_id)

            received = stream.read_until(done, f"opEnded of op {op_id} ({package})")
            after = events.of_root(stream.read_for(drain), op_id) if drain else []
        return OpRun(op_id, exchange, events.of_root(received, op_id), after)

    # -- shared scenarios and the engine ----------------------------------------------------------

    def scenario(self, function: Callable[[Context], T]) -> T:
        """``function(self)``, run once per suite run; later calls get its result (or its failure)."""
        if function not in self._scenarios:
            try:
                self._scenarios[function] = (function(self), None)
            except Exception as raised:  # remembered and raised again for every check that needs it
                self._scenarios[function] = (None, raised)
        result, failure = self._scenarios[function]
        if isinstance(failure, CheckFailed):
            raise CheckFailed(f"{failure} (in the shared {function.__name__} scenario)")
        if failure is not None:
            raise failure
        return result

    @property
    def has_engine(self) -> bool:
        return self._engine is not None

    @property
    def engine(self) -> Engine:
        if self._engine is None:
            raise CheckDisabled(self._engine_reason)
        return self._engine


def op_id_of(exchange: Exchange) -> str:
    """The op id in a 201 of /ops/starts: a JSON string for application/json, else the raw text."""
    if exchange.content_type == "application/json":
        try:
            value = exchange.json()
        except ValueError:
            raise CheckFailed(f"the 201 says application/json but its body is not JSON: {exchange.excerpt()}") \
                from None
        if not isinstance(value, str):
            raise CheckFailed(f"the 201's JSON body is not a string (the op id): {exchange.excerpt()}")
        op_id = value
    else:
        op_id = exchange.text
    if not op_id.strip():
        raise CheckFailed("the 201 of POST /ops/starts has an empty body; expected the id of the started op")
    return op_id
