"""Cheat codes are judged by the admin guard: JSON only, no foreign Origin, the token when asked.

A web page can POST text/plain to any local port without a preflight; a page that got past CORS
still sends its Origin. Ordinary RPC stays open to both (wallet pages read balances).
"""

from __future__ import annotations

import httpx
import pytest

from sandbox.chain import cheats
from sandbox.chain.testing import start_chain

KEY = "11111111111111111111111111111112"
MINT = {"jsonrpc": "2.0", "id": 1, "method": "sandbox_mintTo", "params": [KEY, 5]}
SLOT = {"jsonrpc": "2.0", "id": 2, "method": "getSlot"}


def _post(url, body, **headers):
    import orjson

    response = httpx.post(url, content=orjson.dumps(body), headers=headers)
    assert response.status_code == 200, response.text
    return response.json()


def test_a_cross_site_text_plain_post_is_refused(fast_chain):
    answer = _post(fast_chain.rpc_url, MINT, **{"content-type": "text/plain"})
    assert answer["error"]["code"] == -32000
    assert "application/json" in answer["error"]["message"]
    # no content type at all: what a bare fetch() body sends; refused too
    assert _post(fast_chain.rpc_url, MINT)["error"]["code"] == -32000
    form = _post(fast_chain.rpc_url, MINT, **{"content-type": "application/x-www-form-urlencoded"})
    assert form["error"]["code"] == -32000


def test_a_json_post_from_a_foreign_origin_is_refused(fast_chain):
    answer = _post(
        fast_chain.rpc_url,
        MINT,
        **{"content-type": "application/json", "origin": "http://evil.example"},
    )
    assert answer["error"]["code"] == -32000 and "evil.example" in answer["error"]["message"]


def test_a_batch_carrying_a_cheat_is_judged_per_request(fast_chain):
    slot, mint = _post(fast_chain.rpc_url, [SLOT, MINT], **{"content-type": "text/plain"})
    assert "result" in slot and mint["error"]["code"] == -32000


def test_a_json_post_from_loopback_without_origin_is_accepted(fast_chain):
    answer = _post(fast_chain.rpc_url, MINT, **{"content-type": "application/json"})
    assert answer["result"]["amount"] == "5"
    own = f"http://127.0.0.1:{fast_chain.port}"
    answer = _post(fast_chain.rpc_url, MINT, **{"content-type": "application/json", "origin": own})
    assert answer["result"]["amount"] == "10"


def test_a_rebinding_host_is_refused(fast_chain):
    answer = _post(
        fast_chain.rpc_url,
        MINT,
        **{"content-type": "application/json", "host": f"evil.example:{fast_chain.port}"},
    )
    assert answer["error"]["code"] == -32000 and "Host" in answer["error"]["message"]


@pytest.mark.parametrize("content_type", [None, "text/plain", "application/json"])
def test_ordinary_rpc_is_open_to_any_page(fast_chain, content_type):
    headers = {"origin": "http://evil.example"}
    if content_type:
        headers["content-type"] = content_type
    assert isinstance(_post(fast_chain.rpc_url, SLOT, **headers)["result"], int)


def test_require_admin_token_and_allow_origin():
    with start_chain(
        slot_ms=0,
        admin_token="s3cret",
        require_admin_token=True,
        allow_origin="http://localhost:4020",
    ) as chain:
        json = {"content-type": "application/json"}
        refused = _post(chain.rpc_url, MINT, **json)
        assert refused["error"]["code"] == -32000 and "admin token" in refused["error"]["message"]
        bearer = _post(chain.rpc_url, MINT, **json, authorization="Bearer s3cret")
        assert bearer["result"]["amount"] == "5"
        header = _post(chain.rpc_url, MINT, **json, **{"x-admin-token": "s3cret"})
        assert header["result"]["amount"] == "10"
        page = _post(
            chain.rpc_url,
            MINT,
            **json,
            origin="http://localhost:4020",
            authorization="Bearer s3cret",
        )
        assert page["result"]["amount"] == "15"
        # the token does not excuse a text/plain body
        plain = _post(
            chain.rpc_url, MINT, **{"content-type": "text/plain"}, authorization="Bearer s3cret"
        )
        assert plain["error"]["code"] == -32000


def test_the_environment_requires_the_token(monkeypatch):
    monkeypatch.setenv("X402_SANDBOX_CHAIN_REQUIRE_ADMIN_TOKEN", "1")
    with start_chain(slot_ms=0, admin_token="s3cret") as chain:
        refused = _post(chain.rpc_url, MINT, **{"content-type": "application/json"})
        assert "admin token" in refused["error"]["message"]


@pytest.mark.parametrize("method", sorted(cheats.METHODS))
def test_every_cheat_code_refuses_a_cross_site_post(fast_chain, method):
    # The body is what a hostile page sends with fetch(url, {method: "POST", body, mode:
    # "no-cors"}): text/plain, its own Origin, no preflight. Each cheat refuses before it runs.
    body = {"jsonrpc": "2.0", "id": 1, "method": method, "params": []}
    for headers in (
        {"content-type": "text/plain;charset=UTF-8", "origin": "http://evil.example"},
        {"content-type": "text/plain;charset=UTF-8"},
    ):
        answer = _post(fast_chain.rpc_url, body, **headers)
        assert answer["error"]["code"] == -32000, (method, answer)
        assert "refused" in answer["error"]["message"]
