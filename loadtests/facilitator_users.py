"""Locust users for a facilitator: POST /verify and POST /settle with pre-signed payments.

Payments come from the process's PaymentProducer (loadtests.producer), started when the test
starts, so the request timed is the facilitator's work only. A verify is a success when the
answer is HTTP 200 with isValid true; a settle when HTTP 200 with success true (each settle
payment is used once, and counted for the reconciliation).
"""

from __future__ import annotations

from typing import Any

import gevent.lock
import orjson
from locust import FastHttpUser, events, task
from locust.runners import MasterRunner

from loadtests.accounting import ACCOUNTING
from loadtests.producer import PaymentProducer
from loadtests.runtime import pacing, runtime

__all__ = ["FacilitatorUser", "SettleUser", "VerifyUser", "producer"]

_JSON = {"Content-Type": "application/json"}
VERIFY_REUSE = 4  # a verify payment is sent this many times before it is replaced

_producer: PaymentProducer | None = None
_lock = gevent.lock.Semaphore()
_reuse = 1


def producer(environment: Any) -> PaymentProducer:
    """The process's producer, started on first use (once, even with many users waiting)."""
    global _producer
    with _lock:
        if _producer is None:
            rt = runtime()
            made = PaymentProducer(environment, rt.targets, rt.pool, rt.chain, reuse=_reuse)
            made.start()
            _producer = made
    return _producer


def use_reuse(times: int) -> None:
    """Called by a locustfile: how often one pre-signed payment may be sent."""
    global _reuse
    _reuse = times


@events.test_start.add_listener
def _start_producer(environment: Any, **_kwargs: Any) -> None:
    if not isinstance(environment.runner, MasterRunner):
        producer(environment)


@events.test_stop.add_listener
def _stop_producer(environment: Any, **_kwargs: Any) -> None:
    global _producer
    with _lock:
        if _producer is not None:
            _producer.stop()
            _producer = None


class FacilitatorUser(FastHttpUser):
    abstract = True
    wait_time = pacing()
    network_timeout = 30.0
    connection_timeout = 10.0

    def post(self, endpoint: str) -> tuple[str, dict | None]:
        payer, body = producer(self.environment).take()
        with self.client.post(
            f"/{endpoint}", data=body, headers=_JSON, name=endpoint, catch_response=True
        ) as response:
            try:
                answer = orjson.loads(response.content or b"")
            except orjson.JSONDecodeError:
                answer = None
            if response.status_code != 200 or not isinstance(answer, dict):
                response.failure(f"HTTP {response.status_code}: {(response.text or '')[:120]}")
                return payer, None
            ok_key, reason_key = (
                ("isValid", "invalidReason") if endpoint == "verify" else ("success", "errorReason")
            )
            if answer.get(ok_key) is not True:
                response.failure(str(answer.get(reason_key) or answer)[:160])
                return payer, None
            response.success()
            return payer, answer


class VerifyUser(FacilitatorUser):
    abstract = True

    @task
    def verify(self) -> None:
        self.post("verify")


class SettleUser(FacilitatorUser):
    abstract = True

    @task
    def settle(self) -> None:
        payer, answer = self.post("settle")
        if answer is not None:
            ACCOUNTING.record_payment(payer, runtime().targets.amount, answer.get("transaction"))
