"""The sample server's settings: one frozen object, built once by the CLI or a test."""

from __future__ import annotations

from dataclasses import dataclass

from solders.pubkey import Pubkey

from sandbox.protocol import USDC_DEVNET_MINT, to_caip2
from sandbox.protocol.networks import UnknownNetworkError
from sandbox.protocol.siws import normalize_origin

__all__ = ["ServerSettings"]


@dataclass(frozen=True)
class ServerSettings:
    pay_to: str
    facilitator_url: str = "http://127.0.0.1:4022"
    host: str = "127.0.0.1"
    port: int = 4021
    network: str = "solana-devnet"
    usdc_mint: str = USDC_DEVNET_MINT
    facilitator_timeout: float = 10.0
    rpc_url: str | None = None  # when set, settlement receipts are checked on chain
    memo_secret: bytes | None = None  # None: random per process (challenges die with it)
    payment_record: str | None = None  # SQLite file of pending and served payments; None: memory
    log_level: str = "warning"
    bugs: frozenset[str] = frozenset()  # deliberate bugs, for testing tests (bugs.py)
    route_binding: str = "memo"  # "memo" or "none" (offer.py ROUTE_BINDINGS)
    event_feed: bool = True  # GET /_sandbox/events and the steps published to it
    # What sign-in messages must name (sign_in.py); None: http://host:port
    public_origin: str | None = None

    def __post_init__(self) -> None:
        for name in ("pay_to", "usdc_mint"):
            value = getattr(self, name)
            try:
                Pubkey.from_string(value)
            except (ValueError, TypeError):
                flag = name.replace("_", "-")
                raise ValueError(f"--{flag}: {value!r} is not a Solana address") from None
        try:
            to_caip2(self.network)
        except UnknownNetworkError as exc:
            raise ValueError(f"--network: {exc}") from None
        if not self.facilitator_url.startswith(("http://", "https://")):
            raise ValueError(f"--facilitator-url: {self.facilitator_url!r} is not an http URL")
        if self.route_binding not in ("memo", "none"):
            raise ValueError(f"--route-binding: {self.route_binding!r} is not memo or none")
        if self.facilitator_timeout <= 0:
            raise ValueError("--facilitator-timeout must be more than zero seconds")
        if self.public_origin is not None:
            try:
                normalize_origin(self.public_origin)
            except ValueError as exc:
                raise ValueError(f"--public-origin: {exc}") from None

    @property
    def origin(self) -> str:
        """The public origin: the configured one, else where this server listens."""
        if self.public_origin is not None:
            return normalize_origin(self.public_origin)
        host = "127.0.0.1" if self.host in ("0.0.0.0", "::", "") else self.host
        host = f"[{host}]" if ":" in host else host
        return f"http://{host}:{self.port}"
