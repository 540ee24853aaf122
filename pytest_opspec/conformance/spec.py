"""Judging one HTTP exchange against the OpenAPI rendering of the node API: is the status code one the
document lists for that path and method, are the documented headers there and of their type, and
does the body match the documented schema.

Decisions where the document (or HTTP) needs reading:
- documented response headers are expected on every such response (the seed documents them for a
  reason: Content-Length, Accept-Ranges, Content-Range), except Content-Range on a multipart 206,
  whose ranges are in its parts (RFC 7233 §4.1);
- file contents may have any media type (a node labels files by their extension, as the reference
  does), so media types are only checked where the document gives a JSON schema;
- answers the HTTP layer gives before routing (an invalid percent-escape, dot-segments in the path)
  are judged by HTTP, by the one rule of http_layer.py, not by the document;
- 101 bodies are the WebSocket messages, judged by events.stream.messages-match-spec.
"""

from __future__ import annotations

import functools
import json
import re
from typing import Any

from .openapi import api_document, schema_validator, validation_errors

from . import http_layer
from .transport import Exchange

FILE_CONTENT = "/pkgs/{ref}/contents/{path}"
_CONTENT_RANGE = re.compile(r"bytes (\d+)-(\d+)/(\d+|\*)")


class ApiSpec:
    def __init__(self, document: str) -> None:
        self.name = document
        self.document = api_document(document)

    def _resolve(self, item: dict[str, Any]) -> dict[str, Any]:
        while "$ref" in item:
            node: Any = self.document
            for part in item["$ref"].lstrip("#/").split("/"):
                node = node[part]
            item = node
        return item

    @functools.cached_property
    def _paths(self) -> dict[str, Any]:
        return self.document["paths"]

    def problems(self, exchange: Exchange) -> list[str]:
        """What is wrong with the node's answer, as readable sentences (empty when it matches)."""
        method = exchange.method.lower()
        before_routing, problem = http_layer.judge(exchange)
        if before_routing:
            return [problem] if problem else []
        operation = self._paths.get(exchange.template, {}).get(method)
        if operation is None:
            return [f"the API document has no {exchange.method} {exchange.template}"]
        responses = operation["responses"]
        documented = responses.get(str(exchange.status))
        if documented is None:
            return [f"status {exchange.status} is not one the API document lists for {exchange.method} "
                    f"{exchange.template} ({', '.join(responses)})"]
        response = self._resolve(documented)
        problems = self._header_problems(exchange, response)
        if exchange.status != 101 and method != "head":
            problems += self._body_problems(exchange, response)
        return problems

    def _header_problems(self, exchange: Exchange, response: dict[str, Any]) -> list[str]:
        problems = []
        for name, header in (response.get("headers") or {}).items():
            if name.lower() == "content-range" and exchange.content_type == "multipart/byteranges":
                continue
            value = exchange.headers.get(name)
            if value is None:
                problems.append(f"no {name} header (documented for {exchange.status})")
                continue
            schema = self._resolve(self._resolve(header).get("schema") or {})
            if schema.get("type") == "integer" and not value.strip().isdigit():
                problems.append(f"{name}: {value!r} is not an integer")
            if "enum" in schema:
                tokens = {token.strip().lower() for token in value.split(",")}
                if not tokens & {str(allowed).lower() for allowed in schema["enum"]}:
                    problems.append(f"{name}: {value!r} is not {' or '.join(map(str, schema['enum']))}")
            if name.lower() == "content-range" and not _CONTENT_RANGE.fullmatch(value.strip()):
                problems.append(f"{name}: {value!r} is not 'bytes FIRST-LAST/LENGTH' (RFC 7233 §4.2)")
        return problems

    def _body_problems(self, exchange: Exchange, response: dict[str, Any]) -> list[str]:
        content = response.get("content")
        if not content or exchange.template == FILE_CONTENT:
            return []
        media = exchange.content_type
        if media not in content:
            return [f"Content-Type {exchange.headers.get('Content-Type')!r} is not one the API document lists "
                    f"({', '.join(content)})"]
        schema = (content[media] or {}).get("schema")
        if schema is None:
            return []
        if media == "application/json":
            try:
                body = exchange.json()
            except ValueError as error:
                return [f"the body is not JSON ({error}): {exchange.excerpt()}"]
            validator = schema_validator(json.dumps(schema, sort_keys=True), self.name)
            return [f"body {problem}" for problem in validation_errors(validator, body)]
        try:
            exchange.body.decode("utf-8")
        except UnicodeDecodeError:
            return [f"the {media} body is not UTF-8 text"]
        return []
