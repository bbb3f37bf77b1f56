"""Solana network identifiers: v1 names and v2 CAIP-2 ids, and the mapping between them.

There is no localnet id in x402: the sandbox presents itself as a devnet twin so that unmodified
SDK clients accept it (see shared/reference/x402-solana.md section 2).
"""

from __future__ import annotations

MAINNET_GENESIS_HASH = "5eykt4UsFv8P8NJdTREpY1vzqKqZKvdpKuc147dw2N9d"
DEVNET_GENESIS_HASH = "EtWTRABZaYq6iMfeYKouRu166VU2xqa1wcaWoxPkrZBG"
TESTNET_GENESIS_HASH = "4uhcVJyU9pJkvQyS88uRDiswHXSCkY3zQawwpjk2NsNY"

SOLANA_MAINNET = "solana:5eykt4UsFv8P8NJdTREpY1vzqKqZKvdp"
SOLANA_DEVNET = "solana:EtWTRABZaYq6iMfeYKouRu166VU2xqa1"
SOLANA_TESTNET = "solana:4uhcVJyU9pJkvQyS88uRDiswHXSCkY3z"

V1_TO_CAIP2: dict[str, str] = {
    "solana": SOLANA_MAINNET,
    "solana-devnet": SOLANA_DEVNET,
    "solana-testnet": SOLANA_TESTNET,
}
CAIP2_TO_V1: dict[str, str] = {v: k for k, v in V1_TO_CAIP2.items()}

USDC_DEVNET_MINT = "4zMMC9srt5Ri5X14GAgXhaHii3GnPAEERYPJgZJDncDU"
USDC_MAINNET_MINT = "EPjFWdd5AufqSSqeM2qN1xzybapC8G4wEGGkZwyTDt1v"
USDC_DECIMALS = 6
# PayPal USD on Token-2022 at its devnet address (the Solana Foundation's interop vectors pay
# in it); the sandbox chain creates it as it creates USDC, 6 decimals, and `up` funds payers.
PYUSD_DEVNET_MINT = "CXk2AMBfi3TwaEL2468s6zP8xq9NxTXjp9gjMgzeUynM"
PYUSD_DECIMALS = 6


class UnknownNetworkError(ValueError):
    """A network id that is neither a known v1 name nor a known Solana CAIP-2 id."""


def caip2_from_genesis_hash(genesis_hash: str) -> str:
    """CAIP-2 ids use the first 32 characters of the genesis hash."""
    return f"solana:{genesis_hash[:32]}"


def to_caip2(network: str) -> str:
    """Normalise a v1 name or a CAIP-2 id to the CAIP-2 id."""
    if network in CAIP2_TO_V1:
        return network
    try:
        return V1_TO_CAIP2[network]
    except KeyError:
        raise UnknownNetworkError(f"unknown Solana network {network!r}") from None


def to_v1(network: str) -> str:
    """Normalise a CAIP-2 id or a v1 name to the v1 name."""
    if network in V1_TO_CAIP2:
        return network
    try:
        return CAIP2_TO_V1[network]
    except KeyError:
        raise UnknownNetworkError(f"unknown Solana network {network!r}") from None


def is_solana(network: str) -> bool:
    return network in V1_TO_CAIP2 or network in CAIP2_TO_V1


def same_network(a: str, b: str) -> bool:
    """True when two ids (either version) name the same cluster."""
    try:
        return to_caip2(a) == to_caip2(b)
    except UnknownNetworkError:
        return a == b
