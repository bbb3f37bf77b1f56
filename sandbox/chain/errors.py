"""JSON-RPC errors the chain answers with, one type with named constructors.

    RpcError(code, message, data)
      ├── parse_error            -32700  body is not JSON
      ├── invalid_request        -32600  not a JSON-RPC 2.0 request object
      ├── method_not_found       -32601  unknown method (or cheat codes switched off)
      ├── invalid_params         -32602  names the parameter that was wrong
      ├── preflight_failure      -32002  simulation before sending failed (data = simulation)
      ├── signature_failure      -32003  a required signature is missing or invalid
      ├── block_cleaned_up       -32001  a block older than the history kept
      ├── block_not_available    -32004  a block not (yet) at the commitment asked
      ├── slot_skipped           -32007  no block in that slot (sandbox_advanceSlots skips)
      ├── other server errors (-32005 .. -32016)
      └── internal_error         -32603  a bug of ours, never a traceback on the wire

Handlers raise RpcError; the dispatcher turns it into the error object. Any other exception is
translated at that one seam into internal_error with a short message.
"""

from __future__ import annotations

import reprlib
from typing import Any

__all__ = ["RpcError", "shown"]

_SHOWN = reprlib.Repr()
_SHOWN.maxlevel, _SHOWN.maxlist, _SHOWN.maxdict = 2, 4, 4
_SHOWN.maxstring, _SHOWN.maxother, _SHOWN.maxlong = 48, 48, 40


def shown(value: Any) -> str:
    """A short repr of client input for an error message: bounded in length and depth, so a huge
    or deeply nested value never makes the message itself huge (or overflow the stack)."""
    return _SHOWN.repr(value)


class RpcError(Exception):
    __slots__ = ("code", "data", "message")

    def __init__(self, code: int, message: str, data: Any = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.data = data

    def to_json(self) -> dict[str, Any]:
        error: dict[str, Any] = {"code": self.code, "message": self.message}
        if self.data is not None:
            error["data"] = self.data
        return error

    @classmethod
    def parse_error(cls, detail: str = "") -> RpcError:
        return cls(-32700, "Parse error" + (f": {detail}" if detail else ""))

    @classmethod
    def invalid_request(cls, detail: str = "") -> RpcError:
        return cls(-32600, "Invalid request" + (f": {detail}" if detail else ""))

    @classmethod
    def method_not_found(cls, method: str) -> RpcError:
        shown_name = method if len(method) <= 80 else method[:77] + "..."
        return cls(-32601, f"Method not found: {shown_name}")

    @classmethod
    def invalid_params(cls, detail: str) -> RpcError:
        return cls(-32602, f"Invalid params: {detail}")

    @classmethod
    def preflight_failure(cls, message: str, simulation: dict[str, Any]) -> RpcError:
        return cls(-32002, f"Transaction simulation failed: {message}", simulation)

    @classmethod
    def signature_failure(cls) -> RpcError:
        return cls(-32003, "Transaction signature verification failure")

    @classmethod
    def transaction_history_not_available(cls) -> RpcError:
        return cls(
            -32011,
            "Transaction history is not available from this node",
        )

    @classmethod
    def block_cleaned_up(cls, slot: int, first_available: int) -> RpcError:
        return cls(
            -32001,
            f"Block {slot} cleaned up, does not exist on node. First available block: "
            f"{first_available}",
        )

    @classmethod
    def block_not_available(cls, slot: int) -> RpcError:
        return cls(-32004, f"Block not available for slot {slot}")

    @classmethod
    def slot_skipped(cls, slot: int) -> RpcError:
        return cls(
            -32007, f"Slot {slot} was skipped, or missing due to ledger jump to recent snapshot"
        )

    @classmethod
    def unsupported_transaction_version(cls, version: int) -> RpcError:
        return cls(
            -32015,
            f"Transaction version ({version}) is not supported by the requesting client. Please "
            "try the request again with the following configuration parameter: "
            f'"maxSupportedTransactionVersion": {version}',
        )

    @classmethod
    def min_context_slot_not_reached(cls, context_slot: int) -> RpcError:
        return cls(
            -32016, "Minimum context slot has not been reached", {"contextSlot": context_slot}
        )

    @classmethod
    def injected_fault(cls) -> RpcError:
        # What a struggling public RPC node answers; facilitators must retry or fail cleanly.
        return cls(-32005, "Node is unhealthy (sandbox fault injection)", {"numSlotsBehind": None})

    @classmethod
    def internal_error(cls, detail: str = "") -> RpcError:
        return cls(-32603, "Internal error" + (f": {detail}" if detail else ""))
