"""The chain's settings: one frozen object built by the CLI (or tests) and passed down."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from solders.keypair import Keypair
from solders.pubkey import Pubkey

from sandbox.http_limits import HEADER_TIMEOUT
from sandbox.protocol.networks import DEVNET_GENESIS_HASH, USDC_DEVNET_MINT, USDC_MAINNET_MINT

__all__ = [
    "BLOCKHASH_MS",
    "MANUAL",
    "MAX_BLOCKHASH_AGE",
    "USDC_MINT_CHOICES",
    "ChainSettings",
    "FaultSettings",
    "resolve_usdc_mint",
]

# A blockhash lives 150 blocks of a 400 ms clock in every mode (also at --slot-ms 0), so
# pre-signed payments and blockhash hints keep working under load.
MAX_BLOCKHASH_AGE = 150
BLOCKHASH_MS = 400
# `--slot-ms manual` (ChainSettings.slot_ms None): blocks close only on sandbox_advanceSlots.
MANUAL = "manual"


USDC_MINT_CHOICES = "devnet, mainnet, new (a fresh random address) or a base58 address"


def resolve_usdc_mint(value: str) -> str:
    """`--usdc-mint`: devnet / mainnet (USDC's address there), new / fresh (a random address,
    different at every start) or a base58 address. ValueError names the flag and the choices."""
    word = value.strip().lower()
    if word == "devnet":
        return USDC_DEVNET_MINT
    if word == "mainnet":
        return USDC_MAINNET_MINT
    if word in ("new", "fresh"):
        return str(Keypair().pubkey())
    try:
        return str(Pubkey.from_string(value.strip()))
    except ValueError:
        raise ValueError(
            f"--usdc-mint {value!r} is neither a base58 public key nor a known name; "
            f"use {USDC_MINT_CHOICES}"
        ) from None


@dataclass(frozen=True)
class FaultSettings:
    latency_ms: float = 0.0
    drop_rate: float = 0.0
    late_confirm_ms: float = 0.0
    error_rate: float = 0.0


@dataclass(frozen=True)
class ChainSettings:
    host: str = "127.0.0.1"
    port: int = 8899
    ws_port: int | None = None  # default port + 1
    # Block time: 0 closes a block after every transaction; None (`--slot-ms manual`) closes
    # blocks only on sandbox_advanceSlots (the 400 ms blockhash clock ticks in every mode).
    slot_ms: int | None = 400
    finalize_slots: int = 1
    usdc_mint: str = USDC_DEVNET_MINT
    genesis_hash: str = DEVNET_GENESIS_HASH
    state_file: Path | None = None
    state_dir: Path | None = None  # snapshots live in <state dir>/snapshots/
    fresh: bool = False
    journal_max_bytes: int = 128 * 1024 * 1024  # a checkpoint past this (journal.py)
    cheats: bool = True
    admin_token: str | None = None
    require_admin_token: bool = False  # the token even from loopback
    allow_origins: tuple[str, ...] = ()  # web origins besides the chain's own that may cheat
    header_timeout: float = HEADER_TIMEOUT
    sigverify: bool = True
    faults: FaultSettings = field(default_factory=FaultSettings)

    @property
    def snapshot_dir(self) -> Path | None:
        """Where sandbox_saveState NAME writes: --state-dir, else the state file's folder."""
        base = self.state_dir or (self.state_file.parent if self.state_file else None)
        return base / "snapshots" if base is not None else None

    @property
    def manual_blocks(self) -> bool:
        return self.slot_ms is None

    @property
    def slot_label(self) -> int | str:
        """`--slot-ms` as given: milliseconds, or "manual"."""
        return MANUAL if self.slot_ms is None else self.slot_ms

    @property
    def pubsub_port(self) -> int:
        return self.ws_port if self.ws_port is not None else self.port + 1
