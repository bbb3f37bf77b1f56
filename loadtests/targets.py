"""Where a load test points and what it pays with, read from the environment.

The same locustfiles run under `x402-sandbox loadtest` (which sets these variables), from the
compose file (master and workers share the sandbox home volume) and by hand:

    X402_SANDBOX_SERVER_URL        paid server (the paid-flow and challenge profiles)
    X402_SANDBOX_FACILITATOR_URL   facilitator (verify and settle profiles)
    X402_SANDBOX_RPC_URL           Solana JSON-RPC (blockhash, mint facts)
    X402_SANDBOX_USDC_MINT         asset of verify/settle payments (default: stack's, devnet USDC)
    X402_SANDBOX_KEYS_DIR          payer keypairs (Solana CLI JSON); `payer-*.json` if present
    X402_LOADTEST_PAYERS           use only the first N keypairs of the folder
    X402_SANDBOX_HOME              fallback for all of the above: its stack.json and keys/
    X402_LOADTEST_PATH             route of the paid flow (default /api/premium-content)
    X402_LOADTEST_PAY_TO           merchant wallet for verify/settle (default: stack's merchant)
    X402_LOADTEST_AMOUNT           atomic USDC per verify/settle payment (default 1000 = $0.001)
    X402_LOADTEST_MAX_PRICE        most a paid-flow user pays per request, atomic (default 50000)
    X402_LOADTEST_RATE             constant arrival rate: iterations per second over all users
    X402_LOADTEST_USERS            users (for the arrival rate and the load shapes)
    X402_LOADTEST_OUT              folder where each Locust process writes its own accounting
    X402_LOADTEST_PAYMENT_IDS      "off": no payment identifier, even where the 402 declares one
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from sandbox.protocol import USDC_DEVNET_MINT

__all__ = ["DEFAULT_AMOUNT", "DEFAULT_PATH", "TargetError", "Targets"]

DEFAULT_PATH = "/api/premium-content"
DEFAULT_AMOUNT = 1_000
DEFAULT_MAX_PRICE = 50_000


class TargetError(RuntimeError):
    """A target or setting is missing or malformed; the message names the variable."""


def _int(env: Mapping[str, str], name: str, default: int | None) -> int | None:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise TargetError(f"{name}={raw!r} is not an integer") from None
    if value < 0:
        raise TargetError(f"{name}={raw!r} must not be negative")
    return value


def _float(env: Mapping[str, str], name: str) -> float | None:
    raw = env.get(name, "").strip()
    if not raw:
        return None
    try:
        value = float(raw)
    except ValueError:
        raise TargetError(f"{name}={raw!r} is not a number") from None
    if not value > 0:
        raise TargetError(f"{name}={raw!r} must be positive")
    return value


@dataclass(frozen=True)
class Targets:
    server_url: str | None = None
    facilitator_url: str | None = None
    rpc_url: str | None = None
    keys_dir: Path | None = None
    pay_to: str | None = None
    asset: str = USDC_DEVNET_MINT
    path: str = DEFAULT_PATH
    amount: int = DEFAULT_AMOUNT
    max_price: int = DEFAULT_MAX_PRICE
    rate: float | None = None
    users: int | None = None
    payers: int | None = None
    out_dir: Path | None = None
    payment_ids: bool = True  # a fresh payment-identifier where the 402 declares the extension

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Targets:
        env = os.environ if env is None else env
        stack: dict = {}
        home = env.get("X402_SANDBOX_HOME", "").strip()
        if home:
            try:
                stack = json.loads((Path(home) / "stack.json").read_text())
            except (OSError, ValueError):
                stack = {}
        merchant = next(
            (w.get("address") for w in stack.get("wallets", []) if w.get("name") == "merchant"),
            None,
        )
        keys = env.get("X402_SANDBOX_KEYS_DIR", "").strip() or (
            str(Path(home) / "keys") if home else ""
        )
        path = env.get("X402_LOADTEST_PATH", "").strip() or DEFAULT_PATH
        if not path.startswith("/"):
            raise TargetError(f"X402_LOADTEST_PATH={path!r} must start with '/'")
        out = env.get("X402_LOADTEST_OUT", "").strip()
        return cls(
            server_url=_url(env, "X402_SANDBOX_SERVER_URL", stack.get("server_url")),
            facilitator_url=_url(env, "X402_SANDBOX_FACILITATOR_URL", stack.get("facilitator_url")),
            rpc_url=_url(env, "X402_SANDBOX_RPC_URL", stack.get("rpc_url")),
            keys_dir=Path(keys) if keys else None,
            pay_to=env.get("X402_LOADTEST_PAY_TO", "").strip() or merchant,
            asset=env.get("X402_SANDBOX_USDC_MINT", "").strip()
            or stack.get("usdc_mint")
            or USDC_DEVNET_MINT,
            path=path,
            amount=_int(env, "X402_LOADTEST_AMOUNT", DEFAULT_AMOUNT) or DEFAULT_AMOUNT,
            max_price=_int(env, "X402_LOADTEST_MAX_PRICE", DEFAULT_MAX_PRICE) or DEFAULT_MAX_PRICE,
            rate=_float(env, "X402_LOADTEST_RATE"),
            users=_int(env, "X402_LOADTEST_USERS", None),
            payers=_int(env, "X402_LOADTEST_PAYERS", None),
            out_dir=Path(out) if out else None,
            payment_ids=env.get("X402_LOADTEST_PAYMENT_IDS", "").strip().lower() != "off",
        )

    def require(self, *names: str) -> None:
        """TargetError naming the variable of every target that is missing."""
        variables = {
            "server_url": "X402_SANDBOX_SERVER_URL",
            "facilitator_url": "X402_SANDBOX_FACILITATOR_URL",
            "rpc_url": "X402_SANDBOX_RPC_URL",
            "keys_dir": "X402_SANDBOX_KEYS_DIR",
            "pay_to": "X402_LOADTEST_PAY_TO",
        }
        missing = [variables[name] for name in names if getattr(self, name) is None]
        if missing:
            raise TargetError(
                f"set {', '.join(missing)} (or X402_SANDBOX_HOME to a sandbox home with stack.json)"
            )


def _url(env: Mapping[str, str], name: str, fallback: str | None) -> str | None:
    value = env.get(name, "").strip() or fallback
    if not value:
        return None
    if not value.startswith(("http://", "https://")):
        raise TargetError(f"{name}={value!r} is not an http(s) URL")
    return value.rstrip("/")
