"""Network ids (v1 names <-> CAIP-2) and prices ("$0.01" <-> atomic units)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sandbox.protocol import (
    DEVNET_GENESIS_HASH,
    SOLANA_DEVNET,
    SOLANA_MAINNET,
    SOLANA_TESTNET,
    UnknownNetworkError,
    caip2_from_genesis_hash,
    format_usdc,
    is_solana,
    parse_price,
    same_network,
    to_caip2,
    to_v1,
)
from sandbox.protocol.networks import MAINNET_GENESIS_HASH, TESTNET_GENESIS_HASH

PAIRS = [
    ("solana", SOLANA_MAINNET),
    ("solana-devnet", SOLANA_DEVNET),
    ("solana-testnet", SOLANA_TESTNET),
]


@pytest.mark.parametrize(("v1", "caip2"), PAIRS)
def test_mapping_both_ways_and_idempotent(v1: str, caip2: str) -> None:
    assert to_caip2(v1) == caip2 and to_caip2(caip2) == caip2
    assert to_v1(caip2) == v1 and to_v1(v1) == v1
    assert same_network(v1, caip2) and is_solana(v1) and is_solana(caip2)


def test_caip2_is_the_first_32_characters_of_the_genesis_hash() -> None:
    assert SOLANA_DEVNET == "solana:EtWTRABZaYq6iMfeYKouRu166VU2xqa1"
    assert caip2_from_genesis_hash(DEVNET_GENESIS_HASH) == SOLANA_DEVNET
    assert caip2_from_genesis_hash(MAINNET_GENESIS_HASH) == SOLANA_MAINNET
    assert caip2_from_genesis_hash(TESTNET_GENESIS_HASH) == SOLANA_TESTNET


@pytest.mark.parametrize("network", ["solana-localnet", "solana:local", "base-sepolia", ""])
def test_unknown_networks(network: str) -> None:
    with pytest.raises(UnknownNetworkError, match="unknown Solana network"):
        to_caip2(network)
    with pytest.raises(UnknownNetworkError):
        to_v1(network)
    assert not is_solana(network)
    assert not same_network(network, SOLANA_DEVNET)
    assert same_network(network, network)  # unknown ids compare as text


def test_different_clusters_differ() -> None:
    assert not same_network("solana", SOLANA_DEVNET)
    assert not same_network(SOLANA_TESTNET, "solana-devnet")


@pytest.mark.parametrize(
    ("price", "atomic"),
    [
        ("$0.01", 10_000),
        ("0.01", 10_000),
        ("$0.001", 1_000),
        (" $ 1.5 ", 1_500_000),
        ("$0.000001", 1),
        ("$0", 0),
        ("2", 2_000_000),
        (5, 5),
        ("1e-2", 10_000),
    ],
)
def test_parse_price(price, atomic: int) -> None:
    assert parse_price(price) == atomic


@pytest.mark.parametrize(
    ("price", "message"),
    [
        ("$0.0000001", "more than 6 decimal places"),
        ("abc", "is not a number"),
        ("1,000", "is not a number"),
        ("", "is not a number"),
        ("-0.01", "must not be negative"),
        (-1, "must not be negative"),
        ("nan", "not a finite number"),
        ("inf", "not a finite number"),
        (True, "dollar string"),
    ],
)
def test_parse_price_errors(price, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        parse_price(price)


def test_parse_price_other_decimals() -> None:
    assert parse_price("$0.5", decimals=9) == 500_000_000
    assert parse_price("$3", decimals=0) == 3
    with pytest.raises(ValueError, match="more than 0 decimal places"):
        parse_price("0.5", decimals=0)


@pytest.mark.parametrize(
    ("atomic", "text"),
    [
        (10_000, "0.01"),
        (1_000, "0.001"),
        (1, "0.000001"),
        (0, "0.00"),
        (1_500_000, "1.50"),
        (123_456_789, "123.456789"),
    ],
)
def test_format_usdc(atomic: int, text: str) -> None:
    assert format_usdc(atomic) == text


@given(st.integers(min_value=0, max_value=10**15))
def test_format_then_parse_is_identity(atomic: int) -> None:
    assert parse_price(format_usdc(atomic)) == atomic
    assert parse_price("$" + format_usdc(atomic)) == atomic
