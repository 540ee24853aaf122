"""`opspec node`: serve the opspec node API (HTTP + WebSocket), running ops in local Docker containers."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from ..backends.runtime import make_runtime
from ..events.broker import DEFAULT_MAX_LAG
from .common import EXIT_OK, Command, UsageError, add_container_arguments, container_options, setting

def _configure_node(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--listen", metavar="HOST:PORT", default=None,
                        help="where to serve the node API (default 127.0.0.1:42224, where opctl's CLI looks; "
                             "env OPSPEC_NODE_LISTEN)")
    parser.add_argument("--data-dir", metavar="DIR", default=None,
                        help="the event history and scratch files (default $XDG_DATA_HOME/pytest-opspec/node; "
                             "env OPSPEC_NODE_DATA_DIR)")
    parser.add_argument("--max-lag", type=int, default=None, metavar="EVENTS",
                        help="close an event-stream subscriber (code 1013) once it is this many events behind "
                             f"(default {DEFAULT_MAX_LAG}; env OPSPEC_NODE_MAX_LAG)")
    parser.add_argument("--watch-pid", type=int, default=None, metavar="PID",
                        help="stop (cleanly) when process PID exits, e.g. the test session that started this node")
    parser.add_argument("--opctl-lock", action="store_true",
                        help="write $HOME/opctl/pid.lock so opctl's CLI uses this node instead of starting its own "
                             "(env OPSPEC_NODE_OPCTL_LOCK=1)")
    add_container_arguments(parser)


def node(args: argparse.Namespace) -> int:
    import asyncio
    import logging

    from ..node.core import Node, NodeSettings, default_data_dir
    from ..node.server import NodeServer, parse_listen, serve
    from ..node.opctl_lock import OpctlLock

    listen = str(setting(args.listen, "OPSPEC_NODE_LISTEN", "127.0.0.1:42224"))
    try:
        host, port = parse_listen(listen)
    except ValueError as error:
        raise UsageError(str(error)) from None
    data_dir = Path(str(setting(args.data_dir, "OPSPEC_NODE_DATA_DIR") or default_data_dir()))
    max_lag_text = setting(args.max_lag, "OPSPEC_NODE_MAX_LAG", DEFAULT_MAX_LAG)
    try:
        max_lag = int(str(max_lag_text))
    except ValueError:
        raise UsageError(f"OPSPEC_NODE_MAX_LAG={max_lag_text!r} is not a number of events") from None
    options = container_options(args)
    settings = NodeSettings(data_dir=data_dir, tty=options.tty, keep_containers=options.keep_containers,
                            max_lag=max_lag)
    opctl_lock = OpctlLock() if (args.opctl_lock or os.environ.get("OPSPEC_NODE_OPCTL_LOCK") in ("1", "true", "yes")) \
        else None
    logging.basicConfig(level=logging.INFO, format="opspec node: %(message)s", stream=sys.stderr)
    runtime = make_runtime(image_map=options.image_map, pull_policy=options.pull_policy,
                           keep_containers=options.keep_containers)
    server = NodeServer(Node(settings, runtime), host, port)

    def ready(server: NodeServer) -> None:
        print(f"opspec node: serving the node API on {server.url} (data dir {data_dir}); "
              "SIGTERM or Ctrl-C stops it", file=sys.stderr, flush=True)
        if opctl_lock is not None and opctl_lock.acquire():
            print(f"opspec node: wrote {opctl_lock.path} for opctl's CLI", file=sys.stderr, flush=True)

    try:
        asyncio.run(serve(server, ready, watch_pid=args.watch_pid))
    finally:
        if opctl_lock is not None:
            opctl_lock.release()
    print("opspec node: stopped", file=sys.stderr, flush=True)
    return EXIT_OK


COMMAND = Command(
    "node", "serve the opspec node API (HTTP + WebSocket), running ops in local Docker containers",
    _configure_node, node,
)
