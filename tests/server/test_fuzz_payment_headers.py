"""Payment headers fuzzed from valid ones, through the real server, facilitator and chain:
the answer is 400 or 402 (or 200 when the mutation kept a valid payment), never 5xx."""

from __future__ import annotations

import asyncio
import base64
import json

import httpx
import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from server_stack import PaidStack, paid_stack

from sandbox.payer import X402Client
from sandbox.protocol import decode_payment_required, decode_payment_required_v1

URL = "/api/weather"


def _encode(payload) -> str:
    # The standard library writes integers of any size (orjson stops at 64 bits): the server
    # must cope with whatever a client sends.
    return base64.b64encode(json.dumps(payload).encode()).decode()


JSON_VALUES = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.text(max_size=20),
    st.lists(st.integers(), max_size=3),
    st.dictionaries(st.text(max_size=5), st.integers(), max_size=2),
)
FUZZ = settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


@pytest.fixture(scope="module")
def stack(tmp_path_factory) -> PaidStack:
    with paid_stack(tmp_path_factory.mktemp("fuzz-stack")) as running:
        yield running


@pytest.fixture(scope="module")
def valid_headers(stack) -> dict[int, tuple[str, str]]:
    """A valid payment header of each version for URL: {version: (name, value)}."""
    payer = stack.new_payer()
    challenge = httpx.get(stack.server_url + URL)

    async def build():
        async with X402Client(payer, rpc_url=stack.rpc_url) as client:
            required = decode_payment_required(challenge.headers["PAYMENT-REQUIRED"])
            v2 = await client.prepare(required.accepts[0], required.resource)
            v1 = await client.prepare(decode_payment_required_v1(challenge.content).accepts[0])
        return {2: next(iter(v2.headers.items())), 1: next(iter(v1.headers.items()))}

    return asyncio.run(build())


@pytest.fixture(scope="module")
def http(stack):
    with httpx.Client(base_url=stack.server_url, timeout=30) as client:
        yield client


def leaf_paths(value, prefix=()):
    if isinstance(value, dict):
        for key, inner in value.items():
            yield from leaf_paths(inner, (*prefix, key))
    yield prefix


def assert_no_5xx(http: httpx.Client, name: str, value: str) -> None:
    response = http.get(URL, headers={name: value})
    assert response.status_code in (200, 400, 402), (response.status_code, response.text)
    if response.status_code == 200:
        assert "PAYMENT-RESPONSE" in response.headers or "X-PAYMENT-RESPONSE" in response.headers
    else:
        assert "temperatureC" not in response.text
        assert response.json()["error"]


@FUZZ
@given(version=st.sampled_from([1, 2]), data=st.data())
def test_mutated_json_fields(http, valid_headers, version, data):
    name, value = valid_headers[version]
    payload = orjson.loads(base64.b64decode(value))
    path = data.draw(st.sampled_from(list(leaf_paths(payload))))
    if not path:
        payload = data.draw(JSON_VALUES)
    else:
        parent = payload
        for key in path[:-1]:
            parent = parent[key]
        if data.draw(st.booleans()):
            del parent[path[-1]]
        else:
            parent[path[-1]] = data.draw(JSON_VALUES)
    assert_no_5xx(http, name, _encode(payload))


@FUZZ
@given(version=st.sampled_from([1, 2]), data=st.data())
def test_mutated_header_text(http, valid_headers, version, data):
    name, value = valid_headers[version]
    at = data.draw(st.integers(min_value=0, max_value=len(value) - 1))
    kind = data.draw(st.sampled_from(["replace", "delete", "insert", "truncate"]))
    char = data.draw(st.characters(min_codepoint=33, max_codepoint=126))
    mutated = {
        "replace": value[:at] + char + value[at + 1 :],
        "delete": value[:at] + value[at + 1 :],
        "insert": value[:at] + char + value[at:],
        "truncate": value[:at],
    }[kind]
    assert_no_5xx(http, name, mutated or "x")


@FUZZ
@given(version=st.sampled_from([1, 2]), data=st.data())
def test_mutated_transaction_bytes(http, valid_headers, version, data):
    name, value = valid_headers[version]
    payload = orjson.loads(base64.b64decode(value))
    raw = bytearray(base64.b64decode(payload["payload"]["transaction"]))
    for _ in range(data.draw(st.integers(min_value=1, max_value=3))):
        at = data.draw(st.integers(min_value=0, max_value=len(raw) - 1))
        raw[at] = data.draw(st.integers(min_value=0, max_value=255))
    payload["payload"]["transaction"] = base64.b64encode(bytes(raw)).decode()
    assert_no_5xx(http, name, _encode(payload))
