"""The dashboard's web server: one page (static/), and the JSON and SSE it reads.

    GET  /                              the page
    GET  /api/overview                  components and their health, wallets with SOL and USDC
    GET  /api/events                    the server's and the facilitator's feeds merged, as SSE
    GET  /api/activity                  the facilitator's recent settlements and rejections
    GET  /api/tx/{signature}            a transaction, each instruction decoded (decode.py)
    GET  /api/account/{address}         balances and recent transactions of an account
    GET  /api/faults                    the facilitator's and the chain's faults now
    POST /api/faults/facilitator        {"faults": [...]}, forwarded to POST /_sandbox/faults
    POST /api/faults/chain              {"dropRate": 0.1, ...}, forwarded as sandbox_setFaults

The browser talks only to this server; it holds the admin token and forwards with it. Every
request meets the admin rule (sandbox/admin_guard.py): this server has no token of its own, so
only loopback callers, naming a loopback Host, with no foreign Origin, and JSON bodies.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from dataclasses import dataclass, field
from importlib import resources
from typing import Any

import aiohttp
import httpx
import orjson
from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response
from solders.pubkey import Pubkey
from solders.signature import Signature

from sandbox.admin_guard import AdminGuard, admin_headers
from sandbox.dashboard.chain_view import ChainView, ChainViewError
from sandbox.events import EventFeed, FeedResponse, last_event_id
from sandbox.listen import follow_feed

__all__ = ["DashboardSettings", "create_app"]

STATIC = resources.files("sandbox.dashboard") / "static"
_TYPES = {".js": "text/javascript", ".css": "text/css"}


@dataclass(frozen=True)
class DashboardSettings:
    rpc_url: str
    facilitator_url: str
    server_url: str
    usdc_mint: str
    host: str = "127.0.0.1"
    port: int = 4020
    wallets: tuple[tuple[str, str], ...] = ()  # (name, address)
    admin_token: str | None = field(default=None, repr=False)
    capacity: int = 2_000  # events the page can replay after a reload


def _bad(status: int, message: str) -> JSONResponse:
    return JSONResponse({"error": message}, status_code=status)


async def _relay(settings: DashboardSettings, feed: EventFeed) -> None:
    """Follow both feeds from their rings on and republish each event, source and time kept;
    a feed answering non-200 (a component restarting) is asked again, never given up."""
    queue: asyncio.Queue = asyncio.Queue()
    timeout = aiohttp.ClientTimeout(total=None, sock_connect=5)
    feeds = {"server": (settings.server_url, None)}  # the server has no token: sends none
    feeds["facilitator"] = (settings.facilitator_url, settings.admin_token)
    async with aiohttp.ClientSession(timeout=timeout) as session:
        tasks = [
            asyncio.create_task(
                follow_feed(session, name, url, token, queue, backlog=True, keep_trying=True)
            )
            for name, (url, token) in feeds.items()
        ]
        try:
            while True:
                kind, value = await queue.get()
                if kind == "event":
                    fields = {k: v for k, v in value.items() if k not in ("id", "kind")}
                    feed.publish(value["kind"], **fields)
        finally:
            for task in tasks:
                task.cancel()


class _Guard:
    """The admin rule in front of every route (plain ASGI: the SSE stream passes untouched)."""

    def __init__(self, app, guard: AdminGuard) -> None:
        self.app, self.guard = app, guard

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] == "http":
            client = scope.get("client")
            refusal = self.guard.check(
                dict(scope.get("headers") or ()),
                client[0] if client else None,
                has_body=scope["method"] == "POST",
            )
            if refusal is not None:
                await _bad(refusal.status, refusal.message)(scope, receive, send)
                return
        await self.app(scope, receive, send)


async def _health(client: httpx.AsyncClient, name: str, url: str) -> dict[str, Any]:
    started = time.perf_counter()
    try:
        answer = await client.get(f"{url}/health", timeout=2.0)
        healthy = answer.status_code == 200
    except httpx.HTTPError:
        healthy = False
    ms = round((time.perf_counter() - started) * 1000, 1)
    return {"name": name, "url": url, "healthy": healthy, "ms": ms}


def create_app(settings: DashboardSettings) -> FastAPI:
    feed = EventFeed("dashboard", capacity=settings.capacity)
    state: dict[str, Any] = {}

    @contextlib.asynccontextmanager
    async def lifespan(_app: FastAPI):
        client = httpx.AsyncClient()
        state["client"] = client
        state["chain"] = ChainView(client, settings.rpc_url, settings.usdc_mint)
        relay = asyncio.create_task(_relay(settings, feed))
        try:
            yield
        finally:
            feed.close()
            relay.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await relay
            await client.aclose()

    app = FastAPI(title="x402 sandbox dashboard", lifespan=lifespan, docs_url=None, redoc_url=None)
    app.add_middleware(_Guard, guard=AdminGuard(port=settings.port, host=settings.host))
    facilitator_headers = admin_headers(settings.admin_token)

    @app.get("/", response_class=HTMLResponse)
    async def page() -> HTMLResponse:
        return HTMLResponse((STATIC / "index.html").read_text())

    @app.get("/static/{name}")
    async def static(name: str) -> Response:
        kind = next((t for suffix, t in _TYPES.items() if name.endswith(suffix)), None)
        if kind is None or "/" in name or name.startswith("."):
            return _bad(404, f"no static file {name!r}")
        target = STATIC / name
        if not target.is_file():
            return _bad(404, f"no static file {name!r}")
        return Response(target.read_text(), media_type=kind)

    @app.get("/health")
    async def health() -> dict[str, Any]:
        return {"status": "ok", "subscribers": feed.subscribers, "events": len(feed.ring)}

    @app.get("/api/overview")
    async def overview() -> dict[str, Any]:
        client = state["client"]
        components = await asyncio.gather(
            _health(client, "chain", settings.rpc_url),
            _health(client, "facilitator", settings.facilitator_url),
            _health(client, "server", settings.server_url),
        )
        wallets: list[dict[str, Any]] = []
        error = None
        if components[0]["healthy"]:
            try:
                wallets = await state["chain"].balances(list(settings.wallets))
            except ChainViewError as exc:
                error = str(exc)
        return {
            "components": components,
            "wallets": wallets,
            "usdcMint": settings.usdc_mint,
            "rpcUrl": settings.rpc_url,
            "error": error,
        }

    @app.get("/api/events")
    async def events(request: Request):
        since = last_event_id(dict(request.scope["headers"]), request.scope["query_string"])
        return FeedResponse(feed, since)

    @app.get("/api/activity")
    async def activity() -> Any:
        client: httpx.AsyncClient = state["client"]
        found: dict[str, Any] = {}
        for name in ("settlements", "rejections"):
            try:
                answer = await client.get(
                    f"{settings.facilitator_url}/_sandbox/{name}?limit=50",
                    headers=facilitator_headers,
                    timeout=5.0,
                )
                found[name] = answer.json().get(name, [])
            except (httpx.HTTPError, ValueError, AttributeError):
                return _bad(502, f"the facilitator at {settings.facilitator_url} did not answer")
        return found

    @app.get("/api/tx/{signature}")
    async def transaction(signature: str) -> Any:
        try:
            Signature.from_string(signature)
        except ValueError:
            return _bad(400, f"{signature[:100]!r} is not a base58 transaction signature")
        try:
            found = await state["chain"].transaction(signature)
        except ChainViewError as exc:
            return _bad(502, str(exc))
        if found is None:
            return _bad(404, f"the chain has no confirmed transaction {signature}")
        chain = state["chain"]
        found["names"] = {address: name for name, address in settings.wallets}
        for name, address in settings.wallets:
            found["names"][chain.token_account(address)] = f"{name} USDC"
        return found

    @app.get("/api/account/{address}")
    async def account(address: str) -> Any:
        try:
            Pubkey.from_string(address)
        except ValueError:
            return _bad(400, f"{address[:100]!r} is not a base58 account address")
        try:
            found = await state["chain"].account(address)
        except ChainViewError as exc:
            return _bad(502, str(exc))
        found["name"] = dict((a, n) for n, a in settings.wallets).get(address)
        return found

    @app.get("/api/faults")
    async def faults() -> Any:
        client: httpx.AsyncClient = state["client"]
        try:
            facilitator = (
                await client.get(
                    f"{settings.facilitator_url}/_sandbox/faults",
                    headers=facilitator_headers,
                    timeout=5.0,
                )
            ).json()
            chain = await state["chain"].faults(settings.admin_token)
        except (httpx.HTTPError, ValueError, ChainViewError) as exc:
            return _bad(502, f"could not read the faults: {exc}")
        return {"facilitator": facilitator, "chain": chain}

    @app.post("/api/faults/facilitator")
    async def set_facilitator_faults(request: Request) -> Any:
        body = await _json_body(request)
        if isinstance(body, JSONResponse):
            return body
        client: httpx.AsyncClient = state["client"]
        try:
            answer = await client.post(
                f"{settings.facilitator_url}/_sandbox/faults",
                json=body,
                headers=facilitator_headers,
                timeout=5.0,
            )
            return JSONResponse(answer.json(), status_code=answer.status_code)
        except (httpx.HTTPError, ValueError) as exc:
            return _bad(502, f"the facilitator did not take the faults: {exc}")

    @app.post("/api/faults/chain")
    async def set_chain_faults(request: Request) -> Any:
        body = await _json_body(request)
        if isinstance(body, JSONResponse):
            return body
        if not isinstance(body, dict):
            return _bad(400, 'chain faults are a JSON object like {"dropRate": 0.1}')
        try:
            return await state["chain"].cheat("sandbox_setFaults", [body], settings.admin_token)
        except ChainViewError as exc:
            return _bad(400, str(exc))

    return app


async def _json_body(request: Request) -> Any:
    raw = await request.body()
    if len(raw) > 64 * 1024:
        return _bad(413, "body too large (64 KiB at most)")
    try:
        return orjson.loads(raw)
    except ValueError:
        return _bad(400, "body is not JSON")
