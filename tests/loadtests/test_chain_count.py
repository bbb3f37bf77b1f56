"""The wrapper's count of chain transactions, on a chain without the sandbox's cheat codes."""

from __future__ import annotations

import time

import pytest
from solders.keypair import Keypair

from sandbox.chain.testing import start_chain
from sandbox.loadtest.chain_accounts import ChainAccounts

pytestmark = pytest.mark.slow


def test_transaction_count_falls_back_to_the_standard_rpc() -> None:
    with start_chain(no_cheats=True, slot_ms=0) as running, ChainAccounts(running.rpc_url) as chain:
        assert chain.sandbox_info() is None  # a foreign chain, as far as the wrapper can tell
        before = chain.transaction_count()
        assert isinstance(before, int)
        chain.call("requestAirdrop", str(Keypair().pubkey()), 1_000_000)
        deadline = time.monotonic() + 5
        while chain.transaction_count() == before and time.monotonic() < deadline:
            time.sleep(0.05)
        assert chain.transaction_count() == before + 1
