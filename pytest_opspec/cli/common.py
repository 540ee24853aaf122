"""What every `opspec` subcommand shares: exit codes, the usage error and the package options read back from
the option table (pytest_opspec/options.py). Imported by `opspec --help`, so it stays light."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Mapping

from ..errors import OpspecError

if TYPE_CHECKING:
    from ..pkgs.resolve import PkgOptions

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2


class UsageError(OpspecError):
    """The command line itself is wrong (exit 2)."""


def package_options(values: Mapping[str, Any]) -> PkgOptions:
    """The package options among a command's option values (``read_command_options``)."""
    from ..pkgs.resolve import PkgOptions  # the commands that read packages have imported pkgs already

    return PkgOptions(cache_dir=values.get("pkg_cache"), offline=bool(values.get("offline")),
                      pkg_map=dict(values.get("pkg_map") or ()))
