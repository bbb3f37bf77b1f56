"""Keypair files in the Solana CLI format (a JSON array of 64 integers)."""

from __future__ import annotations

from pathlib import Path

import orjson
from solders.keypair import Keypair

from sandbox.payer.errors import KeypairError

__all__ = ["load_keypair", "save_keypair"]


def load_keypair(path: str | Path) -> Keypair:
    path = Path(path)
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise KeypairError(f"keypair file {path} does not exist") from None
    except OSError as exc:
        raise KeypairError(f"cannot read keypair file {path}: {exc.strerror}") from None
    try:
        numbers = orjson.loads(raw)
    except orjson.JSONDecodeError:
        raise KeypairError(
            f"keypair file {path} is not JSON (expected a Solana CLI keypair: 64 integers)"
        ) from None
    if (
        not isinstance(numbers, list)
        or len(numbers) != 64
        or not all(isinstance(n, int) and 0 <= n <= 255 for n in numbers)
    ):
        raise KeypairError(
            f"keypair file {path} is not a Solana CLI keypair (expected 64 integers 0-255)"
        )
    try:
        return Keypair.from_bytes(bytes(numbers))
    except ValueError as exc:
        raise KeypairError(f"keypair file {path} holds an invalid keypair: {exc}") from None


def save_keypair(keypair: Keypair, path: str | Path) -> Path:
    """Write `keypair` as a Solana CLI keypair file, readable by its owner only."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.touch(mode=0o600, exist_ok=True)
    path.chmod(0o600)
    path.write_bytes(orjson.dumps(list(bytes(keypair))))
    return path
