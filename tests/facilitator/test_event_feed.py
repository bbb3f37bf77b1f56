"""The facilitator's event feed (GET /_sandbox/events): every verify and settle, in order, with
the server's correlation id, resumable by id, behind the admin rule."""

from __future__ import annotations

import contextlib
import threading

import httpx
import orjson

from sandbox.events import CORRELATION_HEADER


class Reader:
    """Reads the SSE stream in a thread and keeps each event."""

    def __init__(self, url: str, headers: dict | None = None) -> None:
        self.events: list[dict] = []
        self.changed = threading.Condition()
        self.connected = threading.Event()  # headers seen: the facilitator has subscribed us
        self._thread = threading.Thread(target=self._run, args=(url, headers or {}), daemon=True)
        self._thread.start()

    def _run(self, url: str, headers: dict) -> None:
        # the facilitator stops at the end of the module: its streams are cut then
        with contextlib.suppress(httpx.HTTPError):
            self._read(url, headers)

    def _read(self, url: str, headers: dict) -> None:
        with (
            httpx.Client(timeout=httpx.Timeout(30, read=60)) as client,
            client.stream("GET", url, headers=headers) as response,
        ):
            self.connected.set()
            for line in response.iter_lines():
                if line.startswith("data: "):
                    with self.changed:
                        self.events.append(orjson.loads(line[6:]))
                        self.changed.notify_all()

    def wait_for(self, count: int, timeout: float = 30) -> list[dict]:
        with self.changed:
            assert self.changed.wait_for(lambda: len(self.events) >= count, timeout), self.events
            return list(self.events)


def test_verify_and_settle_reach_the_feed_in_order_with_their_correlation(fac, funded):
    since = fac.get("/_sandbox/settlements").status_code  # the feed needs no prior state
    assert since == 200
    stream = Reader(f"{fac.url}/_sandbox/events?since=999999999")  # new events only
    assert stream.connected.wait(30)
    payment = funded.payment()
    header = {CORRELATION_HEADER.decode(): "pay-123"}
    assert fac.post("/verify", payment, headers=header).json()["isValid"] is True
    assert fac.post("/settle", payment, headers=header).json()["success"] is True
    refused = fac.post("/settle", payment, headers={CORRELATION_HEADER.decode(): "pay-124"})
    assert refused.json()["errorReason"] == "duplicate_settlement"
    verify, settle, again = stream.wait_for(3)
    assert [verify["kind"], settle["kind"], again["kind"]] == ["verify", "settle", "settle"]
    assert verify["ok"] and verify["correlation"] == "pay-123" and verify["ms"] > 0
    assert settle["ok"] and settle["transaction"] and settle["correlation"] == "pay-123"
    assert settle["payer"] == str(funded.p.client.pubkey())
    assert not again["ok"] and again["reason"] == "duplicate_settlement"
    assert verify["id"] < settle["id"] < again["id"]
    # a reconnect resumes after the last id it saw, from the ring
    resumed = Reader(f"{fac.url}/_sandbox/events", {"Last-Event-ID": str(verify["id"])})
    assert [e["id"] for e in resumed.wait_for(2)[:2]] == [settle["id"], again["id"]]


def test_the_feed_follows_the_admin_rule(fac):
    answer = httpx.get(f"{fac.url}/_sandbox/events", headers={"Host": "evil.example"}, timeout=10)
    assert answer.status_code in (401, 403)
