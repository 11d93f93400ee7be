#!/usr/bin/env bash
# Create the virtualenv and install the locked dependencies with uv (installed if absent).
set -euo pipefail
venv="${1:-.venv}"
cd "$(dirname "$0")/.."
if command -v uv >/dev/null 2>&1; then
  UV=(uv)
elif python3 -m uv --version >/dev/null 2>&1; then
  UV=(python3 -m uv)
else
  echo "installing uv (not found)"
  python3 -m pip install --quiet --user uv || python3 -m pip install --quiet uv
  UV=(python3 -m uv)
fi
[ -x "$venv/bin/python" ] || "${UV[@]}" venv --quiet --python 3.11 "$venv"
# Compile bytecode on install: this machine sets PYTHONDONTWRITEBYTECODE, and imports of
# Airflow and GX run 2-4x slower without .pyc files.
UV_COMPILE_BYTECODE=1 "${UV[@]}" pip sync --quiet --python "$venv/bin/python" requirements.lock
"${UV[@]}" pip install --quiet --python "$venv/bin/python" --no-deps -e .
echo "installed into $venv"
