"""HTTP client for a facilitator's /verify, /settle and /supported, and what the paywall needs
of any facilitator client (FacilitatorApi: pass your own to Paywall(facilitator=...)).

aiohttp with one pooled connector per server: it stays fast at 64+ concurrent requests where
httpx's pool collapses (shared/reference/performance-notes.md). Every way the facilitator can fail
is translated here, at one seam, into the FacilitatorError family; a well-formed rejection is
returned as a value.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from typing import Any, Protocol, TypeVar

import aiohttp
import orjson
from pydantic import ValidationError

from sandbox.events import CORRELATION
from sandbox.protocol import (
    ProtocolError,
    SettleResponse,
    SupportedResponse,
    VerifyResponse,
    WireModel,
    check_json_depth,
)
from sandbox.protocol.bazaar import EXTENSION_RESPONSES, decode_extension_responses
from sandbox.protocol.errors import describe_validation_error
from sandbox.server.errors import (
    FacilitatorBadAnswer,
    FacilitatorError,
    FacilitatorTimeout,
    FacilitatorUnreachable,
)

__all__ = ["FacilitatorApi", "FacilitatorClient"]

M = TypeVar("M", bound=WireModel)
log = logging.getLogger("sandbox.server")

# Called with (call name, seconds, outcome) after every request: the paywall's metrics hook.
Observer = Callable[[str, float, str], None]


class FacilitatorApi(Protocol):
    """A facilitator as the paywall uses it. A well-formed rejection (`isValid: false`,
    `success: false`) is returned as a value; a facilitator that cannot give a usable answer
    raises the FacilitatorError family (errors.py), which the paywall answers with 502 or 504."""

    base_url: str  # named in the paywall's answers and logs

    async def supported(self) -> SupportedResponse: ...

    async def verify(self, request: dict[str, Any]) -> VerifyResponse: ...

    async def settle(self, request: dict[str, Any]) -> SettleResponse: ...

    async def close(self) -> None: ...


def _note_extension_responses(path: str, value: str) -> None:
    """EXTENSION-RESPONSES is the facilitator telling this server how its extensions fared (the
    bazaar cataloguing): logged when one was rejected, never passed on to the buyer (the paywall
    writes its own headers)."""
    answers = decode_extension_responses(value)
    if answers is None:
        log.warning("facilitator %s: EXTENSION-RESPONSES is not base64 JSON; ignored", path)
        return
    for name, answer in answers.items():
        if isinstance(answer, dict) and answer.get("status") == "rejected":
            reason = str(answer.get("rejectedReason", "no reason given"))[:200]
            log.warning("facilitator %s: extension %s rejected: %s", path, str(name)[:40], reason)


def _snippet(body: bytes, limit: int = 120) -> str:
    text = body[:limit].decode("utf-8", errors="replace").replace("\n", " ").strip()
    return text + ("..." if len(body) > limit else "")


class FacilitatorClient:
    """One facilitator, one connection pool. Create and use it inside the running event loop."""

    def __init__(
        self,
        base_url: str,
        timeout: float = 10.0,
        max_connections: int = 256,
        observer: Observer | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        self._max_connections = max_connections
        self._observer = observer
        self._session: aiohttp.ClientSession | None = None

    def _client(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            connector = aiohttp.TCPConnector(
                limit=self._max_connections, keepalive_timeout=30, ttl_dns_cache=300
            )
            self._session = aiohttp.ClientSession(
                connector=connector,
                timeout=aiohttp.ClientTimeout(total=self.timeout),
                json_serialize=lambda obj: orjson.dumps(obj).decode(),
            )
        return self._session

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    # ------------------------------------------------------------------ calls

    async def supported(self) -> SupportedResponse:
        status, body = await self._request("GET", "/supported", None)
        if status != 200:
            raise FacilitatorBadAnswer(
                f"facilitator GET /supported answered HTTP {status}: {_snippet(body)}"
            )
        return self._parse(SupportedResponse, body, "GET /supported", status)

    async def verify(self, request: dict[str, Any]) -> VerifyResponse:
        """POST /verify. isValid false (HTTP 200, or a 4xx naming a reason) is returned."""
        status, body = await self._request("POST", "/verify", request)
        return self._answer(VerifyResponse, status, body, "/verify", "invalidReason")

    async def settle(self, request: dict[str, Any]) -> SettleResponse:
        """POST /settle. success false (HTTP 200, or a 4xx naming a reason) is returned."""
        status, body = await self._request("POST", "/settle", request)
        return self._answer(SettleResponse, status, body, "/settle", "errorReason")

    # ------------------------------------------------------------------ plumbing

    async def _request(self, method: str, path: str, payload: Any) -> tuple[int, bytes]:
        started = time.perf_counter()
        outcome = "error"
        name = path.strip("/")
        try:
            data = None if payload is None else orjson.dumps(payload)
            headers = {"Content-Type": "application/json"} if data is not None else None
            correlation = CORRELATION.get()
            if correlation is not None and headers is not None:
                headers["X-X402-Correlation-Id"] = correlation  # links the facilitator's events
            async with self._client().request(
                method, self.base_url + path, data=data, headers=headers
            ) as response:
                body = await response.read()
                outcome = str(response.status)
                answered = response.headers.get(EXTENSION_RESPONSES)
                if answered is not None:
                    _note_extension_responses(path, answered)
                return response.status, body
        except TimeoutError:
            outcome = "timeout"
            raise FacilitatorTimeout(
                f"facilitator {method} {path} did not answer within {self.timeout:g}s"
            ) from None
        except aiohttp.ClientConnectionError as exc:
            outcome = "unreachable"
            raise FacilitatorUnreachable(
                f"facilitator {method} {self.base_url}{path} unreachable: "
                f"{exc or type(exc).__name__}"
            ) from None
        except (aiohttp.ClientError, asyncio.IncompleteReadError) as exc:
            raise FacilitatorBadAnswer(
                f"facilitator {method} {path} broke the HTTP exchange: {exc or type(exc).__name__}"
            ) from None
        finally:
            if self._observer is not None:
                self._observer(name, time.perf_counter() - started, outcome)

    @staticmethod
    def _parse(model: type[M], body: bytes, what: str, status: int) -> M:
        try:
            data = orjson.loads(body)
        except orjson.JSONDecodeError:
            raise FacilitatorBadAnswer(
                f"facilitator {what} answered HTTP {status} with a body that is not JSON: "
                f"{_snippet(body)!r}"
            ) from None
        try:
            # The paywall writes answers back out (receipt headers): pydantic and orjson refuse
            # values nested ~250 deep.
            check_json_depth(data, f"facilitator {what} answer")
            return model.model_validate(data)
        except ProtocolError as exc:
            raise FacilitatorBadAnswer(f"{exc.message} (HTTP {status})") from None
        except ValidationError as exc:
            detail = describe_validation_error(exc, f"facilitator {what} answer")
            raise FacilitatorBadAnswer(f"{detail} (HTTP {status})") from None

    def _answer(self, model: type[M], status: int, body: bytes, path: str, reason_field: str) -> M:
        if status == 200:
            return self._parse(model, body, f"POST {path}", status)
        if 400 <= status < 500:
            # A 4xx that names its reason is a rejection of what we sent; anything else is a
            # facilitator we cannot understand.
            try:
                answer = self._parse(model, body, f"POST {path}", status)
            except FacilitatorError:
                answer = None
            if answer is not None and answer.model_dump(by_alias=True).get(reason_field):
                return answer
        raise FacilitatorBadAnswer(
            f"facilitator POST {path} answered HTTP {status}: {_snippet(body)!r}"
        )
