"""GET /pkgs/{ref}/contents and GET|HEAD /pkgs/{ref}/contents/{path}."""

from __future__ import annotations

import json
import re
from typing import Any

from .. import http_layer
from ..context import Context
from ..pkgs import BLOB, CANARY, FILES, MISSING, SYMLINK
from ..registry import CheckDisabled, CheckFailed, Clause, Endpoint, Level, check
from ..transport import Exchange

LISTING = "'/pkgs/{ref}/contents' get: \"Lists package contents\""
CONTENT = "'/pkgs/{ref}/contents/{path}' get: \"Gets pkg content at path\""
HEAD = "'/pkgs/{ref}/contents/{path}' head: \"Gets pkg content at path\""
RANGE = "parameters: Range: \"HTTP/1.1 Range header field\" (RFC 7233 §3.1)"
BLOB_PATH = "/data/blob.bin"
GO_MODE_DIR = 1 << 31
# Go's os.ModeType: dir, symlink, named pipe, socket, device, char device, irregular.
GO_MODE_TYPE = (1 << 31) | (1 << 27) | (1 << 25) | (1 << 24) | (1 << 26) | (1 << 21) | (1 << 19)


def _fail(problems: list[str]) -> None:
    if problems:
        raise CheckFailed("\n".join(problems))


def _files_ref(ctx: Context) -> str:
    return ctx.packages.ref(FILES)


SEED_KEYS = ("path", "size", "mode")


def _listing(ctx: Context) -> list[dict[str, Any]]:
    exchange = ctx.listing(_files_ref(ctx))
    if exchange.status != 200:
        raise CheckFailed(f"{exchange.describe()}: expected 200 {exchange.excerpt()}")
    try:
        entries = exchange.json()
    except ValueError:
        raise CheckFailed(f"the listing is not JSON: {exchange.excerpt()}") from None
    if not isinstance(entries, list) or not all(isinstance(entry, dict) for entry in entries):
        raise CheckFailed(f"the listing is not an array of objects: {exchange.excerpt()}")
    return entries


def _field(entry: dict[str, Any], name: str) -> Any:
    """A listing entry's field, its key matched case-insensitively as Go's JSON decoding (the reference's
    clients) matches it; the spelling is judged by pkgs.contents.list-keys alone."""
    return next((value for key, value in entry.items() if key.lower() == name), None)


def _received(entries: list[dict[str, Any]], limit: int = 3) -> str:
    """What the listing held, for a failure message: its size and its first entries as received."""
    shown = ", ".join(json.dumps(entry, sort_keys=True) for entry in entries[:limit])
    more = f", ... ({len(entries)} entries)" if len(entries) > limit else ""
    return f"received {shown or 'an empty array'}{more}"


@check("pkgs.contents.list", endpoint=Endpoint.PKGS_CONTENTS, level=Level.MUST,
       clause=f"{LISTING}; '200' items: path: \"absolute path within pkg\", size: integer, mode: integer",
       title="the listing names every file of the package with its size")
def list_contents(ctx: Context) -> None:
    received = _listing(ctx)
    entries = {_field(entry, "path"): entry for entry in received}
    problems = []
    for path, content in ctx.packages.files.items():
        entry = entries.get(path)
        if entry is None:
            problems.append(f"{path} is not listed")
        elif _field(entry, "size") != len(content):
            problems.append(f"{path}: size {_field(entry, 'size')!r}, expected {len(content)}: "
                            f"{json.dumps(entry, sort_keys=True)}")
    if problems:
        raise CheckFailed("\n".join([*problems, _received(received)]))


@check("pkgs.contents.list-keys", endpoint=Endpoint.PKGS_CONTENTS, level=Level.SHOULD,
       clause=Clause(f"{LISTING}; '200' items: properties: path, size, mode",
                     "SEMANTICS §10.17: the reference sends Path, Size, Mode; the seed's schema requires no "
                     "property and Go clients match keys case-insensitively", reference_only=True),
       title="listing entries spell their keys as the seed does: path, size, mode")
def list_keys(ctx: Context) -> None:
    received = _listing(ctx)
    misspelt = sorted({key for entry in received for key in entry
                       if key.lower() in SEED_KEYS and key not in SEED_KEYS})
    if misspelt:
        raise CheckFailed(f"entries use the keys {', '.join(misspelt)}; the seed names them "
                          f"{', '.join(key.lower() for key in misspelt)}: {_received(received)}")


@check("pkgs.contents.list-modes", endpoint=Endpoint.PKGS_CONTENTS, level=Level.SHOULD,
       clause=f"{LISTING}; mode: \"golang FileMode\" (type bits above the permission bits; a directory has bit 31)",
       title="every listed file has a mode, and modes are Go FileModes")
def list_modes(ctx: Context) -> None:
    received = _listing(ctx)
    problems = []
    listed = {_field(entry, "path"): entry for entry in received}
    for path in ctx.packages.files:
        if path in listed and not isinstance(_field(listed[path], "mode"), int):
            problems.append(f"{path} has no integer mode: {json.dumps(listed[path], sort_keys=True)}")
    for path, entry in listed.items():
        mode = _field(entry, "mode")
        if not isinstance(mode, int):
            continue
        if path in ctx.packages.files:
            if mode & GO_MODE_TYPE:
                problems.append(f"{path} is a regular file but its mode {mode} has Go type bits")
            elif not mode & 0o400:
                problems.append(f"{path}: mode {mode:o} is not a permission set the suite wrote (owner can read)")
        elif path in ("/data", "/data/nested") and not mode & GO_MODE_DIR:
            problems.append(f"{path} is a directory but its mode {mode} lacks the directory bit (1<<31)")
    if not any(path in listed for path in ctx.packages.files):
        problems.append(f"none of the package's files is listed, so no mode can be judged: {_received(received)}")
    _fail(problems)


@check("pkgs.contents.get-file", endpoint=Endpoint.PKGS_CONTENTS, level=Level.MUST,
       clause=f"{CONTENT}; '200': \"OK\"",
       title="GET of a file returns its exact bytes (text, binary, nested)")
def get_file(ctx: Context) -> None:
    problems = []
    for path, content in ctx.packages.files.items():
        exchange = ctx.content(_files_ref(ctx), path)
        if exchange.status != 200:
            problems.append(f"{exchange.describe()}: expected 200 {exchange.excerpt()}")
        elif exchange.body != content:
            problems.append(f"{exchange.describe()}: {len(exchange.body)} bytes that differ from the file's "
                            f"{len(content)}")
    _fail(problems)


def _head(ctx: Context, headers: dict[str, str] | None = None) -> Exchange:
    """HEAD of the blob; a node refusing the method (405, 501) fails: the seed declares head here."""
    return ctx.content(_files_ref(ctx), BLOB_PATH, method="HEAD", headers=headers)


def _int_header(exchange: Exchange, name: str) -> int | None:
    value = exchange.headers.get(name)
    return int(value) if value is not None and value.strip().isdigit() else None


@check("pkgs.contents.head-file", endpoint=Endpoint.PKGS_CONTENTS, level=Level.MUST,
       clause=f"{HEAD}; '200' headers: Accept-Ranges: bytes, Content-Length: integer",
       title="HEAD of a file gives GET's status and length, without the body")
def head_file(ctx: Context) -> None:
    exchange = _head(ctx)
    if exchange.status != 200:
        raise CheckFailed(f"{exchange.describe()}: expected 200, as for GET (the seed declares head for this "
                          f"path) {exchange.excerpt()}")
    problems = []
    if _int_header(exchange, "Content-Length") != len(BLOB):
        problems.append(f"Content-Length: {exchange.headers.get('Content-Length')!r}, expected {len(BLOB)} "
                        "(the length GET returns)")
    if (exchange.headers.get("Accept-Ranges") or "").strip() != "bytes":
        problems.append(f"Accept-Ranges: {exchange.headers.get('Accept-Ranges')!r}, expected bytes")
    _fail(problems)


@check("pkgs.contents.head-range", endpoint=Endpoint.PKGS_CONTENTS, level=Level.MUST,
       clause=f"{HEAD}; {RANGE}; '206' headers: Content-Length, Content-Range (RFC 7233 §3.1 also lets a "
              "server ignore Range on HEAD)",
       title="HEAD with a Range answers 206 with that range's headers, or 200 ignoring it")
def head_range(ctx: Context) -> None:
    exchange = _head(ctx, {"Range": "bytes=0-3"})
    if exchange.status == 206:
        problems = []
        if exchange.headers.get("Content-Range") != f"bytes 0-3/{len(BLOB)}":
            problems.append(f"Content-Range: {exchange.headers.get('Content-Range')!r}, expected bytes 0-3/{len(BLOB)}")
        if _int_header(exchange, "Content-Length") != 4:
            problems.append(f"Content-Length: {exchange.headers.get('Content-Length')!r}, expected 4")
        _fail(problems)
    elif exchange.status == 200:
        if _int_header(exchange, "Content-Length") != len(BLOB):
            raise CheckFailed(f"200 with Content-Length {exchange.headers.get('Content-Length')!r}, expected "
                              f"{len(BLOB)}")
    else:
        raise CheckFailed(f"{exchange.describe()}: expected 206 or 200 (the seed declares head for this path) "
                          f"{exchange.excerpt()}")


def _ranged(ctx: Context, header: str) -> Exchange:
    return ctx.content(_files_ref(ctx), BLOB_PATH, headers={"Range": header})


@check("pkgs.contents.range-single", endpoint=Endpoint.PKGS_CONTENTS, level=Level.MUST,
       clause=f"{CONTENT}; {RANGE}; '206': \"Partial Content\", headers: Content-Range; '200' Accept-Ranges: "
              "enum: [bytes]",
       title="a single byte range is a 206 with exactly those bytes and their Content-Range")
def range_single(ctx: Context) -> None:
    size = len(BLOB)
    problems = []
    for header, first, last in (("bytes=10-19", 10, 19), ("bytes=-5", size - 5, size - 1),
                                (f"bytes={size - 4}-", size - 4, size - 1)):
        exchange = _ranged(ctx, header)
        if exchange.status != 206:
            problems.append(f"Range: {header}: {exchange.describe()}, expected 206")
            continue
        if exchange.body != BLOB[first:last + 1]:
            problems.append(f"Range: {header}: got {exchange.body[:40]!r}..., expected bytes {first}-{last}")
        if exchange.headers.get("Content-Range") != f"bytes {first}-{last}/{size}":
            problems.append(f"Range: {header}: Content-Range {exchange.headers.get('Content-Range')!r}, expected "
                            f"bytes {first}-{last}/{size}")
    _fail(problems)


def _parts(exchange: Exchange) -> list[tuple[str | None, bytes]]:
    """The (Content-Range, body) of each part of a multipart/byteranges body."""
    match = re.search(r'boundary="?([^";]+)"?', exchange.headers.get("Content-Type") or "")
    if not match:
        raise CheckFailed(f"multipart/byteranges without a boundary: {exchange.headers.get('Content-Type')!r}")
    delimiter = b"--" + match[1].encode()
    parts = []
    for chunk in exchange.body.split(delimiter)[1:]:
        if chunk.startswith(b"--"):
            break  # the close delimiter
        head, _, content = chunk.lstrip(b"\r\n").partition(b"\r\n\r\n")
        content_range = next((line.split(b":", 1)[1].strip().decode() for line in head.split(b"\r\n")
                              if line.lower().startswith(b"content-range:")), None)
        parts.append((content_range, content[:-2] if content.endswith(b"\r\n") else content))
    return parts


@check("pkgs.contents.range-multiple", endpoint=Endpoint.PKGS_CONTENTS, level=Level.SHOULD,
       clause=f"{CONTENT}; {RANGE}; '206' content: multipart/byteranges",
       title="several byte ranges are a 206 multipart/byteranges with one part per range")
def range_multiple(ctx: Context) -> None:
    size = len(BLOB)
    exchange = _ranged(ctx, "bytes=0-3,100-103")
    if exchange.status != 206:
        raise CheckFailed(f"Range: bytes=0-3,100-103: {exchange.describe()}, expected 206")
    if exchange.content_type != "multipart/byteranges":
        raise CheckFailed(f"Content-Type {exchange.headers.get('Content-Type')!r}, expected multipart/byteranges")
    expected = [(f"bytes 0-3/{size}", BLOB[0:4]), (f"bytes 100-103/{size}", BLOB[100:104])]
    got = _parts(exchange)
    if got != expected:
        raise CheckFailed(f"parts {got!r}, expected {expected!r}")


@check("pkgs.contents.range-unsatisfiable", endpoint=Endpoint.PKGS_CONTENTS, level=Level.MUST,
       clause=f"{CONTENT}; {RANGE}; '416': \"Range Not Satisfiable\"",
       title="a range beyond the end of the file is a 416")
def range_unsatisfiable(ctx: Context) -> None:
    header = f"bytes={len(BLOB) + 100}-{len(BLOB) + 200}"
    exchange = _ranged(ctx, header)
    if exchange.status != 416:
        raise CheckFailed(f"Range: {header}: {exchange.describe()}, expected 416 {exchange.excerpt()}")


@check("pkgs.contents.missing-file", endpoint=Endpoint.PKGS_CONTENTS, level=Level.MUST,
       clause=f"{CONTENT}; '404': \"Not Found\"",
       title="a path with no file is a 404")
def missing_file(ctx: Context) -> None:
    exchange = ctx.content(_files_ref(ctx), "/data/no-such-file.txt")
    if exchange.status != 404:
        raise CheckFailed(f"{exchange.describe()}: expected 404 {exchange.excerpt()}")


@check("pkgs.contents.unknown-pkg", endpoint=Endpoint.PKGS_CONTENTS, level=Level.MUST,
       clause=f"{LISTING}; {CONTENT}; '404': \"Not Found\"",
       title="a package that does not exist is a 404, for its listing and its files")
def unknown_pkg(ctx: Context) -> None:
    ref = ctx.packages.ref(MISSING)
    problems = [f"{exchange.describe()}: expected 404 {exchange.excerpt()}"
                for exchange in (ctx.listing(ref), ctx.content(ref, "/op.yml")) if exchange.status != 404]
    _fail(problems)


def _refused(exchange: Exchange, canary: bytes) -> str | None:
    """Why the answer to an escape attempt is wrong (None when it was refused). A target the HTTP layer
    answers (dot-segments in the path) may also be redirected to its normal form (http_layer.py)."""
    if canary in exchange.body:
        return f"{exchange.describe()}: served the canary file outside the package"
    before_routing, problem = http_layer.judge(exchange)
    if before_routing and not problem and 300 <= exchange.status < 400:
        return None
    if not 400 <= exchange.status < 500 or exchange.status == 416:
        return f"{exchange.describe()}: expected a 4xx refusal (not 416) {exchange.excerpt()}"
    return None


@check("pkgs.contents.path-traversal", endpoint=Endpoint.PKGS_CONTENTS, level=Level.MUST,
       clause=Clause(f"{CONTENT}; path: \"absolute path within pkg\"", "a content path never leaves the package; "
                     "SEMANTICS §10.17: reject '..'"),
       title="paths with '..' are refused (any 4xx but 416) and never serve a file outside the package")
def path_traversal(ctx: Context) -> None:
    escape = "../" + CANARY
    attempts = [
        (f"/{escape}", False),  # one encoded segment: %2F..%2Fconformance-canary.txt
        (escape, False),
        (f"/data/../../{CANARY}", False),
        ("%2e%2e%2F" + CANARY, True),  # dots encoded, sent as is
        ("%2E%2E/" + CANARY, True),  # and an unencoded slash
        ("/" + "../" * 12 + "etc/passwd", False),
    ]
    problems = []
    for path, raw in attempts:
        problem = _refused(ctx.content(_files_ref(ctx), path, raw_path=raw), ctx.packages.canary)
        if problem:
            problems.append(problem)
    _fail(problems)


@check("pkgs.contents.symlink-escape", endpoint=Endpoint.PKGS_CONTENTS, level=Level.SHOULD,
       clause=Clause(f"{CONTENT}; path: \"absolute path within pkg\"",
                     "a symlink in the package that leads outside it does not open a way out"),
       title="a symlink leading outside the package is refused")
def symlink_escape(ctx: Context) -> None:
    if not ctx.packages.has_symlink:
        raise CheckDisabled("the suite could not create a symlink in the package dir")
    problem = _refused(ctx.content(_files_ref(ctx), SYMLINK), ctx.packages.canary)
    if problem:
        raise CheckFailed(problem)
