"""Our facilitator and the official SDK's judge the broken-payment table, for real.

One chain (`start_chain`), one `python -m sandbox.facilitator` and one SDK facilitator
(interop/sdk/facilitator_app.py under .venv-interop), sharing one fee-payer key, both reaching the
chain through `RpcTap` (a pass-through that can empty a token account just before a send); and
ours once more with `--layout role-based` (the table's `oursRoleBased`). Every case of
interop/agreement.json is judged by all three, all cases at once; each test then holds one case
to what the file says. So a new divergence fails, and so does a recorded one that went away.
(`judge_on` puts a no-op stand-in at Lighthouse's address, so that a payment with a Lighthouse
instruction is judged by its layout, not by a missing program.)

Re-record after a deliberate change: `X402_INTEROP_RECORD=1 bash interop/run.sh -k agreement`
rewrites `ours`/`sdk` in the file; a new difference then still needs its `divergence` written by
hand (tests/interop_fixtures/test_agreement_table.py insists).
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from agreement import ROLE_BASED, SETTLE_SETUPS, differences, judge_on, load_table, record
from rpc_tap import RpcTap
from sdk_env import start_sdk_facilitator
from solders.keypair import Keypair

from sandbox.chain.testing import RunningChain, start_chain
from sandbox.facilitator.testing import start_facilitator, write_keypair

TABLE = load_table()
CASES = TABLE["cases"]


@dataclass
class Observed:
    verdicts: dict[str, dict[str, Any]]
    drained: list[str]


@dataclass
class Stack:
    chain: RunningChain
    tap: RpcTap
    fee_payer: Keypair
    ours_url: str
    sdk_url: str
    role_based_url: str


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
            role_based = stack.enter_context(
                start_facilitator(
                    tap.url, [fee_payer], ["--layout", "role-based"], ws_url=chain.ws_url,
                    home=home / "role-based",
                )
            )  # fmt: skip
        finally:
            sdk_process, sdk_url = sdk_started.result()
            stack.callback(sdk_process.stop)
        yield Stack(chain, tap, fee_payer, ours.url, sdk_url, role_based.url)


@pytest.fixture(scope="module")
def observed(tmp_path_factory: pytest.TempPathFactory, interop_python: Path) -> Observed:
    home = tmp_path_factory.mktemp("agreement")
    with two_facilitators(home) as stack:
        judge = judge_on(
            stack.chain,
            str(stack.fee_payer.pubkey()),
            {"ours": stack.ours_url, "sdk": stack.sdk_url, ROLE_BASED: stack.role_based_url},
            stack.tap.drain_on_send,
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
    assert len(observed.drained) == 3, observed.drained
