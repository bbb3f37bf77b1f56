"""check-client on the official SDK clients: Python (interop/sdk/client_pay.py, x402 2.25.0)
and TypeScript (interop/ts/client_pay.mjs, @x402/fetch 2.27.0): what they do right and what
they do not, judged from the server's log and the chain.

Both clients pay once, copy the memo, pay the exact terms, refuse a mainnet-only offer, leave
the fee to the facilitator and do not pay again after settlement_pending, a 502 or a slow
answer; neither sends a payment-identifier, even where the 402 requires one, so the two
payment-identifier cases fail (the server refuses it with 400 and nothing is charged); both
sign with an expired extra.recentBlockhash hint and never with a live one (a warning).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from sdk_env import SDK_DIR
from ts_env import TS_DIR, _node, needs_node

ROOT = Path(__file__).resolve().parents[2]
NO_PAYMENT_ID = {"payment-id-required", "payment-id-retry"}
# A SHOULD: each SDK signs with the 402's extra.recentBlockhash whenever there is one (Python
# mechanisms/svm/utils.py resolve_blockhash, @x402/svm and faremeter alike) and does not sign
# again when the chain has expired it, so a server with a stale hint cannot be paid.
TRUSTS_HINT = {"stale-blockhash-hint"}

pytestmark = pytest.mark.slow


def test_check_client_on_the_python_sdk_client(interop_python: Path, tmp_path: Path) -> None:
    _check([
        str(interop_python), str(SDK_DIR / "client_pay.py"), "{url}",
        "--keypair", "{keypair}", "--rpc-url", "{rpc}",
    ], tmp_path)  # fmt: skip


@needs_node
def test_check_client_on_the_typescript_sdk_client(tmp_path: Path) -> None:
    _check([_node(), str(TS_DIR / "client_pay.mjs"), "{url}", "{keypair}", "{rpc}"], tmp_path)


EXAMPLES = ROOT / "examples"
# The example scripts read the names of .sandbox/stack.env: set from check-client's placeholders.
EXAMPLE_ENV = [
    "/usr/bin/env", "X402_SANDBOX_PAYER_KEYPAIR={keypair}", "X402_SANDBOX_RPC_URL={rpc}",
    "X402_SANDBOX_USDC_MINT=4zMMC9srt5Ri5X14GAgXhaHii3GnPAEERYPJgZJDncDU",
]  # fmt: skip
needs_examples = pytest.mark.skipif(
    not (EXAMPLES / "node_modules" / "@faremeter").is_dir(),
    reason="examples/node_modules is missing: `make test-js` installs it (npm ci)",
)


@needs_node
@needs_examples
@pytest.mark.parametrize(
    ("script", "also_failed"),
    [
        ("x402-fetch-client.js", {"v1-only"}),  # registers the v2 scheme only
        ("faremeter-client.js", {"price-ceiling"}),  # no price cap: a warning
    ],
)
def test_check_client_on_the_example_clients(script, also_failed, tmp_path: Path) -> None:
    cases = _check([*EXAMPLE_ENV, _node(), str(EXAMPLES / script), "{url}"], tmp_path, also_failed)
    if "price-ceiling" in also_failed:
        assert cases["price-ceiling"]["level"] == "SHOULD"
        assert len(cases["price-ceiling"]["evidence"]["landed"]) == 1


def _check(command: list[str], tmp_path: Path, also_failed: set[str] = frozenset()) -> dict:
    report = tmp_path / "sdk.json"
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "sandbox.cli",
            "check-client",
            "--json",
            str(report),
            "--",
            *command,
        ],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=ROOT,
        env={"PATH": "/usr/bin:/bin", "PYTHONWARNINGS": "ignore"},
    )
    assert result.returncode == 1, result.stdout + result.stderr
    cases = {c["case"]: c for c in json.loads(report.read_text())["cases"]}
    failed = {name for name, case in cases.items() if not case["passed"]}
    assert failed == NO_PAYMENT_ID | TRUSTS_HINT | also_failed, result.stdout
    stale = cases["stale-blockhash-hint"]
    hint = stale["evidence"]["offer"]["blockhash_hint"]
    sent = [r["transaction"] for r in stale["evidence"]["requests"] if r["payment_header"]]
    assert sent and all(tx["blockhash"] == hint for tx in sent), stale["message"]
    assert stale["level"] == "SHOULD" and stale["evidence"]["usdcChange"] == 0
    for name in NO_PAYMENT_ID:
        assert "no payment-identifier id" in cases[name]["message"]
        assert cases[name]["evidence"]["usdcChange"] == 0
    assert "paid with PAYMENT-SIGNATURE" in cases["happy-path-v2"]["message"]
    assert cases["mainnet-only"]["evidence"]["landed"] == []
    return cases
