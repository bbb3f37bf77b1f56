"""The facilitator's /_sandbox/* endpoints refuse what a hostile web page can send."""

from __future__ import annotations

import pytest
from facilitator_stack import start_facilitator

FAULT = {"faults": [{"endpoint": "verify", "kind": "fake_success"}]}


@pytest.fixture(scope="module")
def guarded(chain0, fee_payer_party):
    with start_facilitator(chain0, [fee_payer_party.p.fee_payer], "--admin-token", "tok") as fac:
        yield fac


@pytest.fixture(scope="module")
def tokenless(chain0, fee_payer_party):
    """A facilitator run alone, as `x402-sandbox facilitator` without --admin-token."""
    with start_facilitator(chain0, [fee_payer_party.p.fee_payer]) as fac:
        yield fac


@pytest.fixture(params=["tokenless", "guarded"])
def either(request):
    return request.getfixturevalue(request.param)


def faults_now(fac) -> list:
    return fac.get("/_sandbox/faults").json()["faults"]


def test_cross_site_text_plain_post_is_refused(either):
    guarded = either
    # What <form enctype="text/plain"> or fetch(..., {mode: "no-cors"}) sends: no preflight.
    answer = guarded.post(
        "/_sandbox/faults",
        b'{"faults": [{"endpoint": "verify", "kind": "fake_success"}]}',
        headers={"content-type": "text/plain", "origin": "http://evil.example"},
    )
    assert answer.status_code in (403, 415)
    assert faults_now(guarded) == []
    no_origin = guarded.post(
        "/_sandbox/faults",
        b'{"faults": [{"endpoint": "verify", "kind": "fake_success"}]}',
        headers={"content-type": "text/plain"},
    )
    assert no_origin.status_code == 415
    assert "application/json" in no_origin.json()["error"]
    assert faults_now(guarded) == []


def test_foreign_origin_is_refused_even_as_json(either):
    guarded = either
    answer = guarded.post("/_sandbox/faults", FAULT, headers={"origin": "http://evil.example"})
    assert answer.status_code == 403
    assert "evil.example" in answer.json()["error"]
    read = guarded.get("/_sandbox/settlements", headers={"origin": "null"})
    assert read.status_code == 403
    assert faults_now(guarded) == []


def test_dns_rebinding_host_is_refused_without_the_token(guarded):
    answer = guarded.get("/_sandbox/settlements", headers={"host": "evil.example:4022"})
    assert answer.status_code == 403
    tokened = guarded.get(
        "/_sandbox/settlements",
        headers={"host": "evil.example:4022", "authorization": "Bearer tok"},
    )
    assert tokened.status_code == 200


def test_own_origin_and_loopback_json_are_accepted(guarded):
    own = guarded.url  # http://127.0.0.1:PORT
    try:
        assert guarded.post("/_sandbox/faults", FAULT, headers={"origin": own}).status_code == 200
        assert faults_now(guarded)[0]["kind"] == "fake_success"
    finally:
        guarded.set_faults()
    assert faults_now(guarded) == []


def test_a_wrong_token_is_refused_even_from_loopback(guarded):
    answer = guarded.post("/_sandbox/faults", FAULT, headers={"authorization": "Bearer nope"})
    assert answer.status_code == 401
    assert faults_now(guarded) == []
