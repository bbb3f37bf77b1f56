"""The tiny app the middleware unit tests pay: built inline, like starlette's own tests."""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.responses import JSONResponse
from solders.keypair import Keypair

from sandbox.server import PaymentMiddleware, Paywall, PricedRoute, PriceError, RoutePricing

PAY_TO = str(Keypair().pubkey())


def tokens_price(request) -> int:
    raw = request.query_params.get("n", "")
    if not raw.isdigit():
        raise PriceError("query parameter 'n' must be an integer")
    return int(raw) * 100


def tiny_app(paywall: Paywall) -> tuple[FastAPI, dict[str, int]]:
    """Two routes of the same price, one upfront, one failing, one dynamic, one free."""
    runs = {"a": 0, "b": 0, "up": 0, "fail": 0, "dyn": 0, "boom": 0}
    app = FastAPI()
    app.add_middleware(
        PaymentMiddleware,
        paywall=paywall,
        pricing=RoutePricing(
            [
                PricedRoute("/a", "$0.01", "Route A"),
                PricedRoute("/b", "$0.01", "Route B"),
                PricedRoute("/up", "$0.01", "Upfront", mode="upfront"),
                PricedRoute("/fail", "$0.01", "Fails"),
                PricedRoute("/boom", "$0.01", "Raises"),
                PricedRoute("/dyn", tokens_price, "Dynamic"),
                PricedRoute("/post", 5000, "Posted", methods=("POST",)),
            ]
        ),
    )

    @app.get("/a")
    async def a():
        runs["a"] += 1
        return {"content": "A"}

    @app.get("/b")
    async def b():
        runs["b"] += 1
        return {"content": "B"}

    @app.get("/up")
    async def up():
        runs["up"] += 1
        return {"content": "UP"}

    @app.get("/fail")
    async def fail():
        runs["fail"] += 1
        return JSONResponse({"error": "nope"}, status_code=500)

    @app.get("/boom")
    async def boom():
        runs["boom"] += 1
        raise RuntimeError("handler exploded")

    @app.get("/dyn")
    async def dyn(n: int):
        runs["dyn"] += 1
        return {"n": n}

    @app.post("/post")
    async def post():
        return {"posted": True}

    @app.get("/free")
    async def free():
        return {"free": True}

    return app, runs
