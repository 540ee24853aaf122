"""Error responses of the node API: a status, a machine-readable code and one complete sentence.

Every error body is JSON ``{"code": "...", "message": "..."}``; handlers raise ``ApiError`` and the
dispatcher renders it, so no handler builds error responses by hand and no traceback leaks out.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Mapping

from aiohttp import web


class Code(StrEnum):
    # requests
    NOT_FOUND = "NOT_FOUND"  # no such route
    METHOD_NOT_ALLOWED = "METHOD_NOT_ALLOWED"
    MALFORMED_JSON = "MALFORMED_JSON"
    INVALID_REQUEST = "INVALID_REQUEST"  # valid JSON of the wrong shape
    BODY_TOO_LARGE = "BODY_TOO_LARGE"
    JSON_TOO_DEEP = "JSON_TOO_DEEP"
    # access (see access.py)
    HOST_NOT_ALLOWED = "HOST_NOT_ALLOWED"
    ORIGIN_NOT_ALLOWED = "ORIGIN_NOT_ALLOWED"
    MOUNT_NOT_ALLOWED = "MOUNT_NOT_ALLOWED"
    # ops
    PKG_REQUIRED = "PKG_REQUIRED"
    INVALID_ARG = "INVALID_ARG"
    OP_ID_REQUIRED = "OP_ID_REQUIRED"
    # packages
    INVALID_PKG_REF = "INVALID_PKG_REF"
    PKG_NOT_FOUND = "PKG_NOT_FOUND"
    PKG_NOT_RESOLVED = "PKG_NOT_RESOLVED"
    PKG_PULL_AUTHENTICATION = "PKG_PULL_AUTHENTICATION"
    PKG_PULL_AUTHORIZATION = "PKG_PULL_AUTHORIZATION"
    PKG_FETCH_FAILED = "PKG_FETCH_FAILED"
    PKG_OFFLINE = "PKG_OFFLINE"
    PKG_TAG_MOVED = "PKG_TAG_MOVED"
    INVALID_CREDENTIALS = "INVALID_CREDENTIALS"
    INVALID_PATH = "INVALID_PATH"
    PATH_TOO_LONG = "PATH_TOO_LONG"
    PATH_OUTSIDE_PKG = "PATH_OUTSIDE_PKG"
    CONTENT_NOT_FOUND = "CONTENT_NOT_FOUND"
    NOT_A_FILE = "NOT_A_FILE"
    RANGE_NOT_SATISFIABLE = "RANGE_NOT_SATISFIABLE"
    PKG_READ_FORBIDDEN = "PKG_READ_FORBIDDEN"
    PKG_TOO_LARGE = "PKG_TOO_LARGE"
    PKG_READ_FAILED = "PKG_READ_FAILED"
    # events
    INVALID_SINCE = "INVALID_SINCE"
    NOT_A_WEBSOCKET = "NOT_A_WEBSOCKET"
    # the node itself
    ENGINE_UNAVAILABLE = "ENGINE_UNAVAILABLE"
    EVENT_STORE_FAILED = "EVENT_STORE_FAILED"
    NODE_STOPPING = "NODE_STOPPING"
    INTERNAL_ERROR = "INTERNAL_ERROR"


class ApiError(Exception):
    def __init__(self, status: int, code: Code, message: str, headers: Mapping[str, str] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.headers = dict(headers or {})

    def response(self) -> web.Response:
        return error_response(self.status, self.code, self.message, self.headers)


def error_response(status: int, code: Code, message: str, headers: Mapping[str, str] | None = None) -> web.Response:
    return web.json_response({"code": code.value, "message": message}, status=status, headers=headers)
