"""--event-feed off: the server publishes nothing, and its feed says how to turn it on."""

from __future__ import annotations

import httpx

from sandbox.events import FEED_OFF, EventFeed
from sandbox.server.app import create_app
from sandbox.server.cli import build_parser
from sandbox.server.settings import ServerSettings

PAY_TO = "7Av4HisJnndF6KVnkkCwKKpxURhMjsXh7vsHHw3N5KWo"


def test_a_disabled_feed_keeps_nothing() -> None:
    feed = EventFeed("server", enabled=False)
    assert feed.publish("payment_required", route="/a") is None
    assert len(feed.ring) == 0
    on = EventFeed("server")
    assert on.publish("payment_required", route="/a")["id"] == 1 and len(on.ring) == 1


def test_the_flag_and_its_environment_variable(monkeypatch) -> None:
    assert build_parser().parse_args([]).event_feed == "on"
    assert build_parser().parse_args(["--event-feed", "off"]).event_feed == "off"
    monkeypatch.setenv("X402_SANDBOX_SERVER_EVENT_FEED", "off")
    assert build_parser().parse_args([]).event_feed == "off"


async def test_the_feed_endpoint_answers_404_when_off_and_nothing_is_kept() -> None:
    for enabled in (False, True):
        settings = ServerSettings(
            pay_to=PAY_TO, facilitator_url="http://127.0.0.1:9", event_feed=enabled
        )
        app = create_app(settings)
        paywall = app.state.paywall
        assert paywall.feed.enabled is enabled
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1") as client:
            if not enabled:
                off = await client.get("/_sandbox/events")
                assert off.status_code == 404 and off.json() == {"error": FEED_OFF}
        paywall.feed.publish("payment_required", route="/api/weather")
        assert len(paywall.feed.ring) == (1 if enabled else 0)
        await paywall.close()
