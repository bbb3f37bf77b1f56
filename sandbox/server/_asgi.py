"""Small ASGI helpers: JSON answers, a captured (buffered) app response, header injection."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import orjson

__all__ = ["CapturedResponse", "capture", "send_captured", "send_json", "with_headers"]

Headers = list[tuple[bytes, bytes]]


async def send_json(send, status: int, body: Any, headers: Headers | None = None) -> None:
    data = orjson.dumps(body)
    raw_headers = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(data)).encode()),
        *(headers or ()),
    ]
    await send({"type": "http.response.start", "status": status, "headers": raw_headers})
    await send({"type": "http.response.body", "body": data})


@dataclass
class CapturedResponse:
    status: int = 500
    headers: Headers = field(default_factory=list)
    chunks: list[bytes] = field(default_factory=list)


async def capture(app, scope, receive) -> CapturedResponse:
    """Run the app and keep its whole answer, so the paywall decides before anything is sent."""
    captured = CapturedResponse()

    async def keep(message: dict) -> None:
        kind = message["type"]
        if kind == "http.response.start":
            captured.status = message["status"]
            captured.headers = list(message.get("headers", ()))
        elif kind == "http.response.body":
            captured.chunks.append(message.get("body", b""))

    await app(scope, receive, keep)
    return captured


async def send_captured(send, captured: CapturedResponse, headers: Headers = ()) -> None:
    body = b"".join(captured.chunks)
    out = [(k, v) for k, v in captured.headers if k.lower() != b"content-length"]
    out.append((b"content-length", str(len(body)).encode()))
    out.extend(headers)
    await send({"type": "http.response.start", "status": captured.status, "headers": out})
    await send({"type": "http.response.body", "body": body})


def with_headers(send, headers: Headers):
    """A `send` that adds headers to the response start (for answers streamed through)."""

    async def wrapped(message: dict) -> None:
        if message["type"] == "http.response.start":
            message = {**message, "headers": [*message.get("headers", ()), *headers]}
        await send(message)

    return wrapped
