"""The op packages the conformance suite brings, written out at run time for the node to read.

Each directory here is a package template: ``op.yml.in`` becomes ``op.yml`` with the configured
image substituted, other files are copied. The contents package also gets a binary file and a
symlink to a canary file outside it (the traversal checks must never see the canary's bytes).
"""

from __future__ import annotations

import os
import secrets
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Mapping

TEMPLATES = Path(__file__).resolve().parent
IMAGE_TOKEN = "@IMAGE@"

QUICK = "conformance-quick"  # input `who`; prints "hello $who"
FAILS = "conformance-fails"  # exits 3
SLEEPER = "conformance-sleeper"  # prints "ready", then runs for 5 minutes
ORDERING = "conformance-ordering"  # serial: a parallel block of two containers, then QUICK as a nested op
CHATTY = "conformance-chatty"  # 2,000 lines over a few seconds: streams join it with since
FILES = "conformance-files"  # files for the contents checks
MISSING = "conformance-no-such-package"  # never written
PACKAGES = (QUICK, FAILS, SLEEPER, ORDERING, CHATTY, FILES)

CANARY = "conformance-canary.txt"  # beside the packages, outside every one of them
SYMLINK = "/data/escape.txt"  # in FILES, pointing at the canary
BLOB = bytes(range(256)) * 4  # every byte value, so a text-only transfer shows


@dataclass(frozen=True)
class SuitePackages:
    root: Path
    ref_template: str
    files: Mapping[str, bytes]  # FILES's regular files: package-absolute path -> content
    canary: bytes
    has_symlink: bool

    def path(self, name: str) -> Path:
        return self.root / name

    def ref(self, name: str) -> str:
        """How the node is told about package ``name`` (``--pkg-ref-template``)."""
        return self.ref_template.format(path=self.path(name), name=name, dir=self.root)


def write_packages(root: Path, image: str, ref_template: str) -> SuitePackages:
    """Write every package to ``root`` (replacing earlier copies of the suite's own packages)."""
    root.mkdir(parents=True, exist_ok=True)
    for name in PACKAGES:
        target = root / name
        if target.is_symlink() or target.is_file():
            target.unlink()
        elif target.exists():
            shutil.rmtree(target)
        shutil.copytree(TEMPLATES / name, target, ignore=shutil.ignore_patterns("op.yml.in"))
        text = (TEMPLATES / name / "op.yml.in").read_text(encoding="utf-8")
        (target / "op.yml").write_text(text.replace(IMAGE_TOKEN, image), encoding="utf-8")
    files_dir = root / FILES
    (files_dir / "data" / "blob.bin").write_bytes(BLOB)
    canary = f"conformance canary {secrets.token_hex(16)}: a node must never serve this file\n".encode()
    (root / CANARY).write_bytes(canary)
    files = {
        "/" + path.relative_to(files_dir).as_posix(): path.read_bytes()
        for path in sorted(files_dir.rglob("*")) if path.is_file() and not path.is_symlink()
    }
    try:
        os.symlink(os.path.join("..", "..", CANARY), files_dir / SYMLINK.lstrip("/"))
        has_symlink = True
    except OSError:
        has_symlink = False
    return SuitePackages(root, ref_template, files, canary, has_symlink)
