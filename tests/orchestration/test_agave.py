"""`--validator agave`: the genesis account files, the solana-test-validator command line, and a
run where the binary exists (it cannot be installed here: that test skips)."""

from __future__ import annotations

import base64
import inspect
import json
import os
import shutil
import stat
from pathlib import Path

import pytest
from solders.keypair import Keypair
from solders.pubkey import Pubkey
from solders.token.associated import get_associated_token_address
from solders.token.state import Mint, TokenAccount, TokenAccountState

from sandbox.chain.settings import ChainSettings
from sandbox.orchestration import agave
from sandbox.orchestration.agave import agave_command, mint_account_json, write_genesis
from sandbox.orchestration.stack import StackConfig
from sandbox.orchestration.wallets import read_keypair
from sandbox.protocol.networks import USDC_DEVNET_MINT

SYSTEM = "11111111111111111111111111111111"
TOKEN = "TokenkegQfeZyiNwAJbNbGKPFXCWuBvf9Ss623VQ5DA"
MINT = Pubkey.from_string(USDC_DEVNET_MINT)


def decode(path: Path) -> tuple[str, dict, bytes]:
    """An account file as solana-test-validator reads it: pubkey, account fields, raw data."""
    record = json.loads(path.read_text())
    account = record["account"]
    data, encoding = account["data"]
    assert encoding == "base64"
    raw = base64.b64decode(data)
    assert account["space"] == len(raw) and account["executable"] is False
    return record["pubkey"], account, raw


def test_command_passes_every_account_file_and_funds_authority(tmp_path):
    authority = Keypair().pubkey()
    accounts = [(USDC_DEVNET_MINT, tmp_path / "usdc-mint.json"), ("Wa11et", tmp_path / "w.json")]
    settings = ChainSettings(host="127.0.0.1", port=18899, fresh=True)
    command = agave_command(settings, tmp_path / "ledger", accounts, authority)
    assert command[0] == "solana-test-validator"
    pairs = {command[i]: command[i + 1] for i in range(1, len(command) - 1)}
    assert pairs["--rpc-port"] == "18899" and pairs["--bind-address"] == "127.0.0.1"
    assert pairs["--ledger"] == str(tmp_path / "ledger")
    preloaded = [
        (command[i + 1], command[i + 2]) for i, arg in enumerate(command) if arg == "--account"
    ]
    assert preloaded == [(address, str(path)) for address, path in accounts]
    assert pairs["--mint"] == str(authority)
    assert "--reset" in command
    kept = agave_command(ChainSettings(), tmp_path / "l", accounts, authority)
    assert "--reset" not in kept and "8899" in kept


def test_mint_account_file_is_a_usdc_mint_owned_by_the_authority():
    authority = Keypair().pubkey()
    record = mint_account_json(MINT, authority, supply=7)
    assert record["pubkey"] == USDC_DEVNET_MINT
    account = record["account"]
    assert account["owner"] == TOKEN
    mint = Mint.from_bytes(base64.b64decode(account["data"][0]))
    assert (mint.decimals, mint.mint_authority, mint.is_initialized) == (6, authority, True)
    assert mint.supply == 7


def test_genesis_preloads_the_wallets_up_creates_with_their_configured_amounts(tmp_path):
    config = StackConfig(payers=3, payer_sol=2.5, payer_usdc=42.5, fee_payers=2, fee_payer_sol=7.0)
    genesis = write_genesis(tmp_path, USDC_DEVNET_MINT, config)
    keys = tmp_path / "keys"
    expected = ["merchant", "fee-payer-0", "fee-payer-1", "payer-0", "payer-1", "payer-2"]
    assert sorted(p.stem for p in keys.glob("*.json")) == sorted(expected)
    wallets = {name: read_keypair(keys / f"{name}.json").pubkey() for name in expected}
    assert genesis.wallets == wallets
    # Every file is in the accounts folder, named on the command line by its own pubkey.
    files = {path.name: (address, path) for address, path in genesis.accounts}
    assert {p.name for p in genesis.accounts_dir.iterdir()} == set(files)
    for address, path in genesis.accounts:
        assert decode(path)[0] == address

    for name, wallet in wallets.items():
        if name == "merchant":
            assert f"{name}.json" not in files  # no SOL configured: no system account
        else:
            pubkey, account, raw = decode(files[f"{name}.json"][1])
            want = 2_500_000_000 if name.startswith("payer") else 7_000_000_000
            assert (pubkey, account["owner"], account["lamports"], raw) == (
                str(wallet),
                SYSTEM,
                want,
                b"",
            )
        if name.startswith("fee-payer"):
            assert f"{name}-usdc.json" not in files
            continue
        pubkey, account, raw = decode(files[f"{name}-usdc.json"][1])
        assert pubkey == str(get_associated_token_address(wallet, MINT))
        assert account["owner"] == TOKEN and account["lamports"] >= 2_039_280
        token = TokenAccount.from_bytes(raw)
        assert (token.mint, token.owner, token.state) == (
            MINT,
            wallet,
            TokenAccountState.Initialized,
        )
        assert token.amount == (0 if name == "merchant" else 42_500_000)
        assert token.delegate is None and token.is_native is None

    pubkey, account, raw = decode(files["usdc-mint.json"][1])
    mint = Mint.from_bytes(raw)
    assert (pubkey, account["owner"]) == (USDC_DEVNET_MINT, TOKEN)
    assert mint.mint_authority == genesis.authority and mint.supply == 3 * 42_500_000
    authority_file = tmp_path / "agave" / "mint-authority.json"
    assert read_keypair(authority_file).pubkey() == genesis.authority
    assert stat.S_IMODE(authority_file.stat().st_mode) == 0o600


def test_genesis_reuses_keys_and_drops_files_of_wallets_gone(tmp_path):
    first = write_genesis(tmp_path, USDC_DEVNET_MINT, StackConfig(payers=3))
    second = write_genesis(tmp_path, USDC_DEVNET_MINT, StackConfig(payers=1))
    assert second.authority == first.authority
    assert second.wallets == {
        k: v for k, v in first.wallets.items() if k != "payer-1" and k != "payer-2"
    }
    names = {p.name for p in second.accounts_dir.iterdir()}
    assert "payer-0-usdc.json" in names and "payer-2-usdc.json" not in names


def test_wallet_defaults_are_up_s():
    """The genesis writer takes StackConfig's defaults; they must stay `up`'s."""
    from sandbox.orchestration.cli import up

    params = inspect.signature(up).parameters
    config = StackConfig()
    for name in ("payers", "payer_sol", "payer_usdc", "fee_payers", "fee_payer_sol"):
        assert params[name].default == getattr(config, name), name


def test_sandbox_home_follows_up_s_layout(monkeypatch, tmp_path):
    monkeypatch.delenv("X402_SANDBOX_HOME", raising=False)
    up_layout = ChainSettings(state_file=tmp_path / "home" / "chain" / "state.json")
    assert agave.sandbox_home(up_layout) == tmp_path / "home"
    assert agave.sandbox_home(ChainSettings(state_file=tmp_path / "s.json")) == tmp_path
    assert agave.sandbox_home(ChainSettings()) == Path(".sandbox")
    monkeypatch.setenv("X402_SANDBOX_HOME", str(tmp_path / "env"))
    assert agave.sandbox_home(up_layout) == tmp_path / "env"


def test_run_agave_without_the_binary_says_so(monkeypatch, capsys):
    monkeypatch.setattr(agave.shutil, "which", lambda _name: None)
    assert agave.run_agave(ChainSettings()) == 2
    assert "needs solana-test-validator on PATH" in capsys.readouterr().err


def test_run_agave_runs_the_binary_with_the_genesis_files(monkeypatch, tmp_path):
    """A stand-in solana-test-validator records its argv: every file it is given exists."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    argv_file = tmp_path / "argv"
    fake = bin_dir / "solana-test-validator"
    fake.write_text(f'#!/bin/sh\nprintf "%s\\n" "$@" > {argv_file}\n')
    fake.chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.delenv("X402_SANDBOX_HOME", raising=False)
    home = tmp_path / "home"
    settings = ChainSettings(port=18899, state_file=home / "chain" / "state.json")
    assert agave.run_agave(settings) == 0
    argv = argv_file.read_text().splitlines()
    accounts = [(argv[i + 1], Path(argv[i + 2])) for i, a in enumerate(argv) if a == "--account"]
    config = StackConfig()
    # mint + merchant ATA + fee payers' SOL + payers' SOL and ATA
    assert len(accounts) == 2 + config.fee_payers + 2 * config.payers
    for address, path in accounts:
        assert path.parent == home / "agave" / "accounts" and decode(path)[0] == address
    assert (home / "keys" / "payer-0.json").exists()
    assert argv[argv.index("--ledger") + 1] == str(home / "agave" / "ledger")
    wrong_ws = ChainSettings(port=18899, ws_port=20000, state_file=settings.state_file)
    assert agave.run_agave(wrong_ws) == 2


def test_genesis_cli_rejects_bad_flags(capsys, tmp_path):
    with pytest.raises(SystemExit) as exc:
        agave.main(["--home", str(tmp_path), "--usdc-mint", "not-a-key"])
    assert exc.value.code == 2
    assert "--usdc-mint 'not-a-key' is not a base58 public key" in capsys.readouterr().err
    assert agave.main(["--home", str(tmp_path), "--payers", "2"]) == 0
    assert len(list((tmp_path / "agave" / "accounts").glob("*.json"))) == 2 + 1 + 2 * 2


@pytest.mark.skipif(
    shutil.which("solana-test-validator") is None, reason="solana-test-validator is not installed"
)
def test_agave_validator_serves_the_usdc_mint_and_the_wallets(tmp_path: Path):
    from sandbox.chain.testing import start_chain

    home = tmp_path / "home"
    with start_chain(
        module="sandbox.orchestration.chain_command",
        validator="agave",
        state=home / "chain" / "state.json",
        fresh=True,
        startup_timeout=120,
    ) as chain:
        info = chain.rpc("getAccountInfo", USDC_DEVNET_MINT, {"encoding": "jsonParsed"})
        assert info["value"]["data"]["parsed"]["info"]["decimals"] == 6
        payer = read_keypair(home / "keys" / "payer-0.json").pubkey()
        ata = str(get_associated_token_address(payer, MINT))
        assert chain.rpc("getBalance", str(payer))["value"] == 1_000_000_000
        balance = chain.rpc("getTokenAccountBalance", ata)["value"]
        assert balance["amount"] == "100000000"


def test_x402_sandbox_chain_routes_validator_agave_through_orchestration(monkeypatch):
    """`x402-sandbox chain --validator agave` reaches run_agave with the chain's own settings;
    `python -m sandbox.chain` (the LiteSVM chain `up` starts) has no such flag."""
    from sandbox import cli
    from sandbox.chain import cli as chain_cli
    from sandbox.orchestration import chain_command

    seen = []
    monkeypatch.setattr(agave, "run_agave", lambda settings: seen.append(settings) or 0)
    assert cli.main(["chain", "--validator", "agave", "--port", "18899", "--fresh"]) == 0
    assert [(s.port, s.fresh) for s in seen] == [(18899, True)]
    assert cli.COMMANDS["chain"][0] == chain_command.__name__
    with pytest.raises(SystemExit):
        chain_cli.build_parser().parse_args(["--validator", "agave"])
