"""Fail fast when .venv-interop does not hold the SDK the interop tests were written against.

Prints one JSON line with the versions (the interop tests read it too).
"""

from __future__ import annotations

import json
import sys
from importlib.metadata import version

EXPECTED = {"x402": "2.25.0"}


def versions() -> dict[str, str]:
    return {name: version(name) for name in ("x402", "solana", "solders", "fastapi", "httpx")}


def main() -> int:
    found = versions()
    # Importing the roles proves the svm/fastapi/httpx extras are really there.
    import x402.http.clients.httpx
    import x402.http.middleware.fastapi
    import x402.mechanisms.svm.exact  # noqa: F401

    print(json.dumps(found))
    wrong = {k: (found[k], v) for k, v in EXPECTED.items() if found[k] != v}
    if wrong:
        print(f"unexpected versions (found, expected): {wrong}", file=sys.stderr)
        return 1
    if not found["solders"].startswith("0.27"):
        print(f"expected the SDK's solders 0.27 pin, found {found['solders']}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
