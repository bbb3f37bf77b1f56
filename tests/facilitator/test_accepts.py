"""POST /accepts (accepts.py): the requirements a resource server sends, completed with the fee
payer, as faremeter's middleware asks before each 402 (examples/faremeter-server.js is paid
through it by @faremeter/fetch in make test-js); bad bodies get a 400 naming the problem."""

from __future__ import annotations

import pytest

from sandbox.protocol import SOLANA_DEVNET, SOLANA_MAINNET, USDC_DEVNET_MINT

PAY_TO = "7Av4HisJnndF6KVnkkCwKKpxURhMjsXh7vsHHw3N5KWo"


def requirement(network: str = SOLANA_DEVNET, scheme: str = "exact", **extra) -> dict:
    return {
        "scheme": scheme, "network": network, "amount": "10000", "asset": USDC_DEVNET_MINT,
        "payTo": PAY_TO, "maxTimeoutSeconds": 60, "extra": extra,
    }  # fmt: skip


def test_the_facilitators_offers_get_its_fee_payer_and_the_rest_are_left_out(fac, fee_payer_party):
    resource = {"url": "http://127.0.0.1:3004/api/premium"}
    body = {
        "x402Version": 2,
        "resource": resource,
        "accepts": [
            requirement(memo="kept"),
            requirement("solana-devnet"),  # the v1 name of the same cluster
            requirement(SOLANA_MAINNET),  # another network: not ours to settle
            requirement(scheme="upto"),  # another scheme
        ],
    }
    answer = fac.post("/accepts", body)
    assert answer.status_code == 200, answer.text
    data = answer.json()
    assert data["x402Version"] == 2 and data["resource"] == resource
    fee_payer = str(fee_payer_party.p.fee_payer.pubkey())
    assert [offer["extra"] for offer in data["accepts"]] == [
        {"memo": "kept", "feePayer": fee_payer},
        {"feePayer": fee_payer},
    ]
    assert (
        data["accepts"][0]["payTo"] == PAY_TO and data["accepts"][1]["network"] == "solana-devnet"
    )


@pytest.mark.parametrize(
    ("raw", "needle"),
    [
        (b"not json", "not JSON"),
        (b"[1]", "JSON object"),
        (b"{}", "`accepts` must be a non-empty list"),
        (b'{"accepts": [5]}', "`accepts[0]` must be an object"),
        (b'{"accepts": [{"scheme": "exact"}]}', "`accepts[0]` needs `scheme` and `network`"),
        (b'{"accepts": [{"scheme": "exact", "network": "solana-devnet", "extra": 3}]}',
         "`accepts[0].extra` must be an object"),
        (b'{"accepts": [' + b",".join([b"{}"] * 33) + b"]}", "at most 32"),
        (b'{"accepts": [{"scheme": "exact", "network": "solana-devnet", "x": ' + b"[" * 300
         + b"]" * 300 + b"}]}", "deeper than 254"),
        (b'{"resource": {"a": ' + b"[" * 300 + b"]" * 300 + b'}, "accepts": [{"scheme": '
         b'"exact", "network": "solana-devnet"}]}', "deeper than 254"),
    ],
)  # fmt: skip
def test_a_bad_body_is_a_400_naming_the_problem(fac, raw, needle):
    answer = fac.post("/accepts", raw, headers={"content-type": "application/json"})
    assert answer.status_code == 400, answer.text
    assert needle in answer.json()["error"]
