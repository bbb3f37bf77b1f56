"""The TypeScript facilitator judges the broken-payment table (interop/agreement.json), for real.

Same cases, same builders and settle setups (agreement.py) as test_agreement_observed.py, run
against interop/ts/facilitator.mjs on one chain behind `RpcTap`; its verdicts are held to
interop/ts/agreement-ts.json, so a changed TS SDK answer fails here, and a case added to the
table without a TS verdict too. How they compare with ours and the Python SDK's: interop/NOTES.md
("TypeScript SDK").

Re-record after a deliberate change (e.g. a new @x402/svm pin):
`X402_INTEROP_RECORD=1 bash interop/run.sh -k test_ts_agreement`.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest
from agreement import judge_on, load_table
from rpc_tap import RpcTap
from solders.keypair import Keypair
from ts_env import TS_DIR, needs_node, start_ts_facilitator

from sandbox.chain.testing import start_chain
from sandbox.orchestration.wallets import write_keypair

pytestmark = needs_node

TABLE = load_table()
CASES = TABLE["cases"]
RECORDED_FILE = TS_DIR / "agreement-ts.json"


@pytest.fixture(scope="module")
def observed(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    home: Path = tmp_path_factory.mktemp("ts-agreement")
    fee_payer = Keypair()
    write_keypair(home / "fee-payer.json", fee_payer)
    with start_chain(slot_ms=0, log_dir=home) as chain, RpcTap(chain.rpc_url) as tap:
        chain.rpc("requestAirdrop", str(fee_payer.pubkey()), 100_000_000_000)
        proc, url = start_ts_facilitator(home, tap.url, home / "fee-payer.json")
        try:
            judge = judge_on(chain, str(fee_payer.pubkey()), {"ts": url}, tap.drain_on_send)
            verdicts = {case: sides["ts"] for case, sides in judge.run(CASES).items()}
        finally:
            proc.stop()
        drained = list(tap.drained)
    if os.environ.get("X402_INTEROP_RECORD") == "1":
        recorded = json.loads(RECORDED_FILE.read_text()) if RECORDED_FILE.exists() else {}
        recorded["cases"] = verdicts
        RECORDED_FILE.write_text(json.dumps(recorded, indent=2, sort_keys=False) + "\n")
    return {"verdicts": verdicts, "drained": drained}


def recorded_verdicts() -> dict[str, Any]:
    """Read at test time, so a recording run checks against what it just wrote."""
    return json.loads(RECORDED_FILE.read_text())["cases"] if RECORDED_FILE.exists() else {}


@pytest.mark.parametrize("case", CASES, ids=[c["id"] for c in CASES])
def test_ts_facilitator_answers_as_recorded(case: dict[str, Any], observed) -> None:
    recorded = recorded_verdicts().get(case["id"])
    assert recorded is not None, f"{case['id']}: no TS verdict in {RECORDED_FILE.name} (record it)"
    seen = observed["verdicts"][case["id"]]
    compare = TABLE["compare"]  # decision and reason
    assert {k: seen[k] for k in compare} == {k: recorded[k] for k in compare}, seen


def test_the_landed_but_failed_setup_ran(observed) -> None:
    assert len(observed["drained"]) == 1, observed["drained"]
