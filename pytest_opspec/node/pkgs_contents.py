"""GET|HEAD /pkgs/{ref}/contents and /pkgs/{ref}/contents/{path} (SEMANTICS §9, §10.17).

``{ref}`` and ``{path}`` are percent-encoded (opctl's client sends ``%2F`` for each ``/``); refs are
absolute paths of local packages or remote refs ``host/path#tag``, whose Basic credentials are the pull
credentials (local packages need none). Content paths are package-absolute and never leave the package.
"""

from __future__ import annotations

import asyncio
import logging
import mimetypes
import os
import re
import secrets
from typing import IO, TYPE_CHECKING, Mapping
from urllib.parse import unquote

from aiohttp import web

from ..pkgs.resolve import Package
from ..pkgs.beneath import BeneathError
from ..pkgs.contents import list_contents, open_content
from .errors import ApiError, Code
from .ranges import RangeNotSatisfiable, parse_range
from .refs import basic_creds, node_package
from .routing import Route

if TYPE_CHECKING:
    from .core import Node

log = logging.getLogger(__name__)

CHUNK = 256 * 1024
_BAD_ESCAPE = re.compile(r"%(?![0-9A-Fa-f]{2})")


def _decode(raw: str, what: str, code: Code) -> str:
    if _BAD_ESCAPE.search(raw):
        raise ApiError(400, code, f"the {what} {raw!r} has a malformed percent-escape")
    return unquote(raw, errors="surrogateescape")


async def _package(request: web.Request, node: Node, raw_ref: str) -> Package:
    creds = basic_creds(request.headers.get("Authorization"))
    ref = _decode(raw_ref, "package ref", Code.INVALID_PKG_REF)
    loop = asyncio.get_running_loop()
    return await loop.run_in_executor(None, lambda: node_package(node.packages, ref, creds, for_pkgs_route=True))


def _provenance_headers(package: Package) -> dict[str, str]:
    """Where a remote package came from; the body stays the seed's array (or the file)."""
    provenance = package.provenance
    if provenance is None:
        return {}
    headers = {"Opspec-Pkg-Digest": provenance.digest, "Opspec-Pkg-Source": provenance.source}
    if provenance.commit:
        headers["Opspec-Pkg-Commit"] = provenance.commit
    return headers


async def get_listing(request: web.Request, node: Node, params: Mapping[str, str]) -> web.StreamResponse:
    package = await _package(request, node, params["ref"])
    try:
        entries = await asyncio.get_running_loop().run_in_executor(None, list_contents, package.dir)
    except BeneathError as error:
        raise ApiError(403, Code.PKG_TOO_LARGE, f"package {package.ref}: {error}; the node does not list it") from None
    except OSError as error:
        raise _read_error(error, f"cannot list package {package.ref}") from None
    return web.json_response(entries, headers=_provenance_headers(package))


def _read_error(error: OSError, what: str) -> ApiError:
    """The node may not read it (403), or reading failed (500)."""
    if isinstance(error, PermissionError):
        return ApiError(403, Code.PKG_READ_FORBIDDEN, f"{what}: the node has no permission ({error.strerror})")
    return ApiError(500, Code.PKG_READ_FAILED, f"{what}: {error}")


async def get_content(request: web.Request, node: Node, params: Mapping[str, str]) -> web.StreamResponse:
    try:
        package = await _package(request, node, params["ref"])
        path = _decode(params["path"], "content path", Code.INVALID_PATH)
    except ApiError as error:
        # The seed lists no 400 for content (unlike the listing): a ref or path the node cannot read
        # names no content it has.
        if error.status == 400:
            raise ApiError(404, error.code, error.message) from None
        raise
    loop = asyncio.get_running_loop()
    try:
        fd = await loop.run_in_executor(None, open_content, package.dir, path)
    except BeneathError as error:
        status, code = _CONTENT_ERRORS[error.kind]
        raise ApiError(status, code, f"package {package.ref}: {error}") from None
    except OSError as error:
        raise _read_error(error, f"cannot read {path[:200]} of package {package.ref}") from None
    with open(fd, "rb") as handle:
        return await _send_file(request, handle, path.rpartition("/")[2], _provenance_headers(package))


_CONTENT_ERRORS = {
    BeneathError.INVALID: (404, Code.INVALID_PATH),
    BeneathError.TOO_LONG: (404, Code.PATH_TOO_LONG),
    BeneathError.OUTSIDE: (403, Code.PATH_OUTSIDE_PKG),
    BeneathError.MISSING: (404, Code.CONTENT_NOT_FOUND),
    BeneathError.NOT_A_FILE: (404, Code.NOT_A_FILE),
}


async def _send_file(request: web.Request, handle: IO[bytes], name: str,
                     extra_headers: Mapping[str, str]) -> web.StreamResponse:
    loop = asyncio.get_running_loop()
    size = os.fstat(handle.fileno()).st_size
    content_type = await loop.run_in_executor(None, _content_type, handle, name)
    headers = {"Accept-Ranges": "bytes", **extra_headers}
    # If-Range names a validator; this node issues none, so it can never match: send everything.
    header = None if "If-Range" in request.headers else request.headers.get("Range")
    try:
        ranges = parse_range(header, size)
    except RangeNotSatisfiable as error:
        raise ApiError(416, Code.RANGE_NOT_SATISFIABLE, str(error),
                       headers={**headers, "Content-Range": f"bytes */{size}"}) from None
    # What to send: (prefix bytes, first, last) triples and a closing suffix.
    pieces: list[tuple[bytes, int, int]]
    suffix = b""
    if ranges is None:
        status, pieces = 200, [(b"", 0, size - 1)]
        headers["Content-Type"] = content_type
    elif len(ranges) == 1:
        (first, last), = ranges
        status, pieces = 206, [(b"", first, last)]
        headers["Content-Type"] = content_type
        headers["Content-Range"] = f"bytes {first}-{last}/{size}"
    else:
        boundary = secrets.token_hex(16)
        status = 206
        headers["Content-Type"] = f"multipart/byteranges; boundary={boundary}"
        pieces = [(f"--{boundary}\r\nContent-Type: {content_type}\r\nContent-Range: bytes {first}-{last}/{size}"
                   f"\r\n\r\n".encode() if index == 0 else
                   f"\r\n--{boundary}\r\nContent-Type: {content_type}\r\nContent-Range: bytes {first}-{last}/{size}"
                   f"\r\n\r\n".encode(), first, last)
                  for index, (first, last) in enumerate(ranges)]
        suffix = f"\r\n--{boundary}--\r\n".encode()
    response = web.StreamResponse(status=status, headers=headers)
    response.content_length = sum(len(prefix) + max(last - first + 1, 0)
                                  for prefix, first, last in pieces) + len(suffix)
    await response.prepare(request)
    if request.method != "HEAD":
        for prefix, first, last in pieces:
            if prefix:
                await response.write(prefix)
            position = first
            while position <= last:
                chunk = await loop.run_in_executor(None, _read_at, handle, position, min(CHUNK, last - position + 1))
                if not chunk:
                    # The file shrank while being sent: cut the connection so the client sees a short body.
                    log.warning("%s shrank while being sent; closing the connection", name)
                    if request.transport is not None:
                        request.transport.close()
                    return response
                await response.write(chunk)
                position += len(chunk)
        if suffix:
            await response.write(suffix)
    await response.write_eof()
    return response


def _read_at(handle: IO[bytes], position: int, size: int) -> bytes:
    return os.pread(handle.fileno(), size, position)


def _content_type(handle: IO[bytes], name: str) -> str:
    guessed, _ = mimetypes.guess_type(name)
    if guessed is not None:
        return f"{guessed}; charset=utf-8" if guessed.startswith("text/") else guessed
    head = os.pread(handle.fileno(), 512, 0)
    try:
        head.decode("utf-8")
        text = b"\x00" not in head
    except UnicodeDecodeError as error:
        text = error.start >= len(head) - 3  # a character cut at the 512-byte mark
    return "text/plain; charset=utf-8" if text else "application/octet-stream"


LIST_ROUTE = Route("/pkgs/{ref}/contents", {"GET": get_listing, "HEAD": get_listing})
CONTENT_ROUTE = Route("/pkgs/{ref}/contents/{path}", {"GET": get_content, "HEAD": get_content})
