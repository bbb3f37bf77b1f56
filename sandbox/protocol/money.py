"""Prices: "$0.01" or "0.01" USDC, or atomic units, to atomic units and back."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from sandbox.protocol.networks import USDC_DECIMALS


def parse_price(price: str | int, decimals: int = USDC_DECIMALS) -> int:
    """'$0.01' -> 10000 atomic units (6 decimals); an int is already atomic."""
    if isinstance(price, bool):
        raise ValueError("price must be a dollar string like '$0.01' or an integer of atomic units")
    if isinstance(price, int):
        if price < 0:
            raise ValueError("price must not be negative")
        return price
    text = price.strip().removeprefix("$").strip()
    try:
        value = Decimal(text)
    except InvalidOperation:
        raise ValueError(f"price {price!r} is not a number like '$0.01'") from None
    if not value.is_finite():
        raise ValueError(f"price {price!r} is not a finite number like '$0.01'")
    if value < 0:
        raise ValueError("price must not be negative")
    atomic = value.scaleb(decimals)
    if atomic != atomic.to_integral_value():
        raise ValueError(f"price {price!r} has more than {decimals} decimal places")
    return int(atomic)


def format_usdc(atomic: int, decimals: int = USDC_DECIMALS) -> str:
    """10000 -> '0.01' (trailing zeros trimmed, at least two decimals)."""
    value = Decimal(atomic).scaleb(-decimals)
    text = f"{value:.{decimals}f}".rstrip("0")
    whole, _, frac = text.partition(".")
    return f"{whole}.{frac.ljust(2, '0')}"
