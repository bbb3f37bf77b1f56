#!/usr/bin/env bash
# `make test-js`: the JavaScript fixture (js/, node --test) and every example (examples/, vitest
# and jest), each starting its own sandbox stack on free loopback ports through the CLI.
#
# npm ci of the workspace (js/npm-ci.sh: one package-lock.json at the root) when node_modules is
# missing or the lock file or node changed; then `next build` of the Next.js example
# (examples-nextjs/, about 15 s on 2 cores).
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v node >/dev/null 2>&1; then
  echo "test-js: node (20 or newer) is not installed" >&2
  exit 1
fi

started=$(date +%s)
bash js/npm-ci.sh
echo "test-js: next build in examples-nextjs..."
(cd examples-nextjs && NEXT_TELEMETRY_DISABLED=1 npx --no-install next build >/dev/null)

echo "test-js: js/ (node --test)"
(cd js && node --test --test-reporter=spec test/)
echo "test-js: examples/ with vitest"
(cd examples && npx --no-install vitest run)
echo "test-js: examples/ with jest"
(cd examples && npm run -s test:jest)
echo "test-js: all passed in $(( $(date +%s) - started ))s"
