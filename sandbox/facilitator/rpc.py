"""A JSON-RPC client for the chain that holds up under concurrency.

One pooled aiohttp session. Calls made while earlier requests are still in flight are coalesced
into one JSON-RPC batch (up to `max_batch` calls), so 64 concurrent verifications cost a handful of
HTTP round trips instead of 64; an idle client sends each call at once, alone.

Errors, translated here and nowhere else:

    ChainError                   anything that went wrong talking to the chain
     +-- RpcError                the chain answered a JSON-RPC error object (.code, .data)
     +-- ChainUnavailable        no usable answer: connection refused, timeout, HTTP 5xx, garbage
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Any

import aiohttp
import orjson

__all__ = ["ChainClient", "ChainError", "ChainUnavailable", "RpcError"]


class ChainError(Exception):
    pass


class RpcError(ChainError):
    def __init__(self, code: int, message: str, data: Any = None) -> None:
        super().__init__(f"{message} (code {code})")
        self.code = code
        self.message = message
        self.data = data


class ChainUnavailable(ChainError):
    pass


Observer = Callable[[str, float, bool], None]  # (method, seconds, ok)


class ChainClient:
    def __init__(
        self,
        url: str,
        *,
        timeout: float = 10.0,
        batching: bool = True,
        max_batch: int = 64,
        max_inflight: int = 4,
        observe: Observer | None = None,
        connections: int = 32,
    ) -> None:
        self.url = url
        self._timeout = aiohttp.ClientTimeout(total=timeout)
        self._batching = batching
        self._max_batch = max_batch if batching else 1
        self._max_inflight = max_inflight if batching else 1_000_000
        self._observe = observe or (lambda _m, _s, _ok: None)
        self._connections = connections
        self._session: aiohttp.ClientSession | None = None
        self._queue: list[tuple[str, list, asyncio.Future]] = []
        self._scheduled = False
        self._inflight = 0
        self._tasks: set[asyncio.Task] = set()
        self._next_id = 0

    @property
    def session(self) -> aiohttp.ClientSession:
        if self._session is None:
            connector = aiohttp.TCPConnector(limit=self._connections, ttl_dns_cache=3600)
            self._session = aiohttp.ClientSession(
                connector=connector, timeout=self._timeout, json_serialize=None
            )
        return self._session

    async def close(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def call(self, method: str, params: list | None = None) -> Any:
        loop = asyncio.get_running_loop()
        future: asyncio.Future = loop.create_future()
        self._queue.append((method, params or [], future))
        if not self._scheduled:
            self._scheduled = True
            loop.call_soon(self._flush)
        started = time.perf_counter()
        ok = False
        try:
            result = await future
            ok = True
            return result
        finally:
            self._observe(method, time.perf_counter() - started, ok)

    def _flush(self) -> None:
        self._scheduled = False
        while self._queue and self._inflight < self._max_inflight:
            batch = self._queue[: self._max_batch]
            del self._queue[: self._max_batch]
            batch = [item for item in batch if not item[2].done()]  # callers that gave up
            if not batch:
                continue
            self._inflight += 1
            task = asyncio.get_running_loop().create_task(self._send(batch))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    async def _send(self, batch: list[tuple[str, list, asyncio.Future]]) -> None:
        try:
            ids = []
            requests = []
            for method, params, _future in batch:
                self._next_id += 1
                ids.append(self._next_id)
                requests.append(
                    {"jsonrpc": "2.0", "id": self._next_id, "method": method, "params": params}
                )
            body = orjson.dumps(requests if len(requests) > 1 else requests[0])
            try:
                answers = await self._post(body)
            except ChainUnavailable as exc:
                for _m, _p, future in batch:
                    if not future.done():
                        future.set_exception(exc)
                return
            by_id = {}
            if isinstance(answers, dict):
                answers = [answers]
            for answer in answers:
                if isinstance(answer, dict):
                    by_id[answer.get("id")] = answer
            for request_id, (method, _params, future) in zip(ids, batch, strict=True):
                if future.done():
                    continue
                answer = by_id.get(request_id)
                if answer is None and len(batch) == 1 and len(answers) == 1:
                    answer = answers[0]  # an error envelope with id null
                future_result(future, method, answer)
        finally:
            self._inflight -= 1
            if self._queue and not self._scheduled:
                self._scheduled = True
                asyncio.get_running_loop().call_soon(self._flush)

    async def _post(self, body: bytes) -> Any:
        try:
            async with self.session.post(
                self.url, data=body, headers={"Content-Type": "application/json"}
            ) as response:
                raw = await response.read()
                status = response.status
        except TimeoutError:
            raise ChainUnavailable(f"the chain RPC at {self.url} did not answer in time") from None
        except aiohttp.ClientError as exc:
            raise ChainUnavailable(f"the chain RPC at {self.url} is unreachable: {exc}") from None
        try:
            answers = orjson.loads(raw)
        except orjson.JSONDecodeError:
            raise ChainUnavailable(
                f"the chain RPC answered HTTP {status} with something that is not JSON"
            ) from None
        if not isinstance(answers, (list, dict)):
            raise ChainUnavailable(f"the chain RPC answered HTTP {status} with {answers!r:.80}")
        if status >= 500 and not isinstance(answers, list) and "error" not in answers:
            raise ChainUnavailable(f"the chain RPC answered HTTP {status}")
        return answers


def future_result(future: asyncio.Future, method: str, answer: dict | None) -> None:
    if answer is None:
        future.set_exception(ChainUnavailable(f"the chain RPC gave no answer to {method}"))
    elif "error" in answer and answer["error"] is not None:
        error = answer["error"]
        if isinstance(error, dict):
            future.set_exception(
                RpcError(
                    int(error.get("code", 0) or 0),
                    str(error.get("message", "error")),
                    error.get("data"),
                )
            )
        else:
            future.set_exception(RpcError(0, str(error)))
    elif "result" in answer:
        future.set_result(answer["result"])
    else:
        future.set_exception(ChainUnavailable(f"the chain RPC answer to {method} has no result"))
