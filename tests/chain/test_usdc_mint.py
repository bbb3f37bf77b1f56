"""`--usdc-mint`: devnet (default), mainnet, new/fresh (random) or a base58 address."""

from __future__ import annotations

import subprocess
import sys

import pytest
from solders.keypair import Keypair
from solders.pubkey import Pubkey

from sandbox.chain.cli import build_parser, settings_from_args
from sandbox.chain.testing import start_chain
from sandbox.protocol.networks import USDC_DEVNET_MINT, USDC_MAINNET_MINT
from sandbox.protocol.programs import TOKEN_PROGRAM_ID, associated_token_address


def _mint_info(chain, mint: str) -> dict:
    account = chain.rpc("getAccountInfo", mint, {"encoding": "jsonParsed"})["value"]
    assert account["owner"] == str(TOKEN_PROGRAM_ID)
    assert account["data"]["program"] == "spl-token"
    return account["data"]["parsed"]["info"]


def test_mainnet_mint_is_served_with_an_authority_the_sandbox_holds(tmp_path):
    with start_chain(slot_ms=0, usdc_mint="mainnet", log_dir=tmp_path) as chain:
        info = chain.rpc("sandbox_getInfo")
        assert info["usdcMint"] == USDC_MAINNET_MINT
        mint = _mint_info(chain, USDC_MAINNET_MINT)
        assert mint["decimals"] == 6
        assert mint["mintAuthority"] == info["mintAuthority"]
        assert chain.rpc("getAccountInfo", USDC_DEVNET_MINT)["value"] is None
        wallet = Keypair().pubkey()
        minted = chain.rpc("sandbox_mintTo", str(wallet), 1_500_000)  # the default mint
        ata = associated_token_address(wallet, Pubkey.from_string(USDC_MAINNET_MINT))
        assert minted == {"tokenAccount": str(ata), "amount": "1500000"}
        balance = chain.rpc("getTokenAccountBalance", str(ata))["value"]
        assert balance["amount"] == "1500000" and balance["decimals"] == 6
        assert _mint_info(chain, USDC_MAINNET_MINT)["supply"] == "1500000"
    assert f"USDC {USDC_MAINNET_MINT}" in next(tmp_path.glob("chain-*.log")).read_text()


@pytest.mark.parametrize("word", ["new", "fresh"])
def test_fresh_mint_is_random_printed_and_reported(tmp_path, word):
    with start_chain(slot_ms=0, usdc_mint=word, log_dir=tmp_path) as chain:
        mint = chain.rpc("sandbox_getInfo")["usdcMint"]
        assert mint not in (USDC_DEVNET_MINT, USDC_MAINNET_MINT)
        Pubkey.from_string(mint)
        assert _mint_info(chain, mint)["decimals"] == 6
        assert chain.rpc("sandbox_mintTo", str(Keypair().pubkey()), 5)["amount"] == "5"
    assert f"USDC {mint}" in next(tmp_path.glob("chain-*.log")).read_text()


def test_mint_flag_values_resolve():
    parse = build_parser().parse_args
    address = str(Keypair().pubkey())
    assert settings_from_args(parse([])).usdc_mint == USDC_DEVNET_MINT
    assert settings_from_args(parse(["--usdc-mint", "devnet"])).usdc_mint == USDC_DEVNET_MINT
    assert settings_from_args(parse(["--usdc-mint", "Mainnet"])).usdc_mint == USDC_MAINNET_MINT
    assert settings_from_args(parse(["--usdc-mint", address])).usdc_mint == address
    fresh = {settings_from_args(parse(["--usdc-mint", "new"])).usdc_mint for _ in range(3)}
    assert len(fresh) == 3


@pytest.mark.parametrize("value", ["bogus", "0OIl", "mainnet-beta"])
def test_bad_mint_value_is_a_clear_error_naming_the_flag(value):
    done = subprocess.run(
        [sys.executable, "-m", "sandbox.chain", "--usdc-mint", value],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2
    assert "--usdc-mint" in done.stderr and repr(value) in done.stderr
    assert "mainnet" in done.stderr and "Traceback" not in done.stderr
