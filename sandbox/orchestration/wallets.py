"""The stack's wallets: keypairs on disk (Solana CLI JSON, mode 0600), funding, balances.

Reading and writing keypairs is the payer's (`sandbox.payer.keys`); this adds "load, or create
once", topping wallets up through the chain's cheat codes, and reading their balances back.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from solders.keypair import Keypair
from solders.pubkey import Pubkey

from sandbox.orchestration.home import StackPaths
from sandbox.orchestration.rpc import ChainRpc
from sandbox.payer import load_keypair, save_keypair
from sandbox.protocol import PYUSD_DEVNET_MINT, associated_token_address
from sandbox.protocol.programs import TOKEN_PROGRAM_ID

if TYPE_CHECKING:
    from sandbox.orchestration.stack import StackConfig

__all__ = [
    "Wallet",
    "fund_wallets",
    "load_or_create",
    "read_keypair",
    "read_wallets",
    "write_keypair",
]

LAMPORTS_PER_SOL = 1_000_000_000
USDC_UNIT = 1_000_000
# Balances as settled payments leave them (a facilitator answers at confirmed; the RPC default,
# finalized, lags a block behind at 400 ms slots).
CONFIRMED = {"commitment": "confirmed"}


@dataclass
class Wallet:
    name: str
    address: str
    keypair_file: str
    sol: int = 0  # lamports
    usdc: int | None = None  # atomic units; None when it has no USDC account


def write_keypair(path: Path, keypair: Keypair) -> Path:
    return save_keypair(keypair, path)


def read_keypair(path: Path) -> Keypair:
    return load_keypair(path)


def load_or_create(path: Path) -> tuple[Keypair, bool]:
    """The keypair at `path`, creating it if missing; the flag says whether it is new."""
    if path.exists():
        return read_keypair(path), False
    keypair = Keypair()
    write_keypair(path, keypair)
    return keypair, True


def fund_wallets(
    rpc: ChainRpc,
    config: StackConfig,
    keypairs: dict[str, Any],
    paths: StackPaths,
    usdc_mint: str,
) -> list[Wallet]:
    """Top wallets up to their configured amounts; wallets kept from a previous run keep theirs."""
    mint = Pubkey.from_string(usdc_mint)
    names = list(keypairs)
    addresses = {name: str(kp.pubkey()) for name, kp in keypairs.items()}
    atas = {
        name: str(associated_token_address(kp.pubkey(), mint, TOKEN_PROGRAM_ID))
        for name, kp in keypairs.items()
    }
    sol_before = rpc.batch([("getBalance", [addresses[n], CONFIRMED]) for n in names])
    calls: list[tuple[str, list[Any]]] = []
    for name, balance in zip(names, sol_before, strict=True):
        if name.startswith("fee-payer") and balance["value"] == 0:
            calls.append(("requestAirdrop", [addresses[name], _lamports(config.fee_payer_sol)]))
        elif name.startswith("payer") and balance["value"] == 0:
            calls.append(("requestAirdrop", [addresses[name], _lamports(config.payer_sol)]))
            calls.append(("sandbox_mintTo", [addresses[name], _usdc(config.payer_usdc)]))
            # as much test PYUSD (Token-2022), for the routes priced in it
            calls.append(
                ("sandbox_mintTo", [addresses[name], _usdc(config.payer_usdc), PYUSD_DEVNET_MINT])
            )
    # The merchant needs its USDC and PYUSD accounts to exist before anyone can pay it.
    calls.append(("sandbox_mintTo", [addresses["merchant"], 0]))
    calls.append(("sandbox_mintTo", [addresses["merchant"], 0, PYUSD_DEVNET_MINT]))
    rpc.batch(calls)
    return read_wallets(rpc, {n: (addresses[n], str(paths.key(n)), atas[n]) for n in names})


def read_wallets(rpc: ChainRpc, wallets: dict[str, tuple[str, str, str]]) -> list[Wallet]:
    """Balances as the chain reports them: name -> (address, keypair file, USDC account)."""
    names = list(wallets)
    calls: list[tuple[str, list[Any]]] = []
    for name in names:
        address, _, ata = wallets[name]
        calls.append(("getBalance", [address, CONFIRMED]))
        calls.append(("getAccountInfo", [ata, {"encoding": "jsonParsed", **CONFIRMED}]))
    results = rpc.batch(calls)
    out = []
    for i, name in enumerate(names):
        address, keyfile, _ = wallets[name]
        sol = results[2 * i]["value"]
        account = results[2 * i + 1]["value"]
        usdc = None
        if account and isinstance(account.get("data"), dict):
            usdc = int(account["data"]["parsed"]["info"]["tokenAmount"]["amount"])
        out.append(Wallet(name, address, keyfile, sol, usdc))
    return out


def _lamports(sol: float) -> int:
    return round(sol * LAMPORTS_PER_SOL)


def _usdc(amount: float) -> int:
    return round(amount * USDC_UNIT)
