"""Hostile parameters answer -32602 naming the parameter, never -32603 (an internal error)."""

from __future__ import annotations

import base64

import httpx
import pytest
from solders.hash import Hash
from solders.keypair import Keypair
from solders.message import Message
from solders.transaction import Transaction

KEY = "11111111111111111111111111111112"
SIG = "1" * 64
LOADER = "BPFLoaderUpgradeab1e11111111111111111111111"


def _post(url, body):
    response = httpx.post(url, json=body)
    assert response.status_code == 200, response.text
    return response.json()


def _call(url, method, *params, request_id=7):
    body = {"jsonrpc": "2.0", "id": request_id, "method": method, "params": list(params)}
    return _post(url, body)


def _nested(depth: int, leaf=1):
    value = leaf
    for _ in range(depth):
        value = [value]
    return value


def _signed_transaction() -> str:
    payer = Keypair()
    message = Message.new_with_blockhash([], payer.pubkey(), Hash.default())
    return base64.b64encode(bytes(Transaction([payer], message, Hash.default()))).decode()


def _unsigned_transaction() -> str:
    """A transaction with zero signatures (valid wire format, nothing signed)."""
    message = Message.new_with_blockhash([], Keypair().pubkey(), Hash.default())
    return base64.b64encode(b"\x00" + bytes(message)).decode()


@pytest.mark.parametrize(
    ("method", "params", "named"),
    [
        ("sendTransaction", ["SIGNED", {"encoding": "base64", "minContextSlot": "x"}], None),
        ("sendTransaction", [None, {"minContextSlot": 1}], "transaction"),
        ("simulateTransaction", ["SIGNED", {"encoding": "base64", "minContextSlot": "1"}], None),
        ("sendTransaction", ["SIGNED", {"encoding": "base64", "minContextSlot": [1]}], None),
        ("getSlot", [{"commitment": {"a": 1}}], "commitment"),
        ("getBalance", [KEY, {"commitment": ["finalized"]}], "commitment"),
        ("getMinimumBalanceForRentExemption", [_nested(900)], "params"),
        ("getBalance", [_nested(40, KEY)], "params"),
        ("getSlot", [{"commitment": _nested(20, {})}], "commitment"),
        ("sendTransaction", ["UNSIGNED", {"encoding": "base64"}], "transaction"),
        ("simulateTransaction", ["UNSIGNED", {"encoding": "base64"}], "transaction"),
        ("sendTransaction", ["A" * 100_000, {"encoding": "base64"}], "transaction"),
        ("sendTransaction", ["1" * 100_000], "transaction"),
        ("isBlockhashValid", ["1" * 100_000], "blockhash"),
        ("sandbox_setFaults", [{"latencyMs": 10**15}], "latencyMs"),
    ],
)
def test_hostile_params_are_invalid_params(fast_chain, method, params, named):
    placeholders = {"UNSIGNED": _unsigned_transaction(), "SIGNED": _signed_transaction()}
    params = [
        placeholders.get(value, value) if isinstance(value, str) else value for value in params
    ]
    answer = _call(fast_chain.rpc_url, method, *params)
    assert answer["error"]["code"] == -32602, answer
    named = named or "minContextSlot"
    assert f"`{named}`" in answer["error"]["message"]
    assert len(answer["error"]["message"]) < 300


def test_unsigned_transaction_without_min_context_slot_names_the_transaction(fast_chain):
    answer = _call(
        fast_chain.rpc_url, "sendTransaction", _unsigned_transaction(), {"encoding": "base64"}
    )
    assert answer["error"]["code"] == -32602 and "no signatures" in answer["error"]["message"]


@pytest.mark.parametrize("request_id", [_nested(300), {"a": 1}, True, [1]])
def test_an_id_that_is_not_a_string_or_number_is_an_invalid_request(fast_chain, request_id):
    answer = _call(fast_chain.rpc_url, "getSlot", request_id=request_id)
    assert answer == {
        "jsonrpc": "2.0",
        "error": {
            "code": -32600,
            "message": "Invalid request: `id` must be a string, number or null",
        },
        "id": None,
    }


def test_nested_params_inside_a_batch(fast_chain):
    batch = [
        {"jsonrpc": "2.0", "id": 1, "method": "getSlot", "params": [_nested(500)]},
        {"jsonrpc": "2.0", "id": 2, "method": "getSlot"},
    ]
    first, second = _post(fast_chain.rpc_url, batch)
    assert first["error"]["code"] == -32602 and "result" in second


def test_long_unknown_method_name_is_not_echoed_whole(fast_chain):
    answer = _call(fast_chain.rpc_url, "x" * 100_000)
    assert answer["error"]["code"] == -32601 and len(answer["error"]["message"]) < 300


@pytest.mark.parametrize(
    "account",
    [
        {"lamports": 5, "data": "AAAA"},  # over the token program: not a loadable program
        {
            "executable": True,
            "data": "AAAA",
            "owner": "BPFLoaderUpgradeab1e11111111111111111111111",
        },
    ],
)
def test_set_account_the_runtime_refuses_is_invalid_params(fast_chain, account):
    target = "TokenkegQfeZyiNwAJbNbGKPFXCWuBvf9Ss623VQ5DA" if "owner" not in account else KEY
    answer = _call(fast_chain.rpc_url, "sandbox_setAccount", target, account)
    assert answer["error"]["code"] == -32602 and "`account`" in answer["error"]["message"]


def test_funding_the_runtime_refuses_names_the_parameter(fast_chain):
    fresh = str(Keypair().pubkey())
    small = _call(fast_chain.rpc_url, "requestAirdrop", fresh, 5)  # under rent exemption
    assert small["error"]["code"] == -32602 and "`lamports`" in small["error"]["message"]
    program = _call(fast_chain.rpc_url, "requestAirdrop", LOADER, 10**9)  # a program account
    assert program["error"]["code"] == -32602 and "`pubkey`" in program["error"]["message"]
    owner = str(Keypair().pubkey())
    answers = [_call(fast_chain.rpc_url, "sandbox_mintTo", owner, 2**63) for _ in range(2)]
    overflow = answers[-1]  # the second passes u64, whatever the supply was
    assert overflow["error"]["code"] == -32602 and "`amount`" in overflow["error"]["message"]
