"""POST /ops/starts: start a root op; 201 with its id (SEMANTICS §9; opctl protocol note §3)."""

from __future__ import annotations

import asyncio
import json
from typing import TYPE_CHECKING, Any, Mapping

from aiohttp import web

from ..executor.executor import ExecutorClosedError, RootPackage
from ..pkgs.refs import Creds
from ..values import Value, ValueType
from ..values.value import ValueShapeError
from .body import get_field, json_kind, read_json_object
from .errors import ApiError, Code
from .refs import check_ref, node_package
from .routing import Route

if TYPE_CHECKING:
    from .core import Node

EXAMPLE = '{"pkg": {"ref": "/abs/path/to/pkg"}, "args": {"name": {"string": "value"}}}'
_TYPE_KEYS = {t.value.lower(): t.value for t in ValueType}


async def start_op(request: web.Request, node: Node, params: Mapping[str, str]) -> web.StreamResponse:
    body = await read_json_object(request, EXAMPLE, node.settings.max_body_bytes)
    ref, creds = _pkg_ref(body)
    args = node.settings.access.check_mounts(_args(body))
    check_ref(ref, not_found_status=400)
    if node.stopping:
        raise ApiError(500, Code.NODE_STOPPING, "the node is shutting down and starts no more ops")
    loop = asyncio.get_running_loop()
    # Resolving may clone (concurrent starts of one uncached ref clone it once: the cache locks per ref).
    package = await loop.run_in_executor(None, lambda: node_package(node.packages, ref, creds, for_pkgs_route=False))
    try:
        op_id = await loop.run_in_executor(None, node.executor.start, RootPackage(package, None), args)
    except ExecutorClosedError:
        raise ApiError(500, Code.NODE_STOPPING, "the node is shutting down and starts no more ops") from None
    if _wants_json(request):
        return web.Response(status=201, text=json.dumps(op_id), content_type="application/json")
    # opctl's CLI reads the raw body as the id: no newline, no quotes.
    return web.Response(status=201, text=op_id, content_type="text/plain")


def _pkg_ref(body: Mapping[str, Any]) -> tuple[str, Creds | None]:
    pkg = get_field(body, "pkg")
    if pkg is None:
        raise ApiError(400, Code.PKG_REQUIRED, f"pkg required; send a body like {EXAMPLE}")
    if not isinstance(pkg, dict):
        raise ApiError(400, Code.INVALID_REQUEST, f"pkg must be an object with a ref, not {json_kind(pkg)}")
    ref = get_field(pkg, "ref")
    if not isinstance(ref, str):
        raise ApiError(400, Code.INVALID_REQUEST,
                       f"pkg.ref must be a string (an absolute path or host/path#tag), not {json_kind(ref)}")
    creds = get_field(pkg, "pullCreds")
    if creds is not None:
        if not isinstance(creds, dict):
            raise ApiError(400, Code.INVALID_REQUEST,
                           f"pkg.pullCreds must be an object with username and password, not {json_kind(creds)}")
        for name in ("username", "password"):
            value = get_field(creds, name)
            if not isinstance(value, str):
                raise ApiError(400, Code.INVALID_REQUEST,
                               f"pkg.pullCreds.{name} must be a string, not {json_kind(value)}")
        username, password = get_field(creds, "username"), get_field(creds, "password")
        # As the reference: credentials are used only when both are set.
        return ref, Creds(username, password) if username and password else None
    return ref, None


def _args(body: Mapping[str, Any]) -> dict[str, Value]:
    document = get_field(body, "args")
    if document is None:
        return {}
    if not isinstance(document, dict):
        raise ApiError(400, Code.INVALID_REQUEST,
                       f"args must be an object mapping input names to Values, not {json_kind(document)}")
    args = {}
    for name, value in document.items():
        try:
            args[name] = Value.from_json(_canonical_type_keys(value), f"args.{name}")
        except ValueShapeError as error:
            raise ApiError(400, Code.INVALID_ARG, f"invalid arg {name!r}: {error}") from None
    return args


def _canonical_type_keys(value: Any) -> Any:
    """``{"String": "x"}`` reads as ``{"string": "x"}``, as the reference's decoder matches keys."""
    if not isinstance(value, dict):
        return value
    return {_TYPE_KEYS.get(key.lower(), key): item for key, item in value.items()}


def _wants_json(request: web.Request) -> bool:
    accept = request.headers.get("Accept", "")
    types = [part.split(";")[0].strip().lower() for part in accept.split(",")]
    return "application/json" in types and "text/plain" not in types


ROUTE = Route("/ops/starts", {"POST": start_op})
