"""The chain as the orchestration commands call it: the shared JSON-RPC client
(sandbox/jsonrpc.py) plus the balance reads `status` and `fund` print."""

from __future__ import annotations

from sandbox.jsonrpc import JsonRpcClient, RpcError

__all__ = ["ChainRpc", "RpcError"]


class ChainRpc(JsonRpcClient):
    """`admin_token` goes with every request: the chain needs it for cheat codes beyond loopback
    (or everywhere, with --require-admin-token)."""

    def __init__(self, url: str, timeout: float = 10.0, admin_token: str | None = None) -> None:
        super().__init__(url, timeout=timeout, admin_token=admin_token)

    def sol_balance(self, address: str) -> int:
        return int(self.call("getBalance", address, {"commitment": "confirmed"})["value"])

    def token_balance(self, token_account: str) -> int | None:
        try:
            answer = self.call("getTokenAccountBalance", token_account, {"commitment": "confirmed"})
            return int(answer["value"]["amount"])
        except RpcError:
            return None
