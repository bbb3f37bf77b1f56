"""Wallet keypairs on disk in the Solana CLI's JSON format (64 byte values), mode 0600."""

from __future__ import annotations

import json
import os
from pathlib import Path

from solders.keypair import Keypair


def write_keypair(path: Path, keypair: Keypair) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    # Create with 0600 from the start: a key must never be world-readable, even briefly.
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as out:
        json.dump(list(bytes(keypair)), out)
    os.chmod(path, 0o600)


def read_keypair(path: Path) -> Keypair:
    try:
        values = json.loads(Path(path).read_text())
    except FileNotFoundError:
        raise ValueError(f"keypair file {path} does not exist") from None
    except json.JSONDecodeError:
        raise ValueError(
            f"keypair file {path} is not JSON (expected a Solana CLI keypair)"
        ) from None
    if not (isinstance(values, list) and len(values) == 64):
        raise ValueError(f"keypair file {path} must hold a list of 64 numbers (Solana CLI format)")
    return Keypair.from_bytes(bytes(values))


def load_or_create(path: Path) -> tuple[Keypair, bool]:
    """The keypair at `path`, creating it if missing; the flag says whether it is new."""
    if path.exists():
        return read_keypair(path), False
    keypair = Keypair()
    write_keypair(path, keypair)
    return keypair, True
