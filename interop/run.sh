#!/usr/bin/env bash
# `make interop`: the official x402 Python and TypeScript SDKs against the sandbox.
#
# The SDK pins solana<0.40 (solders 0.27) while the sandbox needs solders 0.29, so the SDK gets
# its own virtual environment, .venv-interop (git-ignored), built from interop/requirements.txt
# (every transitive package pinned by interop/constraints.txt) when missing or when either file,
# or the interpreter, changed. The tests themselves run in the project's .venv: they
# start the sandbox the usual way and run the SDK roles as helper scripts (interop/sdk/) under
# .venv-interop's python, talking to each other over loopback HTTP only.
#
# Usage: bash interop/run.sh [pytest args...]     (PYTHON=python3.11 to pick the interpreter)
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD

python=${PYTHON:-python3}
venv=.venv-interop
requirements=interop/requirements.txt
constraints=interop/constraints.txt
stamp=$venv/.installed
main_python=.venv/bin/python

if [ ! -x "$main_python" ]; then
  echo "interop: $main_python is missing; run 'make venv' (or any make target) first" >&2
  exit 1
fi

wanted=$( (cat "$requirements" "$constraints"; "$python" -c 'import sys; print(sys.version)') | sha256sum | cut -d' ' -f1)
if [ ! -x "$venv/bin/python" ] || [ "$(cat "$stamp" 2>/dev/null)" != "$wanted" ]; then
  echo "interop: building $venv from $requirements (first run takes a minute)..."
  rm -rf "$venv"
  "$python" -m venv "$venv"
  "$venv/bin/python" -m pip install --quiet --upgrade pip
  "$venv/bin/python" -m pip install --quiet -r "$requirements" -c "$constraints"
  "$venv/bin/python" interop/sdk/check_env.py
  echo "$wanted" >"$stamp"
fi

# The TypeScript SDKs and the node example clients (interop/ts/, examples/; tests
# interop/tests/test_ts_*.py, test_check_client_sdk.py): the workspace's one `npm ci`
# (js/npm-ci.sh) when node_modules is missing or the lock file or node changed. Without node the
# TypeScript tests skip themselves (and say why).
if command -v node >/dev/null 2>&1; then
  bash js/npm-ci.sh
else
  echo "interop: node is not installed; the TypeScript SDK tests will be skipped" >&2
fi

export X402_INTEROP_PYTHON="$root/$venv/bin/python"
exec "$main_python" -m pytest -q -p no:cacheprovider interop/tests "$@"
