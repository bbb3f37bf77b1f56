"""Running the chain: node, HTTP JSON-RPC, PubSub, clock, state file and journal, clean
shutdown."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import time

from sandbox.admin_guard import AdminGuard
from sandbox.http_limits import raise_open_file_limit

from .clock import SlotClock
from .dispatcher import Dispatcher
from .http_server import serve_http
from .journal import ChainJournal
from .node import ChainNode
from .pubsub import PubSub
from .settings import ChainSettings
from .state import StateError, load_state

__all__ = ["build_node", "run_chain"]

log = logging.getLogger("sandbox.chain")


def build_node(settings: ChainSettings) -> ChainNode:
    """A node with its state loaded and its journal replayed (unless --fresh or no state file
    yet: then a first checkpoint puts the new ledger, mint authority included, on disk)."""
    node = ChainNode(settings)
    path = settings.state_file
    if path is None:
        return node
    journal = ChainJournal(node)
    try:
        if path.exists() and not settings.fresh:
            count = load_state(node, path, same_ledger=True)
            replayed = journal.open(node.producer.seed)
            # A fresh start of the journal: the replayed frames become the state file (a state
            # file of an older version, without a seed, gets one now, so its journal replays).
            journal.checkpoint()
            log.info(
                "loaded %d accounts from %s and replayed %d journal frames (slot %d)",
                count,
                path,
                replayed,
                node.producer.slot,
            )
        else:
            journal.open(None)
            journal.checkpoint()
    except OSError as exc:
        raise StateError(f"{journal.path}: cannot open the chain's journal: {exc}") from None
    node.journal = journal
    return node


async def _close_journal(node: ChainNode) -> None:
    """Clean shutdown: the last group flush, then everything into one checkpoint."""
    if node.journal is None:
        return
    try:
        await node.journal.aclose()
        log.info("saved the state to %s", node.state_file)
    except OSError as exc:
        log.error("could not save state to %s: %s", node.state_file, exc)


async def serve(settings: ChainSettings, started: float | None = None) -> None:
    node = build_node(settings)
    dispatcher = Dispatcher(node)
    pubsub = PubSub(node)
    guard = AdminGuard(
        port=settings.port,
        host=settings.host,
        token=settings.admin_token,
        require_token=settings.require_admin_token,
        allowed_origins=settings.allow_origins,
    )
    raise_open_file_limit()  # idle sockets cost a descriptor each
    # PubSub listens first: /health answers 200 only once both ports are bound.
    ws = await pubsub.serve(settings.host, settings.pubsub_port)
    http, http_server = await serve_http(
        dispatcher, settings.host, settings.port, guard, settings.header_timeout
    )
    http_server.ready = True
    clock = asyncio.create_task(SlotClock(node.producer, settings.slot_ms).run())
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    took = f" in {time.perf_counter() - started:.2f}s" if started else ""
    print(
        f"chain: JSON-RPC http://{settings.host}:{settings.port}  "
        f"PubSub ws://{settings.host}:{settings.pubsub_port}  "
        f"USDC {node.twin.usdc_mint}  slot-ms {settings.slot_label}{took}",
        flush=True,
    )
    try:
        await stop.wait()
    finally:
        clock.cancel()
        http_server.close()
        http.close()
        ws.close()
        await _close_journal(node)
        with contextlib.suppress(Exception):
            await asyncio.wait_for(http.wait_closed(), 1.0)


def run_chain(settings: ChainSettings, started: float | None = None) -> int:
    try:
        import uvloop
    except ImportError:  # pragma: no cover - uvloop is a dependency, but stay runnable
        uvloop = None
    try:
        if uvloop is not None:
            uvloop.run(serve(settings, started))
        else:
            asyncio.run(serve(settings, started))
    except StateError as exc:
        print(f"chain: {exc}", flush=True)
        return 2
    except OSError as exc:
        print(f"chain: cannot listen on {settings.host}:{settings.port}: {exc}", flush=True)
        return 2
    return 0
