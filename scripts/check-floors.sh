#!/usr/bin/env bash
# Are the dependency floors in pyproject.toml true? Install the lowest version of every dependency that
# pyproject.toml allows (their own dependencies resolve as usual) into a throwaway venv and run the
# examples with them. The venv is kept under .cache/, keyed by the floors, so a rerun only runs pytest.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

python=${PYTHON:-.venv/bin/python}
floors=$("$python" scripts/floors.py pyproject.toml)
key=$( (echo "$floors"; "$python" -c 'import sys; print(sys.version_info[:2])') | sha256sum | cut -c1-16)
venv=.cache/floors-$key
if [ ! -f "$venv/.installed" ]; then
  rm -rf "$venv"
  "$python" -m venv "$venv"
  # shellcheck disable=SC2086  # one requirement per word
  "$venv/bin/python" -m pip install -q --disable-pip-version-check $floors
  "$venv/bin/python" -m pip install -q --disable-pip-version-check --no-deps -e .
  touch "$venv/.installed"
fi
echo "dependency floors: $(echo $floors)"
exec "$venv/bin/python" -m pytest -q -p no:cacheprovider --opspec examples/ "$@"
