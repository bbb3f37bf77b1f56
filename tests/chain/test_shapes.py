"""Every served method's answer has the real validator's shape (recorded fixtures).

Shape = the fixture's field names, nested, with the same JSON types (numbers as numbers, nulls
allowed where the validator may answer null). Extra fields of ours are allowed only where the
validator also sends them in newer versions (checked by listing them explicitly).
"""

from __future__ import annotations

import asyncio
import base64
import json
from pathlib import Path

import httpx
import pytest
import websockets
from solders.hash import Hash
from solders.keypair import Keypair

from sandbox.protocol.programs import associated_token_address

from .conftest import USDC
from .x402_tx import transfer_checked

FIXTURES = json.loads((Path(__file__).parent / "fixtures" / "real_validator.json").read_text())


def _kind(value) -> str:
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int | float):
        return "number"
    return type(value).__name__


def assert_same_shape(ours, theirs, path: str = "$") -> None:
    if theirs is None or ours is None:
        return  # nullable in one of the two answers: the type cannot be compared
    assert _kind(ours) == _kind(theirs), f"{path}: ours is {_kind(ours)}, theirs {_kind(theirs)}"
    if isinstance(theirs, dict):
        missing = sorted(set(theirs) - set(ours))
        assert not missing, f"{path}: missing fields {missing}"
        for key, value in theirs.items():
            assert_same_shape(ours[key], value, f"{path}.{key}")
    elif isinstance(theirs, list) and theirs and ours:
        for index in range(min(len(ours), len(theirs))):
            assert_same_shape(ours[index], theirs[index], f"{path}[{index}]")


def test_shape_checker_catches_differences():
    with pytest.raises(AssertionError, match="missing fields"):
        assert_same_shape({"a": 1}, {"a": 1, "b": 2})
    with pytest.raises(AssertionError, match="ours is str"):
        assert_same_shape({"a": "1"}, {"a": 1})


@pytest.fixture(scope="module")
def answers(fast_chain):
    """One real answer of ours per fixture key, after a real x402 payment."""
    rpc_url = fast_chain.rpc_url
    fee_payer, owner, merchant = Keypair(), Keypair(), Keypair()
    fast_chain.rpc("requestAirdrop", str(fee_payer.pubkey()), 10**9)
    fast_chain.rpc("sandbox_mintTo", str(owner.pubkey()), 1_000_000)
    fast_chain.rpc("sandbox_mintTo", str(merchant.pubkey()), 0)
    blockhash = fast_chain.rpc("getLatestBlockhash")["value"]["blockhash"]
    tx = transfer_checked(
        owner, fee_payer, USDC, merchant.pubkey(), 1000, Hash.from_string(blockhash)
    )
    wire = base64.b64encode(bytes(tx)).decode()
    sig = str(tx.signatures[0])
    merchant_ata = str(associated_token_address(merchant.pubkey(), USDC))
    stale = transfer_checked(owner, fee_payer, USDC, merchant.pubkey(), 1, Hash.new_unique())
    calls = {
        "getHealth": [],
        "getVersion": [],
        "getGenesisHash": [],
        "getSlot": [],
        "getBlockHeight": [],
        "getEpochInfo": [],
        "getLatestBlockhash": [],
        "isBlockhashValid": [blockhash],
        "getFeeForMessage": [base64.b64encode(bytes(tx.message)).decode()],
        "getMinimumBalanceForRentExemption": [165],
        "getRecentPrioritizationFees": [],
        "getBalance": [str(fee_payer.pubkey())],
        "getAccountInfo": [str(fee_payer.pubkey()), {"encoding": "base64"}],
        "getAccountInfo:jsonParsed:mint": [str(USDC), {"encoding": "jsonParsed"}],
        "getMultipleAccounts": [
            [str(fee_payer.pubkey()), str(Keypair().pubkey())],
            {"encoding": "base64"},
        ],
        "simulateTransaction": [wire, {"encoding": "base64", "replaceRecentBlockhash": True}],
        "sendTransaction": [wire, {"encoding": "base64"}],
        "sendTransaction:preflightFailure": [
            base64.b64encode(bytes(stale)).decode(),
            {"encoding": "base64"},
        ],
        "getTokenAccountBalance": [merchant_ata],
        "getTokenAccountsByOwner": [
            str(merchant.pubkey()),
            {"mint": str(USDC)},
            {"encoding": "jsonParsed"},
        ],
        "requestAirdrop": [str(Keypair().pubkey()), 10**9],
        "getSignatureStatuses": [[sig, str(stale.signatures[0])]],
        "getSignaturesForAddress": [merchant_ata, {"limit": 1}],
        "getTransaction": [sig, {"encoding": "json", "maxSupportedTransactionVersion": 0}],
    }
    results = {}
    with httpx.Client(timeout=30) as http:
        for key, params in calls.items():  # in order: send before the status reads
            method = key.split(":")[0]
            body = {"jsonrpc": "2.0", "id": 1, "method": method, "params": params}
            results[key] = http.post(rpc_url, json=body).json()
    results.update(asyncio.run(_pubsub_answers(fast_chain, fee_payer, owner, merchant)))
    return results


async def _pubsub_answers(chain, fee_payer, owner, merchant):
    blockhash = chain.rpc("getLatestBlockhash")["value"]["blockhash"]
    tx = transfer_checked(owner, fee_payer, USDC, merchant.pubkey(), 5, Hash.from_string(blockhash))
    ata = str(associated_token_address(merchant.pubkey(), USDC))
    out = {}
    async with websockets.connect(chain.ws_url) as ws:

        async def call(method, params):
            await ws.send(
                json.dumps({"jsonrpc": "2.0", "id": 1, "method": method, "params": params})
            )
            return json.loads(await ws.recv())

        out["signatureSubscribe"] = await call(
            "signatureSubscribe", [str(tx.signatures[0]), {"commitment": "confirmed"}]
        )
        account_sub = await call(
            "accountSubscribe", [ata, {"encoding": "base64", "commitment": "processed"}]
        )
        chain.rpc("sendTransaction", base64.b64encode(bytes(tx)).decode(), {"encoding": "base64"})
        for _ in range(2):
            note = json.loads(await asyncio.wait_for(ws.recv(), 10))
            out[note["method"]] = note
        out["unsubscribe"] = await call("accountUnsubscribe", [account_sub["result"]])
        await call("slotSubscribe", [])
        chain.rpc("sandbox_advanceSlots", 1)
        note = json.loads(await asyncio.wait_for(ws.recv(), 10))
        out[note["method"]] = note
    return out


@pytest.mark.parametrize("key", [k for k in FIXTURES if not k.startswith("_")])
def test_response_shape_matches_real_validator(answers, key):
    fixture = FIXTURES[key]
    assert fixture["source"]
    ours = answers[key]
    assert "error" in ours if "error" in fixture["response"] else "error" not in ours, ours
    assert_same_shape(ours, fixture["response"])
