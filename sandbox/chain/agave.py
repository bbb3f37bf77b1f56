"""`--validator agave`: run the real solana-test-validator instead of the LiteSVM chain.

The command preloads the test USDC mint (an account file whose mint authority is a keypair the
sandbox holds) with `--account`, so the same mint address, decimals and authority exist on both.
"""

from __future__ import annotations

import base64
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

from solders.keypair import Keypair
from solders.pubkey import Pubkey
from solders.token.state import Mint

from sandbox.protocol.networks import USDC_DECIMALS
from sandbox.protocol.programs import TOKEN_PROGRAM_ID

from .settings import ChainSettings

__all__ = ["VALIDATOR_BINARY", "agave_command", "mint_account_json", "run_agave"]

VALIDATOR_BINARY = "solana-test-validator"
MINT_RENT_LAMPORTS = 1_461_600


def mint_account_json(mint: Pubkey, authority: Pubkey, decimals: int = USDC_DECIMALS) -> dict:
    """An account file in the `solana account --output json` format that --account reads."""
    data = bytes(Mint(authority, 0, decimals, True, None))
    return {
        "pubkey": str(mint),
        "account": {
            "lamports": MINT_RENT_LAMPORTS,
            "data": [base64.b64encode(data).decode(), "base64"],
            "owner": str(TOKEN_PROGRAM_ID),
            "executable": False,
            "rentEpoch": 0,
            "space": len(data),
        },
    }


def agave_command(
    settings: ChainSettings,
    ledger_dir: Path,
    mint_file: Path,
    authority: Pubkey,
    binary: str = VALIDATOR_BINARY,
) -> list[str]:
    """The solana-test-validator command line for these settings (PubSub is RPC port + 1)."""
    command = [
        binary,
        "--ledger",
        str(ledger_dir),
        "--bind-address",
        settings.host,
        "--rpc-port",
        str(settings.port),
        "--account",
        settings.usdc_mint,
        str(mint_file),
        # The sandbox's authority receives the genesis SOL: it funds wallets like our faucet.
        "--mint",
        str(authority),
        "--quiet",
    ]
    if settings.fresh:
        command.append("--reset")
    return command


def run_agave(settings: ChainSettings) -> int:
    binary = shutil.which(VALIDATOR_BINARY)
    if binary is None:
        print(f"chain: --validator agave needs {VALIDATOR_BINARY} on PATH", file=sys.stderr)
        return 2
    home = (settings.state_file.parent if settings.state_file else Path(".sandbox")) / "agave"
    home.mkdir(parents=True, exist_ok=True)
    authority_file = home / "mint-authority.json"
    if not authority_file.exists():
        authority_file.write_text(Keypair().to_json())
        os.chmod(authority_file, 0o600)
    authority = Keypair.from_json(authority_file.read_text())
    mint_file = home / "usdc-mint.json"
    mint_file.write_text(
        json.dumps(mint_account_json(Pubkey.from_string(settings.usdc_mint), authority.pubkey()))
    )
    command = agave_command(settings, home / "ledger", mint_file, authority.pubkey(), binary)
    return subprocess.call(command)
