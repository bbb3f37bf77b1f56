"""Every served method's answer has the real validator's shape (recorded fixtures).

Shape = the fixture's field names, nested, with the same JSON types (numbers as numbers). Null on
one side and a value on the other passes only at a path the fixture lists under `nullable` (the
docs say that field may be null); anywhere else it is a difference. Every method the chain serves
(HTTP and PubSub, and each notification it sends) has a fixture; cheat codes (`sandbox_*`) have no
validator counterpart.
"""

from __future__ import annotations

import asyncio
import base64
import json
import re
from pathlib import Path

import httpx
import pytest
import websockets
from solders.hash import Hash
from solders.keypair import Keypair

from sandbox.protocol.programs import TOKEN_PROGRAM_ID, associated_token_address

from .conftest import USDC
from .x402_tx import transfer_checked

FIXTURES = json.loads((Path(__file__).parent / "fixtures" / "real_validator.json").read_text())


def _kind(value) -> str:
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int | float):
        return "number"
    return type(value).__name__


def assert_same_shape(ours, theirs, nullable=frozenset(), path: str = "$") -> None:
    """`nullable`: paths (array indices written `[*]`) where the docs allow null."""
    if ours is None and theirs is None:
        return
    if ours is None or theirs is None:
        where = re.sub(r"\[\d+\]", "[*]", path)
        assert where in nullable, (
            f"{path}: ours is {_kind(ours)}, theirs {_kind(theirs)}, and the fixture does not "
            f"document null at {where}"
        )
        return
    assert _kind(ours) == _kind(theirs), f"{path}: ours is {_kind(ours)}, theirs {_kind(theirs)}"
    if isinstance(theirs, dict):
        missing = sorted(set(theirs) - set(ours))
        assert not missing, f"{path}: missing fields {missing}"
        for key, value in theirs.items():
            assert_same_shape(ours[key], value, nullable, f"{path}.{key}")
    elif isinstance(theirs, list) and theirs and ours:
        for index in range(min(len(ours), len(theirs))):
            assert_same_shape(ours[index], theirs[index], nullable, f"{path}[{index}]")


def test_shape_checker_catches_differences():
    with pytest.raises(AssertionError, match="missing fields"):
        assert_same_shape({"a": 1}, {"a": 1, "b": 2})
    with pytest.raises(AssertionError, match="ours is str"):
        assert_same_shape({"a": "1"}, {"a": 1})
    # Null against a value is a difference unless the fixture documents null there.
    with pytest.raises(AssertionError, match=r"does not document null at \$.a"):
        assert_same_shape({"a": None}, {"a": 1})
    with pytest.raises(AssertionError, match=r"does not document null at \$.a\[\*\].b"):
        assert_same_shape({"a": [{"b": 1}]}, {"a": [{"b": None}]})
    assert_same_shape({"a": [{"b": 1}, None]}, {"a": [{"b": None}]}, {"$.a[*].b", "$.a[*]"})


def _served_methods() -> set[str]:
    from sandbox.chain.dispatcher import Dispatcher
    from sandbox.chain.node import ChainNode
    from sandbox.chain.pubsub import NOTIFICATIONS, SUBSCRIPTION_METHODS
    from sandbox.chain.settings import ChainSettings

    dispatcher = Dispatcher(ChainNode(ChainSettings(slot_ms=0, cheats=False)))
    return {*dispatcher.methods, *SUBSCRIPTION_METHODS, *NOTIFICATIONS}


def test_every_served_method_has_a_fixture():
    served = _served_methods()
    assert "getAccountInfo" in served and "slotSubscribe" in served and "slotNotification" in served
    covered = {key.split(":")[0] for key in FIXTURES if not key.startswith("_")}
    assert sorted(served - covered) == [], "served without a real-validator fixture"
    assert sorted(covered - served) == [], "fixtures for methods the chain does not serve"


def test_nullable_paths_exist_in_their_fixture():
    """A `nullable` entry must name a path the fixture has (no stale or mistyped paths)."""

    def paths(value, path="$"):
        yield path
        if isinstance(value, dict):
            for key, item in value.items():
                yield from paths(item, f"{path}.{key}")
        elif isinstance(value, list):
            for item in value:
                yield from paths(item, f"{path}[*]")

    for key, fixture in FIXTURES.items():
        if key.startswith("_"):
            continue
        known = set(paths(fixture["response"]))
        for path, why in fixture.get("nullable", {}).items():
            assert path in known, f"{key}: nullable {path} is not in the fixture"
            assert why, f"{key}: say where the docs allow null at {path}"


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
        "getIdentity": [],
        "getTransactionCount": [],
        "getEpochSchedule": [],
        "getFirstAvailableBlock": [],
        "minimumLedgerSlot": [],
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
        "getTokenSupply": [str(USDC)],
        "getAccountInfo:jsonParsed:tokenAccount": [merchant_ata, {"encoding": "jsonParsed"}],
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
        slot = results["getTransaction"]["result"]["slot"]  # the payment's block
        owner_filter = {"memcmp": {"offset": 32, "bytes": str(merchant.pubkey())}}
        blocks = {
            "getBlock": [slot, {"encoding": "json", "maxSupportedTransactionVersion": 0}],
            "getBlocks": [max(slot - 5, 0), slot],
            "getBlocksWithLimit": [slot, 3],
            "getBlockTime": [slot],
            "getProgramAccounts": [
                str(TOKEN_PROGRAM_ID),
                {"encoding": "base64", "filters": [{"dataSize": 165}, owner_filter]},
            ],
            "getRecentPerformanceSamples": [3],
        }
        for method, params in blocks.items():
            body = {"jsonrpc": "2.0", "id": 1, "method": method, "params": params}
            results[method] = http.post(rpc_url, json=body).json()
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
        out["accountSubscribe"] = await call(
            "accountSubscribe", [ata, {"encoding": "base64", "commitment": "processed"}]
        )
        parsed_sub = await call(
            "accountSubscribe", [ata, {"encoding": "jsonParsed", "commitment": "processed"}]
        )
        chain.rpc("sendTransaction", base64.b64encode(bytes(tx)).decode(), {"encoding": "base64"})
        for _ in range(3):
            note = json.loads(await asyncio.wait_for(ws.recv(), 10))
            key = note["method"]
            if note["params"]["subscription"] == parsed_sub["result"]:
                key += ":jsonParsed"
            out[key] = note
        out["accountUnsubscribe"] = await call(
            "accountUnsubscribe", [out["accountSubscribe"]["result"]]
        )
        await call("accountUnsubscribe", [parsed_sub["result"]])
        # A second signature subscription, left waiting, to answer its unsubscribe.
        never_sent = str(Keypair().sign_message(b"never sent"))
        waiting = await call("signatureSubscribe", [never_sent, {}])
        out["signatureUnsubscribe"] = await call("signatureUnsubscribe", [waiting["result"]])
        out["slotSubscribe"] = await call("slotSubscribe", [])
        chain.rpc("sandbox_advanceSlots", 1)
        note = json.loads(await asyncio.wait_for(ws.recv(), 10))
        out[note["method"]] = note
        out["slotUnsubscribe"] = await call("slotUnsubscribe", [out["slotSubscribe"]["result"]])
    return out


@pytest.mark.parametrize("key", [k for k in FIXTURES if not k.startswith("_")])
def test_response_shape_matches_real_validator(answers, key):
    fixture = FIXTURES[key]
    assert fixture["source"]
    ours = answers[key]
    assert "error" in ours if "error" in fixture["response"] else "error" not in ours, ours
    assert_same_shape(ours, fixture["response"], frozenset(fixture.get("nullable", {})))
