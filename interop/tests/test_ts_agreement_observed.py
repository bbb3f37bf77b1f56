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

import asyncio
import json
import os
from pathlib import Path
from typing import Any

import pytest
from agreement import Judge, Offer, Side, load_table
from rpc_tap import RpcTap
from solders.hash import Hash
from solders.keypair import Keypair
from solders.pubkey import Pubkey
from ts_env import TS_DIR, needs_node, start_ts_facilitator

from sandbox.chain.testing import RunningChain, start_chain
from sandbox.orchestration.wallets import write_keypair
from sandbox.payer import MintInfo
from sandbox.protocol import USDC_DEVNET_MINT, associated_token_address

pytestmark = needs_node

TABLE = load_table()
CASES = TABLE["cases"]
RECORDED_FILE = TS_DIR / "agreement-ts.json"
MINT = MintInfo(Pubkey.from_string(USDC_DEVNET_MINT), 6)


def fund(chain: RunningChain, owner: Keypair) -> Keypair:
    chain.rpc("requestAirdrop", str(owner.pubkey()), 1_000_000_000)
    chain.rpc("sandbox_mintTo", str(owner.pubkey()), 10_000_000)
    return owner


def blockhash_of(chain: RunningChain) -> Hash:
    return Hash.from_string(chain.rpc("getLatestBlockhash")["value"]["blockhash"])


def token_account(owner: Keypair) -> str:
    return str(associated_token_address(owner.pubkey(), MINT.address))


@pytest.fixture(scope="module")
def observed(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    home: Path = tmp_path_factory.mktemp("ts-agreement")
    fee_payer = Keypair()
    write_keypair(home / "fee-payer.json", fee_payer)
    with start_chain(slot_ms=0, log_dir=home) as chain, RpcTap(chain.rpc_url) as tap:
        chain.rpc("requestAirdrop", str(fee_payer.pubkey()), 100_000_000_000)
        proc, url = start_ts_facilitator(home, tap.url, home / "fee-payer.json")
        try:
            pay_to = Keypair()
            chain.rpc("sandbox_mintTo", str(pay_to.pubkey()), 0)  # payTo's token account
            start = blockhash_of(chain)

            async def new_payer() -> Keypair:
                return await asyncio.to_thread(fund, chain, Keypair())

            def fresh_blockhash() -> Hash:
                chain.rpc("sandbox_advanceSlots", 1)  # a new blockhash at once
                return blockhash_of(chain)

            judge = Judge(
                Offer(USDC_DEVNET_MINT, str(pay_to.pubkey()), str(fee_payer.pubkey())),
                MINT,
                start,
                fund(chain, Keypair()),
                lambda: asyncio.to_thread(fresh_blockhash),
                [Side("ts", url, new_payer)],
                tap.drain_on_send,
                token_account,
            )
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
