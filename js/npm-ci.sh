#!/usr/bin/env bash
# The one npm install of the repository's JavaScript workspace (package.json at the root:
# js/, examples/, examples-nextjs/, interop/ts/; one package-lock.json). `npm ci` at the root
# when node_modules is missing or the lock file, a workspace's package.json or node changed.
# Sourced or run by js/run-tests.sh and interop/run.sh.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

stamp=node_modules/.installed
wanted=$( (cat package.json package-lock.json js/package.json examples/package.json \
  examples-nextjs/package.json interop/ts/package.json; node --version) | sha256sum | cut -d' ' -f1)
if [ ! -d node_modules ] || [ "$(cat "$stamp" 2>/dev/null)" != "$wanted" ]; then
  echo "npm ci in the workspace root (js, examples, examples-nextjs, interop/ts)..."
  npm ci --no-audit --no-fund --loglevel=error
  echo "$wanted" >"$stamp"
fi
