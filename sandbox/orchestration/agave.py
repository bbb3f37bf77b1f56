"""`x402-sandbox chain --validator agave`: run the real solana-test-validator instead of the
LiteSVM chain. It lives in orchestration, not in sandbox/chain, because it preloads the wallets
`up` creates (StackConfig, the keys under HOME): the chain package knows nothing of the stack.

solana-test-validator has no `sandbox_*` cheat codes, so everything `x402-sandbox up` funds is
preloaded at genesis instead, from account files in the `solana account --output json` format:

- the test USDC mint, whose mint authority is a keypair the sandbox holds (HOME/agave/),
- every wallet `up` creates (HOME/keys/merchant.json, fee-payer-N.json, payer-N.json, created
  here when missing): a system account with its configured SOL, and for the merchant and the
  payers their USDC associated token account holding the configured USDC.

The files go to HOME/agave/accounts/; the command passes each with `--account`, and the compose
`agave` profile loads the folder with `--account-dir` (`python -m sandbox.orchestration.agave`
writes it).
UNTESTED against a real validator here: solana-test-validator cannot be installed on this machine.
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from solders.pubkey import Pubkey
from solders.token.state import Mint, TokenAccount, TokenAccountState

from sandbox.chain.settings import ChainSettings
from sandbox.protocol import associated_token_address
from sandbox.protocol.networks import USDC_DECIMALS, USDC_DEVNET_MINT
from sandbox.protocol.programs import TOKEN_PROGRAM_ID

from .stack import StackConfig, StackPaths, add_wallet_flags, wallet_config
from .wallets import LAMPORTS_PER_SOL, USDC_UNIT, load_or_create

__all__ = [
    "VALIDATOR_BINARY",
    "GenesisFiles",
    "agave_command",
    "genesis_records",
    "mint_account_json",
    "run_agave",
    "sandbox_home",
    "system_account_json",
    "token_account_json",
    "wallet_names",
    "write_genesis",
]

VALIDATOR_BINARY = "solana-test-validator"
SYSTEM_PROGRAM_ID = "11111111111111111111111111111111"
MINT_RENT_LAMPORTS = 1_461_600  # rent-exempt minimum for 82 bytes
TOKEN_ACCOUNT_RENT_LAMPORTS = 2_039_280  # ... for 165 bytes


def _record(pubkey: Pubkey | str, lamports: int, owner: str, data: bytes) -> dict:
    """One account in the `solana account --output json` format that --account reads."""
    return {
        "pubkey": str(pubkey),
        "account": {
            "lamports": lamports,
            "data": [base64.b64encode(data).decode(), "base64"],
            "owner": owner,
            "executable": False,
            "rentEpoch": 0,
            "space": len(data),
        },
    }


def mint_account_json(
    mint: Pubkey, authority: Pubkey, decimals: int = USDC_DECIMALS, supply: int = 0
) -> dict:
    data = bytes(Mint(authority, supply, decimals, True, None))
    return _record(mint, MINT_RENT_LAMPORTS, str(TOKEN_PROGRAM_ID), data)


def system_account_json(address: Pubkey, lamports: int) -> dict:
    """A plain wallet: owned by the system program, no data, `lamports` of SOL."""
    return _record(address, lamports, SYSTEM_PROGRAM_ID, b"")


def token_account_json(owner: Pubkey, mint: Pubkey, amount: int) -> dict:
    """`owner`'s associated token account for `mint`, initialised, holding `amount`."""
    ata = associated_token_address(owner, mint, TOKEN_PROGRAM_ID)
    account = TokenAccount(mint, owner, amount, None, TokenAccountState.Initialized, None, 0, None)
    return _record(ata, TOKEN_ACCOUNT_RENT_LAMPORTS, str(TOKEN_PROGRAM_ID), bytes(account))


def wallet_names(config: StackConfig) -> list[str]:
    """The wallets `x402-sandbox up` creates, in its order."""
    return (
        ["merchant"]
        + [f"fee-payer-{i}" for i in range(config.fee_payers)]
        + [f"payer-{i}" for i in range(config.payers)]
    )


def genesis_records(
    wallets: dict[str, Pubkey], mint: Pubkey, authority: Pubkey, config: StackConfig
) -> dict[str, dict]:
    """File stem -> account record, for the mint and the wallets funded as `up` funds them:
    fee payers get SOL, payers SOL and USDC, the merchant an empty USDC account (it only
    receives). A wallet with no SOL configured gets no system account (it would not exist)."""
    payer_usdc = round(config.payer_usdc * USDC_UNIT)
    records: dict[str, dict] = {}
    supply = 0
    for name, address in wallets.items():
        if name == "merchant":
            sol, usdc = 0, 0
        elif name.startswith("fee-payer"):
            sol, usdc = round(config.fee_payer_sol * LAMPORTS_PER_SOL), None
        else:
            sol, usdc = round(config.payer_sol * LAMPORTS_PER_SOL), payer_usdc
        if sol:
            records[name] = system_account_json(address, sol)
        if usdc is not None:
            records[f"{name}-usdc"] = token_account_json(address, mint, usdc)
            supply += usdc
    # The mint's supply is the sum of the balances, as if they had been minted.
    records["usdc-mint"] = mint_account_json(mint, authority, supply=supply)
    return records


@dataclass(frozen=True)
class GenesisFiles:
    accounts_dir: Path
    accounts: list[tuple[str, Path]]  # (address, account file)
    authority: Pubkey
    wallets: dict[str, Pubkey]


def write_genesis(home: Path, usdc_mint: str, config: StackConfig | None = None) -> GenesisFiles:
    """Create (or reuse) the wallets under HOME/keys and write the account files to
    HOME/agave/accounts/ (the folder holds nothing else: --account-dir loads every .json)."""
    config = config or StackConfig(home=home)
    paths = StackPaths(home)
    paths.keys.mkdir(parents=True, exist_ok=True)
    wallets = {name: load_or_create(paths.key(name))[0].pubkey() for name in wallet_names(config)}
    agave_dir = paths.home / "agave"
    authority = load_or_create(agave_dir / "mint-authority.json")[0].pubkey()
    mint = Pubkey.from_string(usdc_mint)
    accounts_dir = agave_dir / "accounts"
    accounts_dir.mkdir(parents=True, exist_ok=True)
    for stale in accounts_dir.glob("*.json"):  # e.g. payers dropped since the last run
        stale.unlink()
    accounts = []
    for stem, record in genesis_records(wallets, mint, authority, config).items():
        path = accounts_dir / f"{stem}.json"
        path.write_text(json.dumps(record, indent=2) + "\n")
        accounts.append((record["pubkey"], path))
    return GenesisFiles(accounts_dir, accounts, authority, wallets)


def agave_command(
    settings: ChainSettings,
    ledger_dir: Path,
    accounts: Sequence[tuple[str, Path]],
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
    ]
    for address, path in accounts:
        command += ["--account", address, str(path)]
    # The sandbox's authority receives the genesis SOL: it funds wallets like our faucet.
    command += ["--mint", str(authority), "--quiet"]
    if settings.fresh:
        command.append("--reset")
    return command


def sandbox_home(settings: ChainSettings) -> Path:
    """$X402_SANDBOX_HOME, else the home `up` implies by `--state HOME/chain/state.json`, else
    the state file's folder, else .sandbox (up's default)."""
    if os.environ.get("X402_SANDBOX_HOME"):
        return Path(os.environ["X402_SANDBOX_HOME"])
    if settings.state_file is not None:
        folder = settings.state_file.resolve().parent
        return folder.parent if folder.name == "chain" else folder
    return Path(".sandbox")


def run_agave(settings: ChainSettings, config: StackConfig | None = None) -> int:
    binary = shutil.which(VALIDATOR_BINARY)
    if binary is None:
        print(f"chain: --validator agave needs {VALIDATOR_BINARY} on PATH", file=sys.stderr)
        return 2
    if settings.ws_port is not None and settings.ws_port != settings.port + 1:
        print(
            f"chain: {VALIDATOR_BINARY} serves PubSub on --port + 1 ({settings.port + 1}); "
            f"drop --ws-port {settings.ws_port}",
            file=sys.stderr,
        )
        return 2
    home = sandbox_home(settings)
    genesis = write_genesis(home, settings.usdc_mint, config)
    # Without --reset an existing ledger is resumed and the validator ignores --account.
    ledger = StackPaths(home).home / "agave" / "ledger"
    return subprocess.call(
        agave_command(settings, ledger, genesis.accounts, genesis.authority, binary)
    )


def main(argv: list[str] | None = None) -> int:
    """`python -m sandbox.orchestration.agave`: write the genesis account files only (compose's
    `agave-genesis` service), with the same wallet flags and defaults as `x402-sandbox up`."""
    parser = argparse.ArgumentParser(
        prog="python -m sandbox.orchestration.agave",
        description="Write the wallets and USDC accounts to preload into solana-test-validator.",
    )
    parser.add_argument(
        "--home", type=Path, default=Path(os.environ.get("X402_SANDBOX_HOME") or ".sandbox")
    )
    parser.add_argument("--usdc-mint", default=USDC_DEVNET_MINT)
    add_wallet_flags(parser)
    args = parser.parse_args(argv)
    if args.payers < 0 or args.fee_payers < 1:
        parser.error("--payers must be >= 0 and --fee-payers >= 1")
    if min(args.payer_sol, args.payer_usdc, args.fee_payer_sol) < 0:
        parser.error("--payer-sol, --payer-usdc and --fee-payer-sol must be >= 0")
    try:
        Pubkey.from_string(args.usdc_mint)
    except ValueError:
        parser.error(f"--usdc-mint {args.usdc_mint!r} is not a base58 public key")
    config = wallet_config(args, args.home)
    try:
        genesis = write_genesis(args.home, args.usdc_mint, config)
    except (OSError, ValueError) as exc:
        print(f"agave genesis: {exc}", file=sys.stderr)
        return 1
    print(
        f"agave genesis: {len(genesis.accounts)} account files in {genesis.accounts_dir} "
        f"({len(genesis.wallets)} wallets, USDC mint {args.usdc_mint})"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
