"""An event feed: what a component did, each step of each payment, as Server-Sent Events.

A component keeps one `EventFeed`: a bounded ring of events (the newest `capacity`), each a
dict with `id` (1, 2, ... in this process), `time` (Unix seconds), `source` (the component),
`kind` ("payment_required", "verify", "settle", ...) and the kind's own fields; a
`correlation` id, when the payment has one, follows it across components.

`publish()` is what the hot path pays: one dict, one append, one put per live subscriber;
nothing is encoded until a subscriber reads. A subscriber that stops reading is cut off once
`queue_limit` events wait for it, so a stuck `listen` never grows the component's memory.

`serve(send, last_id)` streams over ASGI: first the events after `last_id` still in the ring
(`Last-Event-ID` on a reconnect, or `?since=N`), then each new one, with a comment line as a
heartbeat every `heartbeat_s` so idle proxies and clients know the stream is alive. A woken
stream waits `coalesce_s` (20 ms) for more events and writes them at once: a live view is 20 ms
late at most, and under load the feed costs a write per 20 ms instead of one per event.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import itertools
import time
from collections import deque
from typing import Any

import orjson
from starlette.responses import Response

__all__ = [
    "CORRELATION",
    "CORRELATION_HEADER",
    "FEED_OFF",
    "SSE_HEADERS",
    "EventFeed",
    "FeedResponse",
    "last_event_id",
    "sse_frame",
]

# One payment's id across components: the server sets it (its 402's memo, or the payment's own
# identity without memo binding) and its facilitator client sends it on /verify and /settle.
CORRELATION_HEADER = b"x-x402-correlation-id"
CORRELATION: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "x402_correlation", default=None
)

SSE_HEADERS = [
    (b"content-type", b"text/event-stream; charset=utf-8"),
    (b"cache-control", b"no-cache"),
    (b"x-accel-buffering", b"no"),
]


FEED_OFF = (
    "the event feed is off (--event-feed off); start the component with --event-feed on "
    "(the default) to stream its events"
)


def sse_frame(event: dict[str, Any]) -> bytes:
    return b"id: %d\nevent: %s\ndata: %s\n\n" % (
        event["id"],
        event["kind"].encode(),
        orjson.dumps(event),
    )


def last_event_id(headers: dict[bytes, bytes], query: bytes) -> int:
    """Where a subscriber resumes: `Last-Event-ID`, else `?since=N`, else 0 (the whole ring)."""
    raw = headers.get(b"last-event-id")
    if raw is None:
        for part in query.split(b"&"):
            name, _, value = part.partition(b"=")
            if name == b"since":
                raw = value
    try:
        return max(0, int(raw)) if raw else 0
    except ValueError:
        return 0


class EventFeed:
    def __init__(
        self,
        source: str,
        capacity: int = 10_000,
        queue_limit: int = 10_000,
        heartbeat_s: float = 15.0,
        enabled: bool = True,
        coalesce_s: float = 0.02,
    ) -> None:
        self.source = source
        self.enabled = enabled  # off (--event-feed off): publish costs one attribute read
        # A stream woken by an event waits this long for more before it writes: under load one
        # write and one wake-up per 20 ms, not one per event (a payment publishes six).
        self.coalesce_s = coalesce_s
        self.ring: deque[dict[str, Any]] = deque(maxlen=capacity)
        self.queue_limit = queue_limit
        self.heartbeat_s = heartbeat_s
        self._ids = itertools.count(1)
        self._subscribers: set[asyncio.Queue] = set()
        self.dropped_subscribers = 0

    @property
    def subscribers(self) -> int:
        return len(self._subscribers)

    def publish(self, kind: str, **fields: Any) -> dict[str, Any] | None:
        if not self.enabled:
            return None
        event = {"id": next(self._ids), "time": time.time(), "source": self.source, "kind": kind}
        event.update(fields)
        self.ring.append(event)
        if self._subscribers:
            for queue in list(self._subscribers):
                if queue.qsize() >= self.queue_limit:
                    self._subscribers.discard(queue)
                    self.dropped_subscribers += 1
                    queue.put_nowait(None)  # the stream ends: the client reconnects and resumes
                else:
                    queue.put_nowait(event)
        return event

    def close(self) -> None:
        """End every stream (at shutdown: a server waits for open responses to finish)."""
        for queue in list(self._subscribers):
            queue.put_nowait(None)
        self._subscribers.clear()

    def since(self, last_id: int) -> list[dict[str, Any]]:
        ring = self.ring
        if not ring or last_id >= ring[-1]["id"]:
            return []
        first = ring[0]["id"]
        return list(itertools.islice(ring, max(0, last_id - first + 1), None))

    async def serve(self, send, last_id: int = 0, receive=None) -> None:
        """Stream the feed as the body of an ASGI response until the client goes away (with
        `receive`, its http.disconnect ends the stream at once, not at the next write)."""
        if receive is None:
            await self._stream(send, last_id)
            return

        async def disconnected() -> None:
            while (await receive()).get("type") != "http.disconnect":
                pass

        stream = asyncio.create_task(self._stream(send, last_id))
        gone = asyncio.create_task(disconnected())
        await asyncio.wait({stream, gone}, return_when=asyncio.FIRST_COMPLETED)
        for task in (stream, gone):
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task

    async def _stream(self, send, last_id: int) -> None:
        queue: asyncio.Queue = asyncio.Queue()
        self._subscribers.add(queue)  # before the replay: nothing published between is lost
        try:
            await send({"type": "http.response.start", "status": 200, "headers": SSE_HEADERS})
            backlog = self.since(last_id)
            newest = self.ring[-1]["id"] if self.ring else 0
            sent = backlog[-1]["id"] if backlog else min(last_id, newest)
            body = b"retry: 1000\n\n" + b"".join(sse_frame(e) for e in backlog)
            await send({"type": "http.response.body", "body": body, "more_body": True})
            while True:
                try:
                    event = await asyncio.wait_for(queue.get(), self.heartbeat_s)
                except TimeoutError:
                    await send(
                        {"type": "http.response.body", "body": b": alive\n\n", "more_body": True}
                    )
                    continue
                if self.coalesce_s and event is not None:
                    await asyncio.sleep(self.coalesce_s)
                frames = []
                while event is not None:  # None: the feed ended this stream
                    if event["id"] > sent:  # else already in the replay
                        sent = event["id"]
                        frames.append(sse_frame(event))
                    if queue.empty():
                        break
                    event = queue.get_nowait()
                if frames:
                    body = b"".join(frames)
                    await send({"type": "http.response.body", "body": body, "more_body": True})
                if event is None:
                    break
        finally:
            self._subscribers.discard(queue)
            with contextlib.suppress(Exception):
                await send({"type": "http.response.body", "body": b"", "more_body": False})


class FeedResponse(Response):
    """A Starlette response streaming an event feed until the client leaves (or shutdown)."""

    def __init__(self, feed: EventFeed, since: int) -> None:
        super().__init__()
        self.feed, self.since = feed, since

    async def __call__(self, scope, receive, send) -> None:
        await self.feed.serve(send, self.since, receive)
