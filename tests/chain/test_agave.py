"""`--validator agave`: the solana-test-validator command line, and a run where it exists."""

from __future__ import annotations

import base64
import shutil
from pathlib import Path

import pytest
from solders.keypair import Keypair
from solders.pubkey import Pubkey
from solders.token.state import Mint

from sandbox.chain.agave import agave_command, mint_account_json
from sandbox.chain.settings import ChainSettings
from sandbox.protocol.networks import USDC_DEVNET_MINT


def test_command_preloads_usdc_mint_and_funds_authority(tmp_path):
    authority = Keypair().pubkey()
    settings = ChainSettings(host="127.0.0.1", port=18899, fresh=True)
    command = agave_command(settings, tmp_path / "ledger", tmp_path / "mint.json", authority)
    assert command[0] == "solana-test-validator"
    pairs = {command[i]: command[i + 1] for i in range(1, len(command) - 1)}
    assert pairs["--rpc-port"] == "18899" and pairs["--bind-address"] == "127.0.0.1"
    assert pairs["--ledger"] == str(tmp_path / "ledger")
    account_at = command.index("--account")
    assert command[account_at + 1 : account_at + 3] == [
        USDC_DEVNET_MINT,
        str(tmp_path / "mint.json"),
    ]
    assert pairs["--mint"] == str(authority)
    assert "--reset" in command
    kept = agave_command(ChainSettings(), tmp_path / "l", tmp_path / "m.json", authority)
    assert "--reset" not in kept and "8899" in kept


def test_mint_account_file_is_a_usdc_mint_owned_by_the_authority():
    authority = Keypair().pubkey()
    record = mint_account_json(Pubkey.from_string(USDC_DEVNET_MINT), authority)
    assert record["pubkey"] == USDC_DEVNET_MINT
    account = record["account"]
    assert account["owner"] == "TokenkegQfeZyiNwAJbNbGKPFXCWuBvf9Ss623VQ5DA"
    mint = Mint.from_bytes(base64.b64decode(account["data"][0]))
    assert (mint.decimals, mint.mint_authority, mint.is_initialized) == (6, authority, True)


@pytest.mark.skipif(
    shutil.which("solana-test-validator") is None, reason="solana-test-validator is not installed"
)
def test_agave_validator_serves_the_usdc_mint(tmp_path: Path):
    from sandbox.chain.testing import start_chain

    with start_chain(
        validator="agave", state=tmp_path / "state.json", startup_timeout=120
    ) as chain:
        info = chain.rpc("getAccountInfo", USDC_DEVNET_MINT, {"encoding": "jsonParsed"})
        assert info["value"]["data"]["parsed"]["info"]["decimals"] == 6
