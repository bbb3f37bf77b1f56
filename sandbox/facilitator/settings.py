"""The facilitator's settings: one frozen object, built once by the CLI (or a test), passed down."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from solders.keypair import Keypair
from solders.pubkey import Pubkey

from sandbox.facilitator.faults import Fault
from sandbox.facilitator.ledger import DEFAULT_MEMORY_ROWS
from sandbox.protocol.exact_svm.facilitator import (
    DEFAULT_MAX_COMPUTE_UNIT_LIMIT,
    AmountPolicy,
    Layout,
)
from sandbox.protocol.exact_svm.layouts import LAYOUTS, RESERVED_PROGRAMS

__all__ = [
    "DEFAULT_LEDGER",
    "DEFAULT_MAX_COMPUTE_UNIT_PRICE",
    "DEFAULT_PAYER_COOLDOWN_S",
    "KeypairFileError",
    "Settings",
    "load_keypair",
]

DEFAULT_LEDGER = Path(".sandbox/facilitator/ledger.sqlite3")
# Microlamports per compute unit this facilitator pays at most. The scheme (and the SDKs) cap it
# at 5,000,000 (protocol/exact_svm/transaction.py): at the 200,000-unit limit that is 1,000,000
# lamports of priority fee on each transaction the fee payer pays for, landed or failed. 50,000
# caps it at 10,000 (plus 5,000 a signature); the payer offers 1.
DEFAULT_MAX_COMPUTE_UNIT_PRICE = 50_000
DEFAULT_PAYER_COOLDOWN_S = 30.0  # a payer whose settlement failed on chain is refused this long


class KeypairFileError(ValueError):
    pass


def load_keypair(path: str | Path) -> Keypair:
    """A Solana CLI keypair file: a JSON array of 64 integers (secret key then public key)."""
    path = Path(path)
    try:
        data = json.loads(path.read_text())
    except OSError as exc:
        raise KeypairFileError(f"cannot read keypair file {path}: {exc.strerror}") from None
    except json.JSONDecodeError:
        raise KeypairFileError(f"keypair file {path} is not JSON") from None
    if (
        not isinstance(data, list)
        or len(data) != 64
        or not all(isinstance(b, int) and 0 <= b <= 255 for b in data)
    ):
        raise KeypairFileError(
            f"keypair file {path} must hold a JSON array of 64 integers (Solana CLI format)"
        )
    try:
        return Keypair.from_bytes(bytes(data))
    except ValueError as exc:
        raise KeypairFileError(f"keypair file {path} holds an invalid keypair: {exc}") from None


@dataclass(frozen=True)
class Settings:
    rpc_url: str
    fee_payers: tuple[Keypair, ...]
    ws_url: str | None = None  # default: the RPC port + 1
    ledger_path: Path = DEFAULT_LEDGER
    commitment: str = "confirmed"
    amount_policy: AmountPolicy = "exact"
    max_compute_unit_limit: int = DEFAULT_MAX_COMPUTE_UNIT_LIMIT
    max_compute_unit_price: int = DEFAULT_MAX_COMPUTE_UNIT_PRICE
    max_instructions: int = 7
    confirm_timeout: float = 8.0  # then settlement_pending; below a paid server's usual 10 s
    rpc_timeout: float = 10.0
    rpc_batching: bool = True
    max_body_bytes: int = 64 * 1024
    admin_token: str | None = None
    require_admin_token: bool = False  # the token even from loopback (admin_guard.py)
    allowed_origins: tuple[str, ...] = ()  # web pages besides our own that may call /_sandbox
    host: str = "127.0.0.1"  # where it listens: the admin guard's own origin
    port: int = 4022
    low_balance_lamports: int = 50_000_000  # 0.05 SOL: about 10,000 payments' fees
    faults: tuple[Fault, ...] = ()
    bugs: frozenset[str] = frozenset()  # deliberate bugs, for testing tests (bugs.py)
    history: int = 1000  # recent settlements/rejections kept for /_sandbox/*
    event_feed: bool = True  # GET /_sandbox/events and the verify/settle events published to it
    payer_cooldown_s: float = DEFAULT_PAYER_COOLDOWN_S
    ledger_memory_rows: int = DEFAULT_MEMORY_ROWS  # final ledger rows kept in memory
    layout: Layout = "positional"  # or "role-based" (protocol/exact_svm/layouts.py)
    preflight_allow: tuple[str, ...] = ()  # programs allowed before the payment (role-based)
    postflight_allow: tuple[str, ...] = ()  # programs allowed after it (role-based)
    allow_create_ata: bool = False  # payTo's create-ATA funded by the fee payer (role-based)
    max_created_accounts_per_minute: int = 60  # rent funded through create-ATA (0: no limit)
    settle_status: bool = False  # settle answers carry status/statusAnchor (settle_status.py)
    extra: dict = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.layout not in LAYOUTS:
            raise ValueError(f"--layout must be one of {', '.join(LAYOUTS)}, not {self.layout!r}")
        if self.layout != "role-based":
            for flag, value in (
                ("--preflight-allow", self.preflight_allow),
                ("--postflight-allow", self.postflight_allow),
                ("--allow-create-ata", self.allow_create_ata),
            ):
                if value:
                    raise ValueError(f"{flag} needs --layout role-based")
        for flag, programs in (
            ("--preflight-allow", self.preflight_allow),
            ("--postflight-allow", self.postflight_allow),
        ):
            for program in programs:
                try:
                    key = Pubkey.from_string(program)
                except ValueError:
                    raise ValueError(f"{flag}: {program!r} is not a program address") from None
                if key in RESERVED_PROGRAMS:
                    raise ValueError(
                        f"{flag}: {program} has a role in the payment itself (compute budget, "
                        "token, memo, associated token or Lighthouse) and cannot be allow-listed"
                    )

    def verification_policy(self) -> dict:
        """The layout policy as /health reports it."""
        return {
            "layout": self.layout,
            "preflightAllow": list(self.preflight_allow),
            "postflightAllow": list(self.postflight_allow),
            "allowCreateAta": self.allow_create_ata,
            "maxCreatedAccountsPerMinute": self.max_created_accounts_per_minute,
        }

    def websocket_url(self) -> str | None:
        if self.ws_url:
            return self.ws_url
        from urllib.parse import urlsplit, urlunsplit

        parts = urlsplit(self.rpc_url)
        if not parts.port:
            return None
        scheme = "wss" if parts.scheme == "https" else "ws"
        host = parts.hostname or "127.0.0.1"
        return urlunsplit((scheme, f"{host}:{parts.port + 1}", "", "", ""))
