"""ASGI helpers shared by the facilitator app and its fault middleware."""

from __future__ import annotations

__all__ = ["JSON", "BodyTooLarge", "declared_too_large", "read_body", "respond"]

JSON = [(b"content-type", b"application/json")]


class BodyTooLarge(Exception):
    pass


def declared_too_large(scope, limit: int) -> bool:
    for name, value in scope.get("headers") or ():
        if name == b"content-length" and value.isdigit() and int(value) > limit:
            return True
    return False


async def read_body(scope, receive, limit: int) -> bytes:
    """The request body; BodyTooLarge past `limit` bytes (declared or streamed)."""
    if declared_too_large(scope, limit):
        raise BodyTooLarge
    chunks = []
    size = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            break
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            raise BodyTooLarge
        chunks.append(chunk)
        if not message.get("more_body"):
            break
    return b"".join(chunks)


async def respond(send, status: int, body: bytes, headers=None) -> None:
    headers = list(headers or JSON)
    headers.append((b"content-length", str(len(body)).encode()))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
