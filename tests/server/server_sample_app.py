"""The sample server's app (sandbox/server/app.py) in process, behind the fake facilitator: what
the discovery and bazaar tests read its 402s and catalogue from."""

from __future__ import annotations

import contextlib

import httpx

from sandbox.server.app import create_app
from sandbox.server.settings import ServerSettings

PAY_TO = "7Av4HisJnndF6KVnkkCwKKpxURhMjsXh7vsHHw3N5KWo"
ORIGIN = "http://127.0.0.1:4021"


@contextlib.asynccontextmanager
async def sample_client(facilitator):
    app = create_app(ServerSettings(pay_to=PAY_TO, facilitator_url=facilitator.url))
    paywall = app.state.paywall
    await paywall.start()
    assert await paywall.wait_ready(10)
    transport = httpx.ASGITransport(app=app)
    try:
        async with httpx.AsyncClient(transport=transport, base_url=ORIGIN) as http:
            yield http
    finally:
        await paywall.close()
