"""Print ``name==floor`` for every dependency of pyproject.toml (the lowest version each allows)."""

from __future__ import annotations

import re
import sys
import tomllib

_FLOOR = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)\s*(\[[^\]]*\])?\s*>=\s*([^,;\s]+)")


def floors(pyproject: str) -> list[str]:
    with open(pyproject, "rb") as file:
        dependencies = tomllib.load(file)["project"]["dependencies"]
    pins = []
    for requirement in dependencies:
        match = _FLOOR.match(requirement)
        if match is None:
            raise SystemExit(f"{pyproject}: {requirement!r} has no '>=' floor; give every dependency one")
        name, extras, version = match.groups()
        pins.append(f"{name}{extras or ''}=={version}")
    return pins


if __name__ == "__main__":
    print("\n".join(floors(sys.argv[1] if len(sys.argv) > 1 else "pyproject.toml")))
