"""Chain test fixtures: real chain processes on free loopback ports."""

from __future__ import annotations

import pytest
from solders.keypair import Keypair
from solders.pubkey import Pubkey

from sandbox.chain.testing import chain, start_chain  # noqa: F401  (the `chain` fixture)
from sandbox.protocol.networks import USDC_DEVNET_MINT

USDC = Pubkey.from_string(USDC_DEVNET_MINT)


def pytest_configure(config):
    config.addinivalue_line("markers", "chain_flags(**flags): flags for the `chain` fixture")


@pytest.fixture(scope="module")
def fast_chain():
    """One `--slot-ms 0` chain shared by a module's tests (each test uses fresh wallets)."""
    with start_chain(slot_ms=0) as running:
        yield running


@pytest.fixture
def wallets(fast_chain):
    """A funded fee payer, a USDC-holding owner and a merchant with an empty USDC account."""
    fee_payer, owner, merchant = Keypair(), Keypair(), Keypair()
    fast_chain.rpc("requestAirdrop", str(fee_payer.pubkey()), 10**9)
    fast_chain.rpc("sandbox_mintTo", str(owner.pubkey()), 5_000_000)
    fast_chain.rpc("sandbox_mintTo", str(merchant.pubkey()), 0)
    return fee_payer, owner, merchant
