"""Memo binding: a memo is client input, so any text must get a yes/no answer, never a crash."""

from __future__ import annotations

import pytest

from sandbox.server.binding import MEMO_PREFIX, MemoBinder

ROUTE = ("GET", "/api/weather", 1000, "solana-devnet", "mint", "payto")


def test_issued_memo_is_valid_for_its_route_only() -> None:
    binder = MemoBinder(b"secret")
    memo = binder.issue(*ROUTE)
    assert binder.valid(memo, *ROUTE)
    assert not binder.valid(memo, "GET", "/api/other", 1000, "solana-devnet", "mint", "payto")
    assert not MemoBinder(b"other secret").valid(memo, *ROUTE)


@pytest.mark.parametrize(
    "memo",
    [
        "",
        "not ours",
        MEMO_PREFIX + "0123456789abcdef." + "é" * 32,  # non-ASCII where the MAC goes
        MEMO_PREFIX + "é" * 16 + "." + "0" * 32,
        MEMO_PREFIX + "0123456789abcdef." + "0" * 32,
        MEMO_PREFIX + "x" * 200,
    ],
)
def test_foreign_or_malformed_memo_is_simply_not_valid(memo: str) -> None:
    assert MemoBinder(b"secret").valid(memo, *ROUTE) is False
