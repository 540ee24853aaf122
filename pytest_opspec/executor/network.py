"""Does a root op need its own container network?

Containers reach each other by `name` (and by container id, which socket outputs hand out) only on a
user-defined network. Creating and removing one costs about as much as a container start on the engine,
so a root op gets a network only when some container in its graph (including local sub-ops) has a
`name` or `sockets`; an op that cannot be analysed (a broken ref, a remote package not fetched yet) gets
one to be safe.
"""

from __future__ import annotations

from pathlib import Path

from ..errors import OpspecError
from ..model import load_op
from ..model.types import Call, ContainerCall, OpCall, OpDefinition, ParallelCall, SerialCall
from ..pkgs.resolve import PackageResolver


def needs_network(op: OpDefinition, packages: PackageResolver) -> bool:
    return _graph_needs_network(op.run, op.pkg_dir, packages, visited=set())


def _graph_needs_network(call: Call | None, pkg_dir: Path, packages: PackageResolver, visited: set[Path]) -> bool:
    if call is None:
        return False
    if isinstance(call, ContainerCall):
        return bool(call.name or call.sockets)
    if isinstance(call, (SerialCall, ParallelCall)):
        return any(_graph_needs_network(child, pkg_dir, packages, visited) for child in call.calls)
    if isinstance(call, OpCall):
        try:
            # Never fetches: a remote package not yet available is analysed as unknown.
            package = packages.resolve(call.pkg_ref, [pkg_dir.parent], fetch=False)
            if package.dir in visited:
                return False
            visited.add(package.dir)
            callee = load_op(package.manifest)
        except OpspecError:
            return True
        return _graph_needs_network(callee.run, package.dir, packages, visited)
    return True
