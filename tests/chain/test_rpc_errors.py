"""The JSON-RPC envelope: errors name what was wrong; HTTP routes; cheat-code switches."""

from __future__ import annotations

import httpx
import pytest

from sandbox.chain.testing import start_chain


def _call(url, method, *params, headers=None):
    body = {"jsonrpc": "2.0", "id": 7, "method": method, "params": list(params)}
    return httpx.post(url, json=body, headers=headers).json()


def test_health_and_http_routes(fast_chain):
    health = httpx.get(f"{fast_chain.rpc_url}/health")
    assert (health.status_code, health.text) == (200, "ok")
    assert httpx.get(f"{fast_chain.rpc_url}/nope").status_code == 404
    assert httpx.put(fast_chain.rpc_url, content=b"{}").status_code == 405


def test_unknown_method(fast_chain):
    answer = _call(fast_chain.rpc_url, "getEverything")
    assert answer["id"] == 7 and answer["error"]["code"] == -32601
    assert "getEverything" in answer["error"]["message"]


@pytest.mark.parametrize(
    ("method", "params", "named"),
    [
        ("getBalance", [], "pubkey"),
        ("getBalance", ["xyz"], "pubkey"),
        ("getAccountInfo", ["11111111111111111111111111111111", {"encoding": "hex"}], "encoding"),
        ("getMultipleAccounts", ["not-a-list"], "pubkeys"),
        ("getMultipleAccounts", [["11111111111111111111111111111111", 5]], "pubkeys[1]"),
        ("sendTransaction", [], "transaction"),
        ("sendTransaction", ["!!!", {"encoding": "base64"}], "transaction"),
        ("simulateTransaction", ["AAAA", {"encoding": "base64"}], "transaction"),
        ("getSignatureStatuses", [["nope"]], "signatures[0]"),
        ("getMinimumBalanceForRentExemption", ["ten"], "dataLength"),
        ("requestAirdrop", ["11111111111111111111111111111112"], "lamports"),
        ("getLatestBlockhash", [{"commitment": "eventually"}], "commitment"),
        ("isBlockhashValid", ["zz"], "blockhash"),
        ("getTokenAccountsByOwner", ["11111111111111111111111111111112", {}], "filter"),
        ("getSignaturesForAddress", ["11111111111111111111111111111112", {"limit": 0}], "limit"),
        ("sandbox_mintTo", ["11111111111111111111111111111112", -1], "amount"),
        ("sandbox_advanceSlots", [0], "n"),
    ],
)
def test_bad_params_name_the_parameter(fast_chain, method, params, named):
    answer = _call(fast_chain.rpc_url, method, *params)
    assert answer["error"]["code"] == -32602, answer
    assert f"`{named}`" in answer["error"]["message"]


def test_envelope_errors(fast_chain):
    not_json = httpx.post(fast_chain.rpc_url, content=b"{nope").json()
    assert not_json["error"]["code"] == -32700 and not_json["id"] is None
    no_version = httpx.post(fast_chain.rpc_url, json={"id": 1, "method": "getSlot"}).json()
    assert no_version["error"]["code"] == -32600
    empty_batch = httpx.post(fast_chain.rpc_url, json=[]).json()
    assert empty_batch["error"]["code"] == -32600
    named = httpx.post(
        fast_chain.rpc_url, json={"jsonrpc": "2.0", "id": 1, "method": "getSlot", "params": {}}
    ).json()
    assert named["error"]["code"] == -32602 and "params" in named["error"]["message"]


def test_advance_slots_cheat(fast_chain):
    before = _call(fast_chain.rpc_url, "getSlot", {"commitment": "processed"})["result"]
    after = _call(fast_chain.rpc_url, "sandbox_advanceSlots", 25)["result"]["slot"]
    assert after == before + 25
    info = _call(fast_chain.rpc_url, "sandbox_getInfo")["result"]
    assert info["network"] == "solana:EtWTRABZaYq6iMfeYKouRu166VU2xqa1" and info["slot"] == after


def test_cheats_off_and_admin_token():
    with start_chain(slot_ms=0, no_cheats=True) as chain:
        answer = _call(chain.rpc_url, "sandbox_mintTo", "11111111111111111111111111111112", 1)
        assert answer["error"]["code"] == -32601
        assert "result" in _call(chain.rpc_url, "getSlot")
    with start_chain(slot_ms=0, admin_token="s3cret") as chain:
        # From loopback the token is optional, but a wrong one is refused.
        assert _call(chain.rpc_url, "sandbox_getInfo")["result"]["slotMs"] == 0
        wrong = _call(chain.rpc_url, "sandbox_getInfo", headers={"Authorization": "Bearer no"})
        assert "wrong admin token" in wrong["error"]["message"]
    with start_chain(slot_ms=0, admin_token="s3cret", require_admin_token=True) as chain:
        refused = _call(chain.rpc_url, "sandbox_getInfo")
        assert refused["error"]["code"] == -32000 and "admin token" in refused["error"]["message"]
        allowed = _call(
            chain.rpc_url, "sandbox_getInfo", headers={"Authorization": "Bearer s3cret"}
        )
        assert allowed["result"]["slotMs"] == 0
        assert "result" in _call(chain.rpc_url, "getSlot")  # ordinary methods need nothing
