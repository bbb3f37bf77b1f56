"""The `chain` pytest fixture others import from sandbox.chain.testing."""

from __future__ import annotations

import pytest


def test_chain_fixture_defaults_to_block_per_transaction(chain):
    assert chain.rpc("sandbox_getInfo")["slotMs"] == 0
    assert chain.ws_url.endswith(str(chain.port + 1))


@pytest.mark.chain_flags(slot_ms=250, finalize_slots=3)
def test_chain_fixture_takes_flags(chain):
    info = chain.rpc("sandbox_getInfo")
    assert (info["slotMs"], info["finalizeSlots"]) == (250, 3)
