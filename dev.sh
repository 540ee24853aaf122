#!/usr/bin/env bash
# The project's two entry points; both set up everything they need first.
#   ./dev.sh examples [ARGS...]   run the example op packages (pytest --opspec examples/)
#   ./dev.sh test [PYTEST ARGS...]  lint (ruff), type-check (mypy), then run the test suite (without ARGS,
#                                   also the dependency floors: scripts/check-floors.sh)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"

usage() { sed -n '2,5p' "$0" | sed 's/^# \{0,1\}//'; }

cmd=${1:-}
[ $# -gt 0 ] && shift
case "$cmd" in
  examples|test) ;;
  *) usage >&2; exit 2 ;;
esac

scripts/ensure-venv.sh
scripts/ensure-engine.sh
# shellcheck disable=SC1091
source .venv/bin/activate

case "$cmd" in
  examples) exec pytest -p no:cacheprovider --opspec examples/ "$@" ;;
  test)
    ruff check .
    mypy
    # The full run (CI) also checks that the dependency floors in pyproject.toml install and work together.
    if [ $# -eq 0 ]; then scripts/check-floors.sh; fi
    exec pytest "$@" ;;
esac
