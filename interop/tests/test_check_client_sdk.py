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
    cases = _check([
        str(interop_python), str(SDK_DIR / "client_pay.py"), "{url}",
        "--keypair", "{keypair}", "--rpc-url", "{rpc}",
    ], tmp_path)  # fmt: skip
    assert "paid with PAYMENT-SIGNATURE" in cases["happy-path-v2"]["message"]


@needs_node
def test_check_client_on_the_typescript_sdk_client(tmp_path: Path) -> None:
    command = [_node(), str(TS_DIR / "client_pay.mjs"), "{url}", "{keypair}", "{rpc}"]
    cases = _check(command, tmp_path)
    assert "paid with PAYMENT-SIGNATURE" in cases["happy-path-v2"]["message"]


EXAMPLES = ROOT / "examples"
# The example scripts read the names of .sandbox/stack.env: set from check-client's placeholders.
EXAMPLE_ENV = [
    "/usr/bin/env", "X402_SANDBOX_PAYER_KEYPAIR={keypair}", "X402_SANDBOX_RPC_URL={rpc}",
    "X402_SANDBOX_USDC_MINT=4zMMC9srt5Ri5X14GAgXhaHii3GnPAEERYPJgZJDncDU",
]  # fmt: skip
needs_examples = pytest.mark.skipif(
    not (ROOT / "node_modules" / "@faremeter" / "fetch").is_dir(),
    reason="node_modules is missing: `make interop` installs the workspace (js/npm-ci.sh)",
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


# x402-solana 2.0.4 and x402-fetch 1.2 put no Memo instruction in their transaction and pay an
# offer on any solana: network, mainnet included; they sign with a live blockhash.
MEMO_LESS_MISSES = {"memo-copied", "mainnet-only"}


@needs_node
@needs_examples
@pytest.mark.parametrize(
    ("script", "also_failed"),
    [
        ("x402-solana-client.js", {"price-ceiling"}),  # amount 0: no price cap, a warning
        ("x402-fetch-v1-client.js", set()),  # a 0.10 USDC cap by default
    ],
)
def test_check_client_on_the_memo_less_clients(script, also_failed, tmp_path: Path) -> None:
    """Run with --route-binding none, every case but memo-copied judges them: they fail memo-copied
    (one transaction sent, no Memo instruction, refused memo_count, nothing charged) and pay the
    mainnet-only offer."""
    command = [*EXAMPLE_ENV, _node(), str(EXAMPLES / script), "{url}"]
    failed = NO_PAYMENT_ID | MEMO_LESS_MISSES | also_failed
    cases = _check(command, tmp_path, set(), "--route-binding", "none", failed_exactly=failed)
    memo = cases["memo-copied"]
    sent = [r for r in memo["evidence"]["requests"] if r["payment_header"]]
    assert sent and all(r["transaction"]["memos"] == [] for r in sent), memo["message"]
    assert {r["error"] for r in sent} == {"invalid_exact_svm_payload_memo_count"}
    assert memo["evidence"]["usdcChange"] == 0 and memo["evidence"]["landed"] == []
    assert len(cases["mainnet-only"]["evidence"]["landed"]) == 1
    happy = cases["happy-path-v2"]
    assert happy["passed"] and len(happy["evidence"]["landed"]) == 1


@needs_node
@needs_examples
@pytest.mark.parametrize("script", ["x402-solana-client.js", "x402-fetch-v1-client.js"])
def test_memo_less_clients_are_refused_memo_count_under_memo_binding(script, tmp_path) -> None:
    """On the default --route-binding memo every offer carries extra.memo: the server refuses
    their payment with the scheme's reason, and nothing is charged."""
    command = [*EXAMPLE_ENV, _node(), str(EXAMPLES / script), "{url}"]
    cases = _check(command, tmp_path, set(), "happy-path-v2", failed_exactly={"happy-path-v2"})
    evidence = cases["happy-path-v2"]["evidence"]
    refused = [r["error"] for r in evidence["requests"] if r["payment_header"]]
    assert refused and set(refused) == {"invalid_exact_svm_payload_memo_count"}
    assert evidence["usdcChange"] == 0 and evidence["landed"] == []


@needs_node
@needs_examples
def test_check_client_catches_faremeters_default_retry_loop(tmp_path: Path) -> None:
    """@faremeter/fetch's default retryCount (2) signs a new transaction each time a paid request
    still answers 402: on settlement_pending it pays three times, and the evidence names each."""
    command = [*EXAMPLE_ENV, _node(), str(EXAMPLES / "faremeter-retry-client.js"), "{url}"]
    case = "pending-no-double-pay"
    cases = _check(command, tmp_path, set(), case, failed_exactly={case})
    landed = cases[case]["evidence"]["landed"]
    assert len(landed) >= 2
    assert all(signature in cases[case]["message"] for signature in landed), cases[case]["message"]
    assert cases[case]["evidence"]["usdcChange"] == -1234 * len(landed)


def _check(
    command: list[str],
    tmp_path: Path,
    also_failed: set[str] = frozenset(),
    *flags: str,
    failed_exactly: set[str] | None = None,
) -> dict:
    """check-client on `command` (all cases, or those named in `flags`): the cases that failed
    must be NO_PAYMENT_ID | TRUSTS_HINT | also_failed, or `failed_exactly` when given."""
    report = tmp_path / "sdk.json"
    result = subprocess.run(
        [sys.executable, "-m", "sandbox.cli", "check-client", "--json", str(report), *flags,
         "--", *command],
        capture_output=True, text=True, timeout=300, cwd=ROOT,
        env={"PATH": "/usr/bin:/bin", "PYTHONWARNINGS": "ignore"},
    )  # fmt: skip
    assert result.returncode == 1, result.stdout + result.stderr
    cases = {c["case"]: c for c in json.loads(report.read_text())["cases"]}
    failed = {name for name, case in cases.items() if not case["passed"]}
    expected = NO_PAYMENT_ID | TRUSTS_HINT | also_failed
    assert failed == (expected if failed_exactly is None else failed_exactly), result.stdout
    if "stale-blockhash-hint" in failed:
        stale = cases["stale-blockhash-hint"]
        hint = stale["evidence"]["offer"]["blockhash_hint"]
        sent = [r["transaction"] for r in stale["evidence"]["requests"] if r["payment_header"]]
        assert sent and all(tx["blockhash"] == hint for tx in sent), stale["message"]
        assert stale["level"] == "SHOULD" and stale["evidence"]["usdcChange"] == 0
    for name in NO_PAYMENT_ID & failed:
        assert "no payment-identifier id" in cases[name]["message"]
        assert cases[name]["evidence"]["usdcChange"] == 0
    if "mainnet-only" in cases and "mainnet-only" not in failed:
        assert cases["mainnet-only"]["evidence"]["landed"] == []
    return cases
