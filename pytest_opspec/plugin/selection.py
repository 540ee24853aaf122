"""Command-line args that name op packages or items in them, as pytest's own ids do.

pytest refuses ``::`` parts after a directory ("directory argument cannot contain :: selection parts"),
but an op package is a directory and its items' ids are ``<package>::<kind>[<name>]``. So before pytest
reads its args, each one naming a package (or its op.yml) is replaced by the package directory, and the
parts are kept here: the package's collector then yields only the items they name.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from ..pkgs.discover import OP_FILE  # not model's: its loader (yaml, schemas) is not needed here


@dataclass
class PackageArgs:
    """The packages named by command-line args, and which of their items each asks for."""

    packages: list[Path] = field(default_factory=list)
    # package -> what its `::` parts name (`call[x]`, `call`); packages also named without parts run whole.
    parts: dict[Path, set[str]] = field(default_factory=dict)
    whole: set[Path] = field(default_factory=set)

    def wants(self, package: Path, item_name: str) -> bool:
        """Whether an item of ``package`` was asked for: by name (``call[x]``) or kind (``call``)."""
        if package in self.whole or package not in self.parts:
            return True
        return any(item_name == part or item_name.startswith(f"{part}[") for part in self.parts[package])

    def selects_items(self, package: Path) -> bool:
        """Whether only some items of ``package`` were asked for (its other entries are then left out)."""
        return package in self.parts and package not in self.whole


def package_args(args: list[str], invocation_dir: Path) -> tuple[list[str], PackageArgs]:
    """``args`` with every ``<package>[::parts]`` (or ``<package>/op.yml[::parts]``) as the package path."""
    found = PackageArgs()
    rewritten: list[str] = []
    for arg in args:
        path_text, separator, parts = arg.partition("::")
        path = invocation_dir / path_text
        if path.name == OP_FILE and path.is_file():
            path, path_text = path.parent, str(Path(path_text).parent)
        if not (path.is_dir() and (path / OP_FILE).is_file()):
            rewritten.append(arg)
            continue
        package = path.resolve()
        if package not in found.packages:
            found.packages.append(package)
            rewritten.append(path_text)
        if separator:
            found.parts.setdefault(package, set()).add(parts)
        else:
            found.whole.add(package)
    return rewritten, found
