"""Process-wide state of a Locust process: targets, wallet pool, chain view, accounting hooks.

Built lazily on first use, so a master that runs no users never needs the keypairs, and a
locustfile stays a declaration. Importing this module imports Locust (and so gevent's monkey
patching): the CLI never imports it.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from locust import constant, constant_pacing, events

from loadtests import web_tab  # noqa: F401  (the x402 tab of the web UI)
from loadtests.accounting import ACCOUNTING
from loadtests.chain_view import ChainView
from loadtests.targets import Targets
from loadtests.wallets import WalletPool

__all__ = ["Runtime", "fire", "pacing", "runtime"]


class Runtime:
    def __init__(self) -> None:
        self.targets = Targets.from_env()
        self._pool: WalletPool | None = None
        self._chain: ChainView | None = None

    @property
    def pool(self) -> WalletPool:
        if self._pool is None:
            self.targets.require("keys_dir")
            assert self.targets.keys_dir is not None
            self._pool = WalletPool.from_folder(self.targets.keys_dir, self.targets.payers)
        return self._pool

    @property
    def chain(self) -> ChainView:
        if self._chain is None:
            self.targets.require("rpc_url")
            assert self.targets.rpc_url is not None
            self._chain = ChainView(self.targets.rpc_url)
        return self._chain


_runtime: Runtime | None = None


def runtime() -> Runtime:
    global _runtime
    if _runtime is None:
        _runtime = Runtime()
    return _runtime


def pacing() -> Callable[[Any], float]:
    """No think time (closed loop, as fast as the target answers) unless X402_LOADTEST_RATE
    asks for a constant arrival rate: then each user paces itself to rate/users iterations/s."""
    targets = runtime().targets
    if targets.rate:
        users = max(1, targets.users or 1)
        return constant_pacing(users / targets.rate)
    return constant(0)


def fire(
    environment: Any,
    request_type: str,
    name: str,
    started: float,
    exception: BaseException | None = None,
    length: int = 0,
) -> None:
    """Report one phase as its own Locust request (perf_counter `started`, now as the end)."""
    environment.events.request.fire(
        request_type=request_type,
        name=name,
        response_time=(time.perf_counter() - started) * 1000.0,
        response_length=length,
        exception=exception,
        context={},
    )


@events.test_start.add_listener
def _on_test_start(environment: Any, **_kwargs: Any) -> None:
    ACCOUNTING.reset()


@events.request.add_listener
def _on_request(name: str, exception: BaseException | None = None, **_kwargs: Any) -> None:
    if exception is not None:
        ACCOUNTING.record_failure(name, str(exception) or type(exception).__name__)


@events.test_stop.add_listener
def _on_test_stop(environment: Any, **_kwargs: Any) -> None:
    ACCOUNTING.write(runtime().targets.out_dir)


@events.quitting.add_listener
def _on_quitting(environment: Any, **_kwargs: Any) -> None:
    ACCOUNTING.write(runtime().targets.out_dir)
