"""A small synchronous JSON-RPC client for the orchestration commands (not a hot path)."""

from __future__ import annotations

from typing import Any

import httpx

from sandbox.admin_guard import admin_headers


class RpcError(RuntimeError):
    def __init__(self, method: str, error: dict[str, Any]) -> None:
        super().__init__(f"{method}: {error.get('message', error)}")
        self.error = error


class ChainRpc:
    """`admin_token` goes with every request: the chain needs it for cheat codes beyond loopback
    (or everywhere, with --require-admin-token)."""

    def __init__(self, url: str, timeout: float = 10.0, admin_token: str | None = None) -> None:
        self.url = url
        self._client = httpx.Client(timeout=timeout, headers=admin_headers(admin_token))

    def close(self) -> None:
        self._client.close()

    def call(self, method: str, *params: Any) -> Any:
        body = {"jsonrpc": "2.0", "id": 1, "method": method, "params": list(params)}
        answer = self._client.post(self.url, json=body).json()
        if "error" in answer:
            raise RpcError(method, answer["error"])
        return answer["result"]

    def batch(self, calls: list[tuple[str, list[Any]]]) -> list[Any]:
        """Send calls in one JSON-RPC batch; results in the order of `calls`."""
        if not calls:
            return []
        body = [
            {"jsonrpc": "2.0", "id": i, "method": method, "params": params}
            for i, (method, params) in enumerate(calls)
        ]
        answers = {item["id"]: item for item in self._client.post(self.url, json=body).json()}
        results = []
        for i, (method, _) in enumerate(calls):
            item = answers[i]
            if "error" in item:
                raise RpcError(method, item["error"])
            results.append(item["result"])
        return results

    def sol_balance(self, address: str) -> int:
        return int(self.call("getBalance", address, {"commitment": "confirmed"})["value"])

    def token_balance(self, token_account: str) -> int | None:
        try:
            answer = self.call("getTokenAccountBalance", token_account, {"commitment": "confirmed"})
            return int(answer["value"]["amount"])
        except RpcError:
            return None
