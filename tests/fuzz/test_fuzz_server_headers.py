"""The paid server's payment headers, fuzzed: v1 `X-PAYMENT` and v2 `PAYMENT-SIGNATURE`, over
real HTTP to the real server process, with the real facilitator and chain behind it
(fuzz_stack.py; a few requests in flight, fuzz_http.py). Valid payments built by sandbox.payer
for the server's own 402s are mutated (fields replaced, deleted, added, unknown fields nested
250-1,100 deep, transaction bytes changed), and random JSON of every shape, broken base64 and
raw bytes are sent as well (fuzz_json.py).

Whatever arrives, the answer is a 4xx naming its error (or a 200 with its receipt when the
mutation kept a valid payment), never a 5xx or a broken connection: 11,000 inputs in all,
counted in the "fuzz inputs" summary.
"""

from __future__ import annotations

import httpx
import pytest
from fuzz_http import Sender, fuzz
from fuzz_json import MAX_HEADER_TEXT, RANDOMS, Hostile, b64, dumps
from fuzz_stack import ROUTES
from fuzz_tally import tally
from hypothesis import given
from hypothesis import strategies as st

from sandbox.protocol import PAYMENT_SIGNATURE, X_PAYMENT

VERSIONS = st.sampled_from([1, 2])
HEADERS = st.sampled_from([PAYMENT_SIGNATURE, X_PAYMENT])
ROUTE = st.sampled_from(ROUTES)


@pytest.fixture(scope="module")
def server(fuzz_target):
    sender = Sender(fuzz_target.server_url, tally("server payment headers"))
    yield sender
    sender.close()


def send(server: Sender, route: str, headers: list[tuple[str, bytes]]) -> None:
    headers = within_header_limit(headers)
    server.send("GET", route, f"{route} {headers}", answer_shape, headers=headers)


def answer_shape(answer: httpx.Response) -> str | None:
    """None for an answer a client can act on: content with its receipt, a 402 with its
    challenge, or a JSON refusal naming its error."""
    if answer.status_code == 200:
        receipts = ("PAYMENT-RESPONSE", "X-PAYMENT-RESPONSE")
        return None if any(h in answer.headers for h in receipts) else "content without a receipt"
    if answer.status_code == 402 and "PAYMENT-REQUIRED" not in answer.headers:
        return "a 402 without its PAYMENT-REQUIRED challenge"
    try:
        error = answer.json().get("error")
    except (ValueError, AttributeError):
        return "a refusal that is not a JSON object"
    return None if isinstance(error, str) and error else "a refusal without an error"


def within_header_limit(headers: list[tuple[str, bytes]]) -> list[tuple[str, bytes]]:
    """All values under the servers' 64 KB header limit together (past it is a 431 and a
    closed connection, which the header-limit tests cover)."""
    room, kept = MAX_HEADER_TEXT, []
    for name, value in headers:
        value = value[: max(room, 1)]
        room -= len(value)
        kept.append((name, value))
    return kept


def own_header(version: int) -> str:
    return PAYMENT_SIGNATURE if version == 2 else X_PAYMENT


def test_mutated_payments(fuzz_target, server):
    @fuzz(server, 4_000)
    @given(route=ROUTE, version=VERSIONS, header=HEADERS, rng=RANDOMS)
    def one(route, version, header, rng):
        hostile = Hostile(rng)
        payment = fuzz_target.payment(route, version)
        header = own_header(version) if rng.random() < 0.9 else header
        send(server, route, [(header, b64(dumps(hostile.mutated(payment.wire))))])

    one()


def test_unknown_fields_nested_deep(fuzz_target, server):
    """An unknown field holding a value nested 250-1,100 deep, anywhere in a valid payment."""

    @fuzz(server, 1_500)
    @given(route=ROUTE, version=VERSIONS, rng=RANDOMS)
    def one(route, version, rng):
        payment = fuzz_target.payment(route, version)
        value = b64(dumps(Hostile(rng).with_deep_field(payment.wire)))
        send(server, route, [(own_header(version), value)])

    one()


def test_random_json_of_every_shape(server):
    @fuzz(server, 2_500)
    @given(route=ROUTE, header=HEADERS, rng=RANDOMS)
    def one(route, header, rng):
        hostile = Hostile(rng)
        payload = hostile.shaped() if rng.random() < 0.6 else hostile.value(20)
        send(server, route, [(header, b64(dumps(payload)))])

    one()


def test_broken_base64_and_bytes(fuzz_target, server):
    @fuzz(server, 2_000)
    @given(version=VERSIONS, header=HEADERS, rng=RANDOMS)
    def one(version, header, rng):
        hostile = Hostile(rng)
        wire = fuzz_target.payment(ROUTES[0], version).wire
        source = rng.choice([wire, hostile.mutated(wire), hostile.shaped()])
        send(server, ROUTES[0], [(header, hostile.broken_base64(dumps(source)))])

    one()


def test_mutated_transactions_and_both_headers(fuzz_target, server):
    @fuzz(server, 1_000)
    @given(version=VERSIONS, both=st.booleans(), rng=RANDOMS)
    def one(version, both, rng):
        hostile = Hostile(rng)
        payment = fuzz_target.payment(ROUTES[0], version)
        payload = {**payment.wire["payload"]}
        payload["transaction"] = hostile.transaction(payment.transaction_base64)
        headers = [(payment.header_name, b64(dumps({**payment.wire, "payload": payload})))]
        if both:  # both headers at once, the other one holding anything
            other = X_PAYMENT if payment.header_name == PAYMENT_SIGNATURE else PAYMENT_SIGNATURE
            extra = rng.choice([payment.wire, hostile.value(), {}])
            headers.append((other, b64(dumps(extra))))
        send(server, ROUTES[0], headers)

    one()
