"""`opspec node --memory ...`: limits for every op the node runs; the reason in opErred's words."""

from __future__ import annotations

import subprocess

from pytest_opspec.events import EventType, Outcome
from pytest_opspec.limits import Limits
from pytest_opspec.node.client import NodeClient

from .test_cli_node import ENV, OPSPEC


def test_the_nodes_limits_apply_to_every_op_and_opErred_says_why(node_factory, make_op) -> None:
    pkg = make_op("hog", """
        name: hog
        run: { container: { image: { ref: 'alpine:3.19' }, cmd: [dd, if=/dev/zero, of=/dev/null, bs=200M, count=1] } }
    """)
    node = node_factory(limits=Limits.parse({"memory": "64m"}))
    with NodeClient(node.url, timeout=30) as client:
        events = client.wait_for_end(client.start_op(pkg), timeout=60)
    erred = [e for e in events if e.type is EventType.OP_ERRED]
    assert erred[0].msg == "nonzero container exit code. Exit code was: 137; out of memory (limit 64 MiB)"
    exited = next(e for e in events if e.type is EventType.CONTAINER_EXITED)
    assert set(exited.to_json()["containerExited"]) == {"imageRef", "exitCode", "rootOpId", "containerId", "pkgRef",
                                                        "outputs"}  # the seed's fields, nothing more
    assert events[-1].outcome is Outcome.FAILED


def test_a_bad_node_limit_is_a_usage_error_naming_it() -> None:
    done = subprocess.run([*OPSPEC, "node", "--listen", "127.0.0.1:0", "--pids-limit", "0"], capture_output=True,
                          text=True, env=ENV, timeout=60)
    assert done.returncode == 2
    assert "--pids-limit: '0': the pids limit must be at least 1" in done.stderr
    assert "Traceback" not in done.stderr
