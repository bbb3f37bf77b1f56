"""Shared bits of the SDK-side helper scripts (they run in .venv-interop, never in .venv).

Only the official x402 SDK and its dependencies are importable here: no `sandbox` package.
"""

from __future__ import annotations

import json
from pathlib import Path

from solders.keypair import Keypair

SOLANA_DEVNET = "solana:EtWTRABZaYq6iMfeYKouRu166VU2xqa1"
USDC_DEVNET_MINT = "4zMMC9srt5Ri5X14GAgXhaHii3GnPAEERYPJgZJDncDU"


def load_keypair(path: str | Path) -> Keypair:
    """A Solana CLI keypair file: a JSON array of 64 integers."""
    data = json.loads(Path(path).read_text())
    if not isinstance(data, list) or len(data) != 64:
        raise SystemExit(f"{path}: not a Solana CLI keypair file (JSON array of 64 integers)")
    return Keypair.from_bytes(bytes(data))


def dump(model_or_dict: object) -> dict:
    """JSON-ready dict the way the SDK puts its models on the wire (camelCase, no nulls)."""
    dump_fn = getattr(model_or_dict, "model_dump", None)
    if dump_fn is not None:
        return dump_fn(by_alias=True, exclude_none=True, mode="json")
    return dict(model_or_dict)  # type: ignore[call-overload]
