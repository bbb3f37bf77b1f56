"""State across restarts: balances kept with --state, gone with --fresh."""

from __future__ import annotations

from solders.keypair import Keypair

from sandbox.chain.testing import start_chain
from sandbox.protocol.programs import associated_token_address

from .conftest import USDC


def test_balances_survive_restart_with_state_file(tmp_path):
    state = tmp_path / "chain-state.json"
    wallet = Keypair().pubkey()
    with start_chain(slot_ms=0, state=state) as chain:
        chain.rpc("requestAirdrop", str(wallet), 3_000_000)
        chain.rpc("sandbox_mintTo", str(wallet), 2_500_000)
        authority = chain.rpc("sandbox_getInfo")["mintAuthority"]
        slot_before = chain.rpc("getSlot", {"commitment": "processed"})
    assert state.exists() and oct(state.stat().st_mode & 0o777) == "0o600"
    ata = str(associated_token_address(wallet, USDC))
    with start_chain(slot_ms=0, state=state) as chain:
        assert chain.rpc("getBalance", str(wallet))["value"] == 3_000_000
        assert chain.rpc("getTokenAccountBalance", ata)["value"]["amount"] == "2500000"
        assert chain.rpc("sandbox_getInfo")["mintAuthority"] == authority
        assert chain.rpc("getSlot", {"commitment": "processed"}) >= slot_before
        # The mint authority still works after the restart.
        assert chain.rpc("sandbox_mintTo", str(wallet), 1)["amount"] == "2500001"
    with start_chain(slot_ms=0, state=state, fresh=True) as chain:
        assert chain.rpc("getBalance", str(wallet))["value"] == 0
        assert chain.rpc("getAccountInfo", ata)["value"] is None


def test_save_and_load_state_cheat_codes(tmp_path, fast_chain):
    wallet = Keypair().pubkey()
    snapshot = tmp_path / "snap.json"
    fast_chain.rpc("requestAirdrop", str(wallet), 1_000_000)
    saved = fast_chain.rpc("sandbox_saveState", str(snapshot))
    assert saved["accounts"] >= 3
    fast_chain.rpc("requestAirdrop", str(wallet), 1_000_000)
    assert fast_chain.rpc("getBalance", str(wallet))["value"] == 2_000_000
    fast_chain.rpc("sandbox_loadState", str(snapshot))
    assert fast_chain.rpc("getBalance", str(wallet))["value"] == 1_000_000
    fast_chain.rpc("sandbox_reset")
    assert fast_chain.rpc("getBalance", str(wallet))["value"] == 0
