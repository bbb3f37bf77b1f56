"""Our facilitator and the official SDK's judge the broken-payment table, for real.

One chain (`start_chain`), one `python -m sandbox.facilitator` and one SDK facilitator
(interop/sdk/facilitator_app.py under .venv-interop), sharing one fee-payer key, both reaching the
chain through `RpcTap` (a pass-through that can empty a token account just before a send). Every
case of interop/agreement.json is judged by both, all cases at once; each test then holds one
case to what the file says. So a new divergence fails, and so does a recorded one that went away.

Re-record after a deliberate change: `X402_INTEROP_RECORD=1 bash interop/run.sh -k agreement`
rewrites `ours`/`sdk` in the file; a new difference then still needs its `divergence` written by
hand (tests/interop_fixtures/test_agreement_table.py insists).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from agreement import (
    SETTLE_SETUPS,
    Judge,
    Offer,
    Side,
    differences,
    load_table,
    record,
)
from rpc_tap import RpcTap
from sdk_env import start_sdk_facilitator
from solders.hash import Hash
from solders.keypair import Keypair
from solders.pubkey import Pubkey

from sandbox.chain.testing import RunningChain, start_chain
from sandbox.facilitator.testing import start_facilitator, write_keypair
from sandbox.payer import MintInfo
from sandbox.protocol import USDC_DEVNET_MINT, associated_token_address

TABLE = load_table()
CASES = TABLE["cases"]
MINT = MintInfo(Pubkey.from_string(USDC_DEVNET_MINT), 6)


@dataclass
class Observed:
    verdicts: dict[str, dict[str, Any]]
    drained: list[str]


def token_account(owner: Keypair) -> str:
    return str(associated_token_address(owner.pubkey(), MINT.address))


def fund(chain: RunningChain, owner: Keypair) -> Keypair:
    """1 SOL and 10 test USDC."""
    chain.rpc("requestAirdrop", str(owner.pubkey()), 1_000_000_000)
    chain.rpc("sandbox_mintTo", str(owner.pubkey()), 10_000_000)
    return owner


@dataclass
class Stack:
    chain: RunningChain
    tap: RpcTap
    fee_payer: Keypair
    ours_url: str
    sdk_url: str


@contextlib.contextmanager
def two_facilitators(home: Path) -> Iterator[Stack]:
    """One chain, the RPC tap, and both facilitators on it sharing one funded fee-payer key."""
    fee_payer = Keypair()
    fee_payer_file = write_keypair(home / "fee-payer.json", fee_payer)
    with contextlib.ExitStack() as stack:
        chain = stack.enter_context(start_chain(slot_ms=0, log_dir=home))
        tap = stack.enter_context(RpcTap(chain.rpc_url))
        chain.rpc("requestAirdrop", str(fee_payer.pubkey()), 100_000_000_000)
        pool = stack.enter_context(ThreadPoolExecutor(1))
        # The two facilitators start side by side (each takes seconds to import).
        sdk_started = pool.submit(start_sdk_facilitator, home, tap.url, fee_payer_file)
        try:
            ours = stack.enter_context(
                start_facilitator(tap.url, [fee_payer], ws_url=chain.ws_url, home=home)
            )
        finally:
            sdk_process, sdk_url = sdk_started.result()
            stack.callback(sdk_process.stop)
        yield Stack(chain, tap, fee_payer, ours.url, sdk_url)


def latest_blockhash(chain: RunningChain) -> Hash:
    return Hash.from_string(chain.rpc("getLatestBlockhash")["value"]["blockhash"])


@pytest.fixture(scope="module")
def observed(tmp_path_factory: pytest.TempPathFactory, interop_python: Path) -> Observed:
    home = tmp_path_factory.mktemp("agreement")
    with two_facilitators(home) as stack:
        chain, pay_to = stack.chain, Keypair()
        chain.rpc("sandbox_mintTo", str(pay_to.pubkey()), 0)  # payTo's token account
        verify_payer = fund(chain, Keypair())
        start_blockhash = latest_blockhash(chain)

        async def new_payer() -> Keypair:
            return await asyncio.to_thread(fund, chain, Keypair())

        def fresh_blockhash() -> Hash:
            # The chain's blockhash clock ticks every 400 ms whatever the slots do; advancing
            # one slot issues a new blockhash at once.
            chain.rpc("sandbox_advanceSlots", 1)
            fresh = latest_blockhash(chain)
            assert fresh != start_blockhash, "the blockhash did not move"
            return fresh

        judge = Judge(
            Offer(USDC_DEVNET_MINT, str(pay_to.pubkey()), str(stack.fee_payer.pubkey())),
            MINT,
            start_blockhash,
            verify_payer,
            lambda: asyncio.to_thread(fresh_blockhash),
            [Side("ours", stack.ours_url, new_payer), Side("sdk", stack.sdk_url, new_payer)],
            stack.tap.drain_on_send,
            token_account,
        )
        verdicts = judge.run(CASES)
        drained = list(stack.tap.drained)
    if os.environ.get("X402_INTEROP_RECORD") == "1":
        record(load_table(), verdicts)
    return Observed(verdicts, drained)


@pytest.mark.parametrize("case", CASES, ids=[c["id"] for c in CASES])
def test_both_facilitators_answer_as_the_table_says(case: dict[str, Any], observed) -> None:
    problems = differences(case, observed.verdicts[case["id"]], TABLE["compare"])
    assert not problems, "\n".join(problems) + "\n(interop/agreement.json; see this module's doc)"


def test_every_settle_case_ran_its_setup(observed) -> None:
    settle_ids = {c["id"] for c in CASES if c["endpoint"] == "settle"}
    assert settle_ids == set(SETTLE_SETUPS), "a settle case without a setup, or the reverse"
    # landed-but-failed: each side's payer account was emptied just before its send.
    assert len(observed.drained) == 2, observed.drained
