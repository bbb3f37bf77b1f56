"""State across restarts: balances kept with --state, gone with --fresh."""

from __future__ import annotations

import os
from pathlib import Path

import httpx
import pytest
from solders.keypair import Keypair

from sandbox.chain import state
from sandbox.chain.node import ChainNode
from sandbox.chain.settings import ChainSettings
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


def test_save_and_load_named_snapshots(tmp_path):
    wallet = Keypair().pubkey()
    with start_chain(slot_ms=0, state_dir=tmp_path) as chain:
        chain.rpc("requestAirdrop", str(wallet), 1_000_000)
        saved = chain.rpc("sandbox_saveState", "before-pay_1")
        snapshot = tmp_path / "snapshots" / "before-pay_1.json"
        assert saved["accounts"] >= 3 and saved["path"] == str(snapshot)
        assert oct(snapshot.stat().st_mode & 0o777) == "0o600"
        chain.rpc("requestAirdrop", str(wallet), 1_000_000)
        assert chain.rpc("getBalance", str(wallet))["value"] == 2_000_000
        chain.rpc("sandbox_loadState", "before-pay_1")
        assert chain.rpc("getBalance", str(wallet))["value"] == 1_000_000
        chain.rpc("sandbox_reset")
        assert chain.rpc("getBalance", str(wallet))["value"] == 0
        missing = _call(chain, "sandbox_loadState", "never-saved")
        assert missing["code"] == -32602 and "`name`" in missing["message"]
    assert sorted(p.name for p in tmp_path.rglob("*")) == ["before-pay_1.json", "snapshots"]


@pytest.mark.parametrize(
    "name",
    ["/tmp/x402-evil.json", "../evil", "a/b", "evil.json", "", "x" * 65, 5, ["a"], {"a": 1}],
)
@pytest.mark.parametrize("method", ["sandbox_saveState", "sandbox_loadState"])
def test_snapshot_names_are_never_paths(tmp_path, snapshot_chain, method, name):
    chain, home = snapshot_chain
    error = _call(chain, method, name)
    assert error["code"] == -32602 and "`name`" in error["message"], error
    assert not Path("/tmp/x402-evil.json").exists()
    assert sorted(p.name for p in home.iterdir()) in ([], ["snapshots"])


def test_snapshots_without_a_state_dir_say_what_they_need(fast_chain):
    error = _call(fast_chain, "sandbox_saveState", "one")
    assert error["code"] == -32602 and "--state-dir" in error["message"]
    error = _call(fast_chain, "sandbox_loadState")
    assert error["code"] == -32602 and "--state" in error["message"]


def test_snapshots_live_beside_the_state_file(tmp_path):
    state = tmp_path / "chain" / "state.json"
    with start_chain(slot_ms=0, state=state) as chain:
        saved = chain.rpc("sandbox_saveState", "one")
        assert saved["path"] == str(tmp_path / "chain" / "snapshots" / "one.json")
        assert chain.rpc("sandbox_saveState")["path"] == str(state)  # no name: the state file
        assert chain.rpc("sandbox_loadState", "one")["accounts"] == saved["accounts"]
    assert oct(state.stat().st_mode & 0o777) == "0o600"


def test_state_files_are_private_from_their_creation(tmp_path, monkeypatch):
    """The temporary copy is 0600 before it is renamed (it holds the mint authority's key)."""
    node = ChainNode(ChainSettings(slot_ms=0))
    modes = []
    real_replace = os.replace

    def spy(source, target):
        modes.append(oct(os.stat(source).st_mode & 0o777))
        real_replace(source, target)

    monkeypatch.setattr(state.os, "replace", spy)
    old = os.umask(0)
    try:
        leftover = tmp_path / "s.json.tmp"
        leftover.write_text("{}")
        leftover.chmod(0o666)
        state.save_state(node, tmp_path / "s.json")
    finally:
        os.umask(old)
    assert modes == ["0o600"]
    assert oct((tmp_path / "s.json").stat().st_mode & 0o777) == "0o600"


@pytest.fixture(scope="module")
def snapshot_chain(tmp_path_factory):
    home = tmp_path_factory.mktemp("snapshots-home")
    with start_chain(slot_ms=0, state_dir=home) as chain:
        yield chain, home


def _call(chain, method, *params):
    body = {"jsonrpc": "2.0", "id": 1, "method": method, "params": list(params)}
    return httpx.post(chain.rpc_url, json=body).json()["error"]
