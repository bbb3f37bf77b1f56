"""follow_feed (sandbox/listen.py), in process against a feed on a loopback port that answers
503 first (a component restarting) and then streams: `listen` stops with the error, while the
dashboard's relay (keep_trying) reports the drop and follows the feed once it answers."""

from __future__ import annotations

import asyncio

import aiohttp
import pytest
from aiohttp import web

from sandbox import listen

EVENT = b'id: 7\nevent: settle\ndata: {"id": 7, "kind": "settle", "ok": true}\n\n'


@pytest.fixture
async def feed():
    """A feed whose first answer is a 503; every later one streams EVENT and stays open."""
    asked = []
    done = asyncio.Event()  # set at teardown: the open streams end

    async def events(request: web.Request) -> web.StreamResponse:
        asked.append(request.query_string)
        if len(asked) == 1:
            return web.json_response({"error": "starting"}, status=503)
        response = web.StreamResponse(headers={"content-type": "text/event-stream"})
        await response.prepare(request)
        await response.write(EVENT)
        await done.wait()  # open, as a live feed is, until the test is over
        return response

    app = web.Application()
    app.router.add_get("/_sandbox/events", events)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}", asked
    finally:
        done.set()
        await runner.cleanup()


async def _next(queue: asyncio.Queue):
    return await asyncio.wait_for(queue.get(), timeout=30)


async def test_listen_stops_on_a_non_200_feed(feed) -> None:
    url, _asked = feed
    queue: asyncio.Queue = asyncio.Queue()
    async with aiohttp.ClientSession() as session:
        await asyncio.wait_for(listen.follow_feed(session, "server", url, None, queue), 30)
    assert await _next(queue) == ("error", f"server at {url}: HTTP 503")


async def test_the_relay_keeps_trying_and_follows_the_feed_once_it_answers(
    feed, monkeypatch
) -> None:
    monkeypatch.setattr(listen, "_REFUSED_RETRY_S", 0.01)
    url, asked = feed
    queue: asyncio.Queue = asyncio.Queue()
    async with aiohttp.ClientSession() as session:
        task = asyncio.create_task(
            listen.follow_feed(session, "server", url, None, queue, backlog=True, keep_trying=True)
        )
        try:
            assert await _next(queue) == ("dropped", f"server at {url}: HTTP 503")
            assert await _next(queue) == ("connected", "server")
            assert await _next(queue) == ("event", {"id": 7, "kind": "settle", "ok": True})
        finally:
            task.cancel()
    assert asked == ["since=0", "since=0"]  # asked again from the ring's start
