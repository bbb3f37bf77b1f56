"""JSON-RPC 2.0 over the method families: single and batch requests, errors at one seam.

Handlers are plain synchronous functions `(node, params) -> result`: LiteSVM holds the GIL, so
the cheapest thing is to answer on the event loop thread with no awaits on the hot path.
"""

from __future__ import annotations

import logging
from typing import Any

import orjson

from sandbox.admin_guard import Refusal

from . import (
    cheats,
    rpc_accounts,
    rpc_bank,
    rpc_blocks,
    rpc_minimal,
    rpc_scan,
    rpc_transactions,
)
from .errors import RpcError
from .node import ChainNode
from .params import nested_deeper_than

__all__ = ["MAX_BATCH", "MAX_PARAMS_DEPTH", "Dispatcher"]

log = logging.getLogger("sandbox.chain")
MAX_BATCH = 1000
MAX_PARAMS_DEPTH = 32  # arrays and objects inside `params`; real requests use 3 at most
_FAMILIES = (rpc_minimal, rpc_bank, rpc_accounts, rpc_scan, rpc_transactions, rpc_blocks)
_NO_FAULTS = frozenset({"getHealth", "getVersion", "getGenesisHash"})


def _error(request_id: Any, error: RpcError) -> dict[str, Any]:
    return {"jsonrpc": "2.0", "error": error.to_json(), "id": request_id}


class Dispatcher:
    def __init__(self, node: ChainNode) -> None:
        self.node = node
        self.methods: dict[str, Any] = {}
        for family in _FAMILIES:
            self.methods.update(family.METHODS)
        self.cheats = dict(cheats.METHODS) if node.settings.cheats else {}

    @property
    def method_names(self) -> list[str]:
        return sorted([*self.methods, *self.cheats])

    def handle(self, body: bytes, refusal: Refusal | None = None) -> bytes | None:
        """One HTTP body in, one HTTP body out (None: only notifications, nothing to answer).

        `refusal`: the admin guard's verdict on the HTTP request; when set, cheat codes in it
        answer an error saying why (ordinary methods are unaffected)."""
        try:
            request = orjson.loads(body)
        except orjson.JSONDecodeError as exc:
            return orjson.dumps(_error(None, RpcError.parse_error(str(exc))))
        if isinstance(request, list):
            if not request:
                return orjson.dumps(_error(None, RpcError.invalid_request("empty batch")))
            if len(request) > MAX_BATCH:
                error = RpcError.invalid_request(f"batch of {len(request)}; at most {MAX_BATCH}")
                return orjson.dumps(_error(None, error))
            answers = [self.call(item, refusal) for item in request]
            answers = [answer for answer in answers if answer is not None]
            return orjson.dumps(answers) if answers else None
        answer = self.call(request, refusal)
        return orjson.dumps(answer) if answer is not None else None

    def call(self, request: Any, refusal: Refusal | None = None) -> dict[str, Any] | None:
        node = self.node
        node.rpc_requests += 1
        if not isinstance(request, dict):
            return _error(None, RpcError.invalid_request("expected a JSON object"))
        request_id = request.get("id")
        if request_id is not None and (
            isinstance(request_id, bool) or not isinstance(request_id, str | int | float)
        ):
            return _error(None, RpcError.invalid_request("`id` must be a string, number or null"))
        method = request.get("method")
        if request.get("jsonrpc") != "2.0" or not isinstance(method, str):
            return _error(
                request_id, RpcError.invalid_request('needs "jsonrpc": "2.0" and a "method"')
            )
        params = request.get("params", [])
        if params is None:
            params = []
        elif not isinstance(params, list):
            return _error(
                request_id, RpcError.invalid_params("`params` must be an array (positional)")
            )
        elif params and nested_deeper_than(params, MAX_PARAMS_DEPTH):
            return _error(
                request_id,
                RpcError.invalid_params(f"`params` nested deeper than {MAX_PARAMS_DEPTH} levels"),
            )
        handler = self.methods.get(method)
        try:
            if handler is None:
                handler = self._cheat(method, refusal)
                result = handler(node, params)
                if node.journal is not None:  # a cheat's writes show confirmed at once
                    node.journal.commit()
            else:
                faults = node.faults
                if faults.error_rate and method not in _NO_FAULTS and faults.should_fail():
                    raise RpcError.injected_fault()
                result = handler(node, params)
        except RpcError as error:
            if "id" not in request:
                return None
            return _error(request_id, error)
        except Exception as exc:  # the one seam where our bugs become a clean error
            log.exception("%s failed", method)
            return _error(request_id, RpcError.internal_error(f"{type(exc).__name__}: {exc}"))
        if "id" not in request:
            return None  # a notification
        return {"jsonrpc": "2.0", "result": result, "id": request_id}

    def _cheat(self, method: str, refusal: Refusal | None):
        handler = self.cheats.get(method)
        if handler is None:
            raise RpcError.method_not_found(method)
        if refusal is not None:
            raise RpcError(-32000, f"{method} refused: {refusal.message}")
        return handler
