"""`opspec pkg pull REF...` and `opspec pkg lock [PATH]`: remote packages into the cache, and lock files."""

from __future__ import annotations

import argparse
from pathlib import Path

from ..model import load_op
from ..model.types import op_calls
from ..options import add_command_options, read_command_options
from ..pkgs.errors import PkgRefError
from ..pkgs.refs import is_remote_ref
from ..pkgs.resolve import PackageResolver
from ..pkgs.locking import lock_tree
from .common import EXIT_OK, UsageError, package_options


def configure(parser: argparse.ArgumentParser) -> None:
    actions = parser.add_subparsers(dest="pkg_action", metavar="ACTION", required=True)
    pull = actions.add_parser("pull", help="fetch remote packages into the cache; print each ref and its commit",
                              description="fetch remote packages (host/path#tag) into the cache; print each ref "
                                          "and its commit", formatter_class=parser.formatter_class)
    pull.add_argument("refs", nargs="+", metavar="REF", help="a remote package ref host/path#tag")
    add_command_options(pull, "pkg")
    lock = actions.add_parser("lock", help="write PATH/opspec.lock pinning every remote ref reachable from the "
                                           "packages at or below PATH",
                              description="write PATH/opspec.lock: every remote ref reachable from the packages at "
                                          "or below PATH (transitively) pinned to its tag's commit",
                              formatter_class=parser.formatter_class)
    lock.add_argument("path", nargs="?", default=".", metavar="PATH", help="a directory (default: .)")
    add_command_options(lock, "pkg")


def called_refs(package_dir: Path) -> list[str]:
    """The refs a package's op calls name, in document order."""
    return [call.pkg_ref for call in op_calls(load_op(package_dir / "op.yml").run)]


def run(args: argparse.Namespace) -> int:
    packages = PackageResolver(package_options(read_command_options(args, "pkg")))
    if args.pkg_action == "pull":
        for ref in args.refs:
            if not is_remote_ref(ref):
                raise UsageError(f"{ref!r} is not a remote package ref; write host/path#tag")
        for ref in args.refs:
            try:
                package = packages.resolve_remote(ref)
            except PkgRefError as error:
                raise UsageError(str(error)) from None
            assert package.provenance is not None  # remote packages always carry it
            print(f"{ref} {package.provenance.commit}", flush=True)
        return EXIT_OK
    path = Path(args.path)
    if not path.is_dir():
        raise UsageError(f"{path}: not a directory")
    lock = lock_tree(path, packages, called_refs)
    lock.save()
    print(f"{lock.path}: {len(lock.packages)} remote package{'s' if len(lock.packages) != 1 else ''} pinned")
    for ref, entry in sorted(lock.packages.items()):
        print(f"  {ref} {entry.commit}")
    return EXIT_OK
