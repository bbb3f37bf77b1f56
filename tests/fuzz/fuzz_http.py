"""Sending the fuzzers' inputs: real HTTP, a few requests in flight at once.

Each hypothesis example hands its request to `Sender.send` and moves on to the next input while
worker threads (one httpx client each) wait for the answers and record them in the fuzzer's
tally: generating inputs and serving them overlap, which is what lets 10,000 inputs a fuzzer fit
the time budget on two cores. `drain()` waits for every answer.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor

import httpx
from fuzz_tally import Tally
from hypothesis import settings

IN_FLIGHT = 4

# Checks an answer below 500: None when fine, else what is wrong with it.
Check = Callable[[httpx.Response], str | None]


class Sender:
    def __init__(self, base_url: str, tally: Tally, in_flight: int = IN_FLIGHT) -> None:
        self.base_url = base_url
        self.tally = tally
        self._local = threading.local()
        self._clients: list[httpx.Client] = []
        self._lock = threading.Lock()
        self._slots = threading.BoundedSemaphore(in_flight)
        self._pool = ThreadPoolExecutor(in_flight, thread_name_prefix="fuzz-http")
        self._futures: list[Future] = []

    def send(self, method: str, path: str, what: str, check: Check | None = None, **kw) -> None:
        """Send one input (httpx.request keywords: headers=, content=); answers are recorded."""
        self._slots.acquire()
        self._futures.append(self._pool.submit(self._send, method, path, what, check, kw))

    def _send(self, method, path, what, check, kw) -> None:
        try:
            try:
                answer = self._client().request(method, path, **kw)
            except httpx.TransportError as exc:  # the connection broke: as bad as a 5xx
                self._record(0, what, repr(exc))
                return
            problem = check(answer) if check is not None and answer.status_code < 500 else None
            if problem is not None:
                self._record(-1, what, f"HTTP {answer.status_code}: {problem}")
            else:
                self._record(answer.status_code, what, answer.text)
        finally:
            self._slots.release()

    def _record(self, status: int, what: str, answer: str) -> None:
        with self._lock:
            self.tally.record(status, what, answer)

    def _client(self) -> httpx.Client:
        client = getattr(self._local, "client", None)
        if client is None:
            client = httpx.Client(base_url=self.base_url, timeout=60)
            self._local.client = client
            with self._lock:
                self._clients.append(client)
        return client

    def drain(self) -> None:
        futures, self._futures = self._futures, []
        for future in futures:
            future.result()

    def close(self) -> None:
        self.drain()
        self._pool.shutdown()
        for client in self._clients:
            client.close()


def fuzz(sender: Sender, examples: int):
    """Decorate a hypothesis test: run `examples` of it, wait for every answer, then assert
    that this fuzzer saw no 5xx (nor broken connection, nor bad answer) during it."""

    def decorate(inner):
        def run() -> None:
            before = sender.tally.mark()
            try:
                settings(max_examples=examples)(inner)()
            finally:
                sender.drain()
            sender.tally.assert_no_5xx(since=before)

        return run

    return decorate
