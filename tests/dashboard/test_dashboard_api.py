"""The dashboard's own server, over real HTTP on a real stack: what the page reads, what it
forwards, and the admin rule in front of it all (no token of its own: loopback, own Origin,
loopback Host, JSON bodies)."""

from __future__ import annotations

import json

import httpx
import pytest
from solders.rpc.responses import GetTransactionResp

from sandbox.payer.keys import load_keypair
from sandbox.payer.sync_client import X402ClientSync


@pytest.fixture(scope="module")
def paid(dashboard_stack, payer_keypair_path):
    client = X402ClientSync(load_keypair(payer_keypair_path), rpc_url=dashboard_stack.rpc_url)
    try:
        answer = client.get(f"{dashboard_stack.server_url}/api/weather")
    finally:
        client.close()
    assert answer.status == 200
    return answer


def get(info, path: str, **kwargs) -> httpx.Response:
    return httpx.get(f"{info.dashboard_url}{path}", timeout=10, **kwargs)


def post(info, path: str, **kwargs) -> httpx.Response:
    return httpx.post(f"{info.dashboard_url}{path}", timeout=10, **kwargs)


def test_overview_lists_components_and_wallets_in_dollars(dashboard_stack, paid) -> None:
    view = get(dashboard_stack, "/api/overview").json()
    assert {c["name"]: c["healthy"] for c in view["components"]} == {
        "chain": True, "facilitator": True, "server": True,
    }  # fmt: skip
    wallets = {w["name"]: w for w in view["wallets"]}
    assert set(wallets) == {"merchant", "fee-payer-0", "payer-0", "payer-1"}
    # The merchant holds what the chain says, as dollars: at least the $0.001 just paid.
    merchant = httpx.post(
        dashboard_stack.rpc_url,
        json={"jsonrpc": "2.0", "id": 1, "method": "getTokenAccountBalance",
              "params": [wallets["merchant"]["tokenAccount"], {"commitment": "confirmed"}]},
        timeout=10,
    ).json()["result"]["value"]  # fmt: skip
    assert wallets["merchant"]["usdc"] == float(merchant["uiAmountString"]) >= 0.001
    assert wallets["fee-payer-0"]["usdc"] is None  # no token account
    assert 0 < wallets["fee-payer-0"]["sol"] <= 100


def test_transaction_view_decodes_every_instruction(dashboard_stack, paid) -> None:
    signature = paid.receipt.transaction
    view = get(dashboard_stack, f"/api/tx/{signature}").json()
    kinds = [ix["kind"] for ix in view["instructions"]]
    assert kinds == ["SetComputeUnitLimit", "SetComputeUnitPrice", "TransferChecked", "Memo"]
    transfer = view["instructions"][2]
    assert transfer["amount"] == "1000" and transfer["uiAmount"] == "0.001"
    assert transfer["authority"] == dashboard_stack.wallet("payer-0").address
    assert view["names"][transfer["destination"]] == "merchant USDC"
    assert view["feePayer"] == dashboard_stack.wallet("fee-payer-0").address
    assert view["instructions"][3]["memo"] == paid.requirements.extra["memo"]
    # The same transaction as the chain gives it, parsed by solders' own response type.
    raw = httpx.post(
        dashboard_stack.rpc_url,
        json={"jsonrpc": "2.0", "id": 1, "method": "getTransaction",
              "params": [signature, {"encoding": "base64", "commitment": "confirmed",
                                     "maxSupportedTransactionVersion": 0}]},
        timeout=10,
    ).text  # fmt: skip
    assert GetTransactionResp.from_json(raw).value.slot == view["slot"]


def test_account_view_links_the_payers_transactions(dashboard_stack, paid) -> None:
    payer = dashboard_stack.wallet("payer-0").address
    view = get(dashboard_stack, f"/api/account/{payer}").json()
    assert paid.receipt.transaction in [t["signature"] for t in view["transactions"]]
    merchant = dashboard_stack.wallet("merchant").address
    merchant_view = get(dashboard_stack, f"/api/account/{merchant}").json()
    # The merchant's own key is not in a payment; its USDC account is, and counts.
    assert paid.receipt.transaction in [t["signature"] for t in merchant_view["transactions"]]


@pytest.mark.parametrize(
    ("path", "status", "words"),
    [
        ("/api/tx/not-a-signature", 400, "not a base58 transaction signature"),
        ("/api/tx/" + "1" * 64, 404, "no confirmed transaction"),
        ("/api/account/0OIl", 400, "not a base58 account address"),
        ("/static/../app.py", 404, ""),
        ("/static/index.py", 404, "no static file"),
    ],
)
def test_bad_input_gets_a_clear_4xx(dashboard_stack, path, status, words) -> None:
    answer = get(dashboard_stack, path)
    assert answer.status_code == status
    assert words in answer.text


def test_chain_faults_are_forwarded_with_the_token_and_errors_explained(dashboard_stack) -> None:
    try:
        answer = post(dashboard_stack, "/api/faults/chain", json={"dropRate": 0.25})
        assert answer.status_code == 200 and answer.json()["dropRate"] == 0.25
        assert get(dashboard_stack, "/api/faults").json()["chain"]["dropRate"] == 0.25
        wrong = post(dashboard_stack, "/api/faults/chain", json={"dropRate": 3})
        assert wrong.status_code == 400 and "between 0 and 1" in wrong.json()["error"]
        unknown = post(dashboard_stack, "/api/faults/facilitator", json={"faults": [{"x": 1}]})
        assert unknown.status_code == 400 and "unknown" in unknown.json()["error"]
        not_json = post(dashboard_stack, "/api/faults/chain", content=b"{", headers={
            "Content-Type": "application/json"})  # fmt: skip
        assert not_json.status_code == 400 and not_json.json()["error"] == "body is not JSON"
    finally:
        post(dashboard_stack, "/api/faults/chain", json={"dropRate": 0})


@pytest.mark.parametrize(
    ("headers", "status", "words"),
    [
        ({"Content-Type": "text/plain"}, 415, "application/json"),
        ({"Content-Type": "application/json", "Origin": "http://evil.example"}, 403, "Origin"),
        ({"Content-Type": "application/json", "Host": "rebind.example"}, 403, "DNS-rebinding"),
    ],
)
def test_a_hostile_page_cannot_set_faults(dashboard_stack, headers, status, words) -> None:
    answer = post(dashboard_stack, "/api/faults/chain", content=b'{"dropRate": 1}', headers=headers)
    assert answer.status_code == status and words in answer.json()["error"]
    assert get(dashboard_stack, "/api/faults").json()["chain"]["dropRate"] == 0


def test_a_rebinding_page_cannot_read_the_activity(dashboard_stack) -> None:
    answer = get(dashboard_stack, "/api/activity", headers={"Host": "rebind.example:80"})
    assert answer.status_code == 403


def test_the_event_stream_replays_the_stack_feeds_merged(dashboard_stack, paid) -> None:
    memo = paid.requirements.extra["memo"]
    seen: dict[str, set[str]] = {}
    with httpx.stream("GET", f"{dashboard_stack.dashboard_url}/api/events", timeout=10) as stream:
        for line in stream.iter_lines():
            if line.startswith("data: ") and memo in line:
                event = json.loads(line[6:])
                seen.setdefault(event["source"], set()).add(event["kind"])
                if "settle" in seen.get("facilitator", ()) and "settle" in seen.get("server", ()):
                    break
    assert {"payment_required", "payment_received", "verify", "handler", "settle"} <= seen["server"]
    assert {"verify", "settle"} <= seen["facilitator"]
