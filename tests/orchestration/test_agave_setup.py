"""The compose `setup` service (docker/setup_wallets.py) on a chain without cheat codes, as under
the `agave` profile: our chain started with --no-cheats answers sandbox_getInfo -32601 as
solana-test-validator does. Setup must fund nothing, read back what genesis preloaded, and
still write stack.json / stack.env."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest
from solders.keypair import Keypair

from sandbox.chain.testing import start_chain
from sandbox.orchestration.agave import write_genesis
from sandbox.orchestration.stack import StackConfig
from sandbox.protocol.networks import DEVNET_GENESIS_HASH, USDC_DEVNET_MINT, caip2_from_genesis_hash

SETUP = Path(__file__).resolve().parents[2] / "docker" / "setup_wallets.py"
DEVNET = caip2_from_genesis_hash(DEVNET_GENESIS_HASH)


@pytest.fixture(scope="module")
def setup_wallets():
    spec = importlib.util.spec_from_file_location("setup_wallets", SETUP)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def run(setup_wallets, chain, home: Path, *extra: str) -> int:
    urls = ["--rpc-url", chain.rpc_url, "--ws-url", chain.ws_url]
    return setup_wallets.main(["--home", str(home), *urls, "--wait", "10", *extra])


def test_without_cheat_codes_nothing_is_funded_and_the_stack_is_still_written(
    setup_wallets, tmp_path, capsys
):
    home = tmp_path / "home"
    with start_chain(slot_ms=0, no_cheats=True) as chain:
        with pytest.raises(RuntimeError, match="-32601"):
            chain.rpc("sandbox_getInfo")
        assert run(setup_wallets, chain, home, "--payers", "2") == 1
        err = capsys.readouterr().err
        # Not "the chain refused a funding call": no funding was tried.
        assert "on a chain without cheat codes" in err and "refused" not in err
        assert "payer-0, payer-1, merchant" in err
        info = json.loads((home / "stack.json").read_text())
        assert info["network"] == DEVNET and info["usdc_mint"] == USDC_DEVNET_MINT
        assert {w["name"]: (w["sol"], w["usdc"]) for w in info["wallets"]} == {
            "merchant": (0, None),
            "fee-payer-0": (0, None),
            "payer-0": (0, None),
            "payer-1": (0, None),
        }
        assert "X402_SANDBOX_MERCHANT=" in (home / "stack.env").read_text()

        missing_mint = str(Keypair().pubkey())
        assert run(setup_wallets, chain, home, "--usdc-mint", missing_mint) == 1
        err = capsys.readouterr().err
        assert f"the USDC mint {missing_mint} does not exist" in err and "Traceback" not in err


def test_wallets_preloaded_at_genesis_are_read_back_not_funded(setup_wallets, tmp_path, capsys):
    """The agave-genesis account files, loaded into our chain (cheats on, state saved), then the
    chain restarted without cheat codes: setup finds every wallet at its genesis amounts."""
    home = tmp_path / "home"
    state = tmp_path / "state.json"
    config = StackConfig(payers=2, payer_sol=2.5, payer_usdc=42.5, fee_payer_sol=7.0)
    genesis = write_genesis(home, USDC_DEVNET_MINT, config)
    with start_chain(slot_ms=0, state=state) as chain:
        for address, path in genesis.accounts:
            account = json.loads(path.read_text())["account"]
            fields = {k: account[k] for k in ("lamports", "owner", "executable")}
            chain.rpc("sandbox_setAccount", address, {**fields, "data": account["data"][0]})
        mint = chain.rpc("getAccountInfo", USDC_DEVNET_MINT, {"encoding": "jsonParsed"})
        parsed = mint["value"]["data"]["parsed"]["info"]
        assert (parsed["decimals"], parsed["supply"]) == (6, str(2 * 42_500_000))
        assert parsed["mintAuthority"] == str(genesis.authority)

    with start_chain(slot_ms=0, state=state, no_cheats=True) as chain:
        flags = ["--payers", "2", "--payer-sol", "2.5", "--payer-usdc", "42.5"]
        assert run(setup_wallets, chain, home, *flags) == 0, capsys.readouterr().err
        assert "preloaded at genesis, no cheat codes" in capsys.readouterr().out
    info = json.loads((home / "stack.json").read_text())
    assert info["rpc_url"] == chain.rpc_url and info["network"] == DEVNET
    wallets = {w["name"]: w for w in info["wallets"]}
    assert {name: w["address"] for name, w in wallets.items()} == {
        name: str(pubkey) for name, pubkey in genesis.wallets.items()
    }
    assert {name: (w["sol"], w["usdc"]) for name, w in wallets.items()} == {
        "merchant": (0, 0),
        "fee-payer-0": (7_000_000_000, None),
        "payer-0": (2_500_000_000, 42_500_000),
        "payer-1": (2_500_000_000, 42_500_000),
    }
    env = (home / "stack.env").read_text()
    assert f"X402_SANDBOX_MERCHANT={genesis.wallets['merchant']}" in env
