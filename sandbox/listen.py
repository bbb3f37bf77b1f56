"""`x402-sandbox listen`: every payment event of the server and the facilitator, live, one line
each (as `stripe listen` does), from their feeds (GET /_sandbox/events, sandbox/events.py).

    x402-sandbox listen                          the running stack's server and facilitator
    x402-sandbox listen --failures --route /api/weather
    x402-sandbox listen --json | jq .            one JSON object a line
    x402-sandbox listen --forward http://127.0.0.1:9000/hook   POST each event there too

A line: time, source, kind, the payment's correlation id (its first 8 characters), then what
the step says (reason and message of a refusal, transaction of a settlement, milliseconds).
Streams that drop (a component restarting) are resumed after the last event seen.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import sys
import time
from typing import Any

import aiohttp
import orjson

from sandbox.admin_guard import admin_headers
from sandbox.console import make_console

__all__ = ["event_line", "follow_feed", "main", "matches"]

_FAILED_KINDS = frozenset({"refused"})
_REFUSED_RETRY_S = 2.0  # a feed that answered non-200 (keep_trying): asked again this much later


def failed(event: dict[str, Any]) -> bool:
    return event["kind"] in _FAILED_KINDS or event.get("ok") is False


def matches(event: dict[str, Any], args: argparse.Namespace) -> bool:
    if args.failures and not failed(event):
        return False
    if args.route and event.get("route") not in (None, args.route):
        return False
    if args.payer and event.get("payer") not in (None, args.payer):
        return False
    return not (args.reason and event.get("reason") != args.reason)


def event_line(event: dict[str, Any]) -> str:
    """One line of rich markup for an event."""
    stamp = time.strftime("%H:%M:%S", time.localtime(event.get("time", 0)))
    colour = "red" if failed(event) else ("green" if event["kind"] == "settle" else "cyan")
    correlation = (event.get("correlation") or "-")[:8]
    parts = [f"[dim]{stamp}[/] {event['source']:<11} [{colour}]{event['kind']:<16}[/]",
             f"[magenta]{correlation:<8}[/]"]  # fmt: skip
    for key in ("route", "stage", "status", "amount", "payer", "reason", "transaction", "ms"):
        value = event.get(key)
        if value is not None:
            parts.append(f"{key}={value}")
    if event.get("message") and failed(event):
        parts.append(f"[dim]{event['message']}[/]")
    return " ".join(parts)


async def follow_feed(
    session,
    name: str,
    url: str,
    token,
    queue: asyncio.Queue,
    backlog: bool = False,
    keep_trying: bool = False,
) -> None:
    """Read one feed forever into `queue` as (kind, value) pairs, reconnecting after the last
    id seen. Without `backlog`, only events published from now on; with it, the feed's ring too.
    A non-200 answer ends it with ("error", ...) (a wrong token, the feed switched off), unless
    `keep_trying` (the dashboard's relay, which outlives a component restarting behind a 503):
    then it is ("dropped", ...) and asked again a few seconds later."""
    last = None
    while True:
        headers = admin_headers(token)
        if last is not None:
            headers["Last-Event-ID"] = str(last)
        try:
            start = "?since=0" if backlog else "?since=999999999999"  # the ring, or new only
            query = "" if last is not None else start
            async with session.get(f"{url}/_sandbox/events{query}", headers=headers) as answer:
                if answer.status != 200:
                    why = f"{name} at {url}: HTTP {answer.status}"
                    if not keep_trying:
                        await queue.put(("error", why))
                        return
                    await queue.put(("dropped", why))
                    await asyncio.sleep(_REFUSED_RETRY_S)
                    continue
                await queue.put(("connected", name))
                # Whole chunks, split here: under load a chunk holds many events, and reading
                # line by line cost more than the rest of listen together.
                pending = b""
                async for chunk in answer.content.iter_any():
                    *frames, pending = (pending + chunk).split(b"\n\n")
                    for frame in frames:
                        for line in frame.split(b"\n"):  # id:, event:, data: (one JSON line)
                            if line.startswith(b"data: "):
                                event = orjson.loads(line[6:])
                                last = event["id"]
                                queue.put_nowait(("event", event))
        except (aiohttp.ClientError, TimeoutError) as exc:
            await queue.put(("dropped", f"{name}: {exc or type(exc).__name__}"))
        await asyncio.sleep(0.5)  # a component restarting: try again shortly


async def listen(args: argparse.Namespace, out) -> int:
    console = make_console()
    feeds = {"server": args.server, "facilitator": args.facilitator}
    queue: asyncio.Queue = asyncio.Queue()
    seen = 0
    timeout = aiohttp.ClientTimeout(total=None, sock_connect=5)
    async with aiohttp.ClientSession(timeout=timeout) as session:
        # The token goes to the facilitator only: the server has none, and refuses one.
        tokens = {"server": None, "facilitator": args.admin_token}
        tasks = [
            asyncio.create_task(follow_feed(session, name, url, tokens[name], queue))
            for name, url in feeds.items()
            if url
        ]
        connected = 0
        try:
            while True:
                kind, value = await queue.get()
                if kind == "error":
                    print(f"error: {value}", file=sys.stderr)
                    return 2
                if kind == "connected":
                    connected += 1
                    if args.ready_file and connected == len(tasks):
                        with open(args.ready_file, "w") as ready:
                            ready.write("listening\n")
                    continue
                if kind == "dropped":
                    if not args.json:
                        console.print(f"[yellow]stream dropped[/] {value}; reconnecting")
                    continue
                if not matches(value, args):
                    continue
                if args.json:
                    out.write(orjson.dumps(value).decode() + "\n")
                    if queue.empty():  # one flush for a burst, not one per line
                        out.flush()
                else:
                    console.print(event_line(value), highlight=False, soft_wrap=True)
                if args.forward:
                    with contextlib.suppress(aiohttp.ClientError, TimeoutError):
                        await session.post(args.forward, json=value)
                seen += 1
                if args.count and seen >= args.count:
                    return 0
        finally:
            for task in tasks:
                task.cancel()


def _targets(args: argparse.Namespace) -> None:
    from pathlib import Path

    from sandbox.orchestration.home import StackPaths, read_admin_token
    from sandbox.orchestration.stack import read_stack

    paths = StackPaths(Path(args.home))
    stack = read_stack(paths)
    if stack is not None:
        args.server = args.server or stack.server_url
        args.facilitator = args.facilitator or stack.facilitator_url
        if args.admin_token is None:
            args.admin_token = read_admin_token(paths)


def main(argv: list[str] | None = None, out=None) -> int:
    parser = argparse.ArgumentParser(prog="x402-sandbox listen", description=__doc__.split("\n")[0])
    parser.add_argument("--home", default=".sandbox", help="the stack's home (.sandbox)")
    parser.add_argument("--server", help="paid server URL (default: the stack's)")
    parser.add_argument("--facilitator", help="facilitator URL (default: the stack's)")
    parser.add_argument("--admin-token", help="sent to the feeds (default: the stack's)")
    parser.add_argument("--route", help="only events of this route (path)")
    parser.add_argument("--payer", help="only events of this payer (address)")
    parser.add_argument("--reason", help="only events with this reason")
    parser.add_argument("--failures", action="store_true", help="only refusals and failures")
    parser.add_argument("--json", action="store_true", help="one JSON object a line")
    parser.add_argument("--forward", metavar="URL", help="POST each event (JSON) to URL too")
    parser.add_argument("--count", type=int, default=0, help="stop after N events (0: never)")
    parser.add_argument("--ready-file", help=argparse.SUPPRESS)  # tests: written once connected
    args = parser.parse_args(argv)
    _targets(args)
    if not args.server and not args.facilitator:
        print(
            "error: no stack to listen to: start one with `make up`, or pass --server URL "
            "and/or --facilitator URL",
            file=sys.stderr,
        )
        return 2
    try:
        return asyncio.run(listen(args, out or sys.stdout))
    except KeyboardInterrupt:
        return 130
