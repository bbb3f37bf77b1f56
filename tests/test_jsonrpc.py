"""The shared synchronous JSON-RPC client (sandbox/jsonrpc.py): one error type for an error
answer, a dead chain and a chain that does not batch; the admin headers on every request."""

from __future__ import annotations

import json

import httpx
import pytest

from sandbox.jsonrpc import JsonRpcClient, RpcError


def _client(handler, **options) -> JsonRpcClient:
    client = JsonRpcClient("http://chain.test", admin_token="t0ken", **options)
    client._http = httpx.Client(
        transport=httpx.MockTransport(handler), headers=client._http.headers
    )
    return client


def _answer(body):
    if isinstance(body, list):
        return [_answer(item) for item in body]
    if body["method"] == "bad":
        return {"jsonrpc": "2.0", "id": body["id"], "error": {"code": -32601, "message": "nope"}}
    return {"jsonrpc": "2.0", "id": body["id"], "result": body["params"]}


def test_results_errors_and_headers():
    seen = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json=_answer(json.loads(request.content)))

    with _client(handler, batch_size=2) as client:
        assert client.call("echo", 1, "a") == [1, "a"]
        with pytest.raises(RpcError) as error:
            client.call("bad")
        assert (error.value.kind, error.value.code, str(error.value)) == (
            "answer",
            -32601,
            "bad: nope (-32601)",
        )
        calls = [("echo", [1]), ("bad", []), ("echo", [3])]
        assert client.batch(calls, errors="none") == [[1], None, [3]]
        with pytest.raises(RpcError, match="bad: nope"):
            client.batch(calls)
    assert all(r.headers["authorization"] == "Bearer t0ken" for r in seen)
    assert all(r.headers["content-type"] == "application/json" for r in seen)
    assert [len(json.loads(r.content)) for r in seen[2:4]] == [2, 1]  # chunks of batch_size


def test_a_dead_or_odd_chain_is_the_same_error_type():
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused", request=request)

    with pytest.raises(RpcError) as error, _client(refuse) as client:
        client.call("getSlot")
    assert error.value.kind == "transport" and "http://chain.test" in str(error.value)
    assert error.value.code is None

    def single(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json={"jsonrpc": "2.0", "id": 0, "result": 1})

    with pytest.raises(RpcError) as error, _client(single) as client:
        client.batch([("getSlot", [])])
    assert error.value.kind == "not_batch"
