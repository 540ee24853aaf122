"""Which modules an `opspec` command loads: the command runs in a fresh process, as installed, which prints its
exit code and every module loaded once the command returned."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

# What `opspec run` of a local op with one plain container must not load: the other commands' code, the SDKs we
# do not use, and standard modules that only an error report, a number, a remote package, a lock file, a
# constraint, a file or dir to copy, a log message or an encoded event needs, once its op.yml is in the op
# cache (PyYAML imports base64 and datetime). The lease's reaper needs subprocess.
NOT_FOR_A_BARE_RUN = (
    "jsonschema", "docker", "aiohttp", "websockets", "requests", "sqlite3", "pytest_opspec.conformance",
    "pytest_opspec.node", "pytest_opspec.model.checks", "pytest_opspec.model.render", "pytest_opspec.model.scenarios",
    "pytest_opspec.pkgs.cache", "pytest_opspec.pkgs.locking", "pytest_opspec.pkgs.git", "pytest_opspec.pkgs.lockfile",
    "pytest_opspec.pkgs.provenance", "difflib", "uuid", "hashlib", "decimal", "fractions", "shlex", "tempfile",
    "shutil", "bz2", "lzma", "textwrap", "logging", "concurrent.futures", "base64", "datetime",
)

PROBE = """
import sys
from pytest_opspec.cli import main
try:
    code = main(sys.argv[1:])
except SystemExit as exit_:
    code = exit_.code
print("exit:", code)
print("modules:", " ".join(sorted(sys.modules)))
"""


def run_opspec(*argv: str, env: dict[str, str] | None = None, cwd: Path | None = None) -> tuple[int, str, set[str]]:
    """The command's exit code, its output and the modules it loaded."""
    result = subprocess.run([sys.executable, "-c", PROBE, *argv], capture_output=True, text=True, timeout=60,
                            env=env, cwd=cwd, check=False)
    *output, exit_line, modules_line = result.stdout.splitlines()
    assert exit_line.startswith("exit: ") and modules_line.startswith("modules: "), result.stdout + result.stderr
    return int(exit_line.removeprefix("exit: ")), "\n".join(output) + result.stderr, set(modules_line.split()[1:])


def among(loaded: set[str], prefixes: tuple[str, ...]) -> list[str]:
    """The loaded modules that are one of ``prefixes`` or inside one."""
    return sorted(name for name in loaded if any(name == p or name.startswith(p + ".") for p in prefixes))


def write_bare_op(directory: Path, image: str) -> Path:
    """``directory/bare``: an op of one container that runs ``true``, with no inputs, outputs or files."""
    (directory / "bare").mkdir()
    (directory / "bare" / "op.yml").write_text(
        f"name: bare\nrun:\n  container:\n    image: {{ ref: '{image}' }}\n    cmd: ['true']\n")
    return directory / "bare"
