"""Wallet keypairs on disk in the Solana CLI's JSON format (64 byte values), mode 0600.

Reading and writing is the payer's (`sandbox.payer.keys`); this adds "load, or create once".
"""

from __future__ import annotations

from pathlib import Path

from solders.keypair import Keypair

from sandbox.payer import load_keypair, save_keypair

__all__ = ["load_or_create", "read_keypair", "write_keypair"]


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
