"""One synchronous JSON-RPC client, with one error type, for everything that calls the chain off
the hot path: orchestration (`up`, `status`, `fund`; sandbox/orchestration/rpc.py adds its
balance helpers), the load-test wrapper's before-and-after reads (sandbox/loadtest/
chain_accounts.py), the compose setup (docker/setup_wallets.py, through orchestration) and test
set-up (sandbox/chain/testing.py).

Every request carries `admin_headers` (the JSON content type, and the admin token when one is
given: the chain needs it for cheat codes beyond loopback, or everywhere with
--require-admin-token).

    RpcError                 one type; `kind` says which
    ├── kind "answer"        the chain answered an error object (`code`, `error`)
    ├── kind "transport"     no JSON-RPC answer at all: connection, timeout, not JSON
    └── kind "not_batch"     a batch answered with something other than a list

Not used on the hot paths, which measurably need their own: the facilitator's ChainClient
(sandbox/facilitator/rpc.py) batches concurrent calls from many in-flight settlements into one
HTTP request on an async connection pool, and its errors feed the settlement state machine;
the payer's aiohttp RpcClient (sandbox/payer/rpc.py) is the async client (httpx collapses at
64+ concurrent requests, shared/reference/performance-notes.md); the paid server's receipt
check (sandbox/server/onchain.py) asks one getSignatureStatuses per paid request on the same
kind of pooled aiohttp session; the Locust users' ChainView (loadtests/chain_view.py) goes
through Locust's own HTTP session so that its calls are counted in Locust's table.

Not clients of the chain either: the scenario runner's probes (sandbox/scenario_runner/
runner.py) ask a target what it is, and must tell "nothing listens" from "HTTP 200 but not
JSON-RPC" with the status in the message; the benchmarks post pre-encoded bodies so that they
time the chain, not a client.
"""

from __future__ import annotations

import itertools
from typing import Any

import httpx

from sandbox.admin_guard import admin_headers

__all__ = ["JsonRpcClient", "RpcError"]


class RpcError(RuntimeError):
    """A JSON-RPC call that gave no result. str(): `method: message (code)` for an error answer,
    a sentence naming the chain's URL otherwise."""

    def __init__(
        self,
        method: str,
        message: str,
        *,
        kind: str = "answer",
        error: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(message)
        self.method = method
        self.kind = kind
        self.error: dict[str, Any] = error or {}

    @property
    def code(self) -> int | None:
        code = self.error.get("code")
        return code if isinstance(code, int) else None

    @classmethod
    def answer(cls, method: str, error: Any) -> RpcError:
        """The chain answered `error` (normally {"code", "message", "data"?})."""
        if not isinstance(error, dict):
            return cls(method, f"{method}: {error!r}", error={"message": error})
        message = error.get("message", error)
        code = f" ({error['code']})" if "code" in error else ""
        return cls(method, f"{method}: {message}{code}", error=error)

    @classmethod
    def transport(cls, method: str, url: str, exc: Exception) -> RpcError:
        return cls(method, f"the chain at {url} did not answer JSON-RPC: {exc}", kind="transport")

    @classmethod
    def not_batch(cls, url: str) -> RpcError:
        return cls(
            "batch", f"the chain at {url} does not answer JSON-RPC batches", kind="not_batch"
        )


class JsonRpcClient:
    """`call` raises RpcError; `batch` answers results in the order of the calls, sent in
    chunks of `batch_size`, with None (errors="none") or an RpcError raised (errors="raise")
    for a call that failed."""

    def __init__(
        self,
        url: str,
        *,
        timeout: float = 10.0,
        admin_token: str | None = None,
        batch_size: int = 200,
    ) -> None:
        self.url = url
        self.batch_size = batch_size
        self._ids = itertools.count(1)
        self._http = httpx.Client(timeout=timeout, headers=admin_headers(admin_token))

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> JsonRpcClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _post(self, method: str, body: Any) -> Any:
        try:
            return self._http.post(self.url, json=body).json()
        except (httpx.HTTPError, ValueError) as exc:
            raise RpcError.transport(method, self.url, exc) from None

    def call(self, method: str, *params: Any) -> Any:
        body = {"jsonrpc": "2.0", "id": next(self._ids), "method": method, "params": list(params)}
        answer = self._post(method, body)
        if not isinstance(answer, dict) or "result" not in answer:
            error = answer.get("error") if isinstance(answer, dict) else answer
            raise RpcError.answer(method, error)
        return answer["result"]

    def batch(self, calls: list[tuple[str, list[Any]]], *, errors: str = "raise") -> list[Any]:
        results: list[Any] = []
        for start in range(0, len(calls), self.batch_size):
            chunk = calls[start : start + self.batch_size]
            body = [
                {"jsonrpc": "2.0", "id": i, "method": method, "params": params}
                for i, (method, params) in enumerate(chunk)
            ]
            answers = self._post("batch", body)
            if not isinstance(answers, list):
                raise RpcError.not_batch(self.url)
            by_id = {a.get("id"): a for a in answers if isinstance(a, dict)}
            for i, (method, _) in enumerate(chunk):
                item = by_id.get(i, {})
                if "result" in item:
                    results.append(item["result"])
                elif errors == "none":
                    results.append(None)
                else:
                    raise RpcError.answer(method, item.get("error", "no answer in the batch"))
        return results
