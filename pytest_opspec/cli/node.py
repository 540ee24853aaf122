"""`opspec node`: serve the opspec node API (HTTP + WebSocket), running ops in local Docker containers."""

from __future__ import annotations

import argparse
import dataclasses
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..backends.runtime import make_runtime
from ..options import add_command_options, limits_from, read_command_options
from .common import EXIT_OK, UsageError

if TYPE_CHECKING:
    from ..node.access import AccessPolicy
    from ..node.tls import ServerTLS


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--watch-pid", type=int, default=None, metavar="PID",
                        help="stop (cleanly) when process PID exits, e.g. the test session that started this node")
    add_command_options(parser, "node")


def run(args: argparse.Namespace) -> int:
    import asyncio
    import logging

    from ..node.core import Node, NodeSettings, default_data_dir
    from ..node.opctl_lock import OpctlLock
    from ..node.server import NodeServer, serve

    options = read_command_options(args, "node")
    host, port = options["listen"]
    access, tls = _node_access(options, host)
    data_dir = options["data_dir"] or default_data_dir()
    settings = NodeSettings(data_dir=data_dir, tty=options["tty"], keep_containers=options["keep_containers"],
                            pkg_cache=options["pkg_cache"], access=access, tls=tls, limits=limits_from(options))
    if options["max_lag"] is not None:
        settings = dataclasses.replace(settings, max_lag=options["max_lag"])
    if options["retain_ops"] is not None:
        settings = dataclasses.replace(settings, retain_ops=options["retain_ops"])
    opctl_lock = OpctlLock() if options["opctl_lock"] else None
    url_file: Path | None = options["url_file"]
    logging.basicConfig(level=logging.INFO, format="opspec node: %(message)s", stream=sys.stderr)
    runtime = make_runtime(image_map=dict(options["image_map"]), pull_policy=options["pull"],
                           keep_containers=options["keep_containers"])
    server = NodeServer(Node(settings, runtime), host, port)

    def ready(server: NodeServer) -> None:
        guard = "mutual TLS" if tls is not None and tls.mutual else "loopback only"
        print(f"opspec node: serving the node API on {server.url} ({guard}; data dir {data_dir}); "
              "SIGTERM or Ctrl-C stops it", file=sys.stderr, flush=True)
        if url_file is not None:  # the machine-readable channel: written whole, then renamed into place
            partial = url_file.with_name(url_file.name + ".partial")
            partial.write_text(server.url + "\n")
            partial.replace(url_file)
        if opctl_lock is not None and opctl_lock.acquire():
            print(f"opspec node: wrote {opctl_lock.path} for opctl's CLI", file=sys.stderr, flush=True)

    try:
        asyncio.run(serve(server, ready, watch_pid=args.watch_pid))
    finally:
        if opctl_lock is not None:
            opctl_lock.release()
    print("opspec node: stopped", file=sys.stderr, flush=True)
    return EXIT_OK


def _node_access(options: dict[str, Any], host: str) -> tuple[AccessPolicy, ServerTLS | None]:
    """The access policy and TLS of `opspec node`, checked before anything starts (usage errors)."""
    from ..node.access import AccessPolicy, is_loopback, is_wildcard
    from ..node.server import ExposedNodeError, check_exposure
    from ..node.tls import ServerTLS, TLSConfigError

    cert, key, client_ca = options["tls_cert"], options["tls_key"], options["tls_client_ca"]
    tls = None
    if cert or key or client_ca:
        if not (cert and key):
            raise UsageError("--tls-cert and --tls-key go together (and --tls-client-ca needs both)")
        tls = ServerTLS(cert, key, client_ca)
    try:
        check_exposure(host, tls)
        if tls is not None:
            tls.context()  # the files are readable and match, before anything starts
    except (ExposedNodeError, TLSConfigError) as error:
        raise UsageError(str(error)) from None
    for directory in options["allow_mount"]:
        if not directory.is_dir():
            raise UsageError(f"--allow-mount {directory}: not an existing directory")
    hosts = list(options["allow_host"])
    if not is_wildcard(host) and not is_loopback(host):
        hosts.append(host)  # clients name the address they connect to
    return AccessPolicy.build(origins=options["allow_origin"], hosts=hosts, mounts=options["allow_mount"]), tls
