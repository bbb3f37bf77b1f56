import base64

from sandbox.protocol import PAYMENT_SIGNATURE, X_PAYMENT
from sandbox.scenario_runner import Context, scenario


def _b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


GARBAGE_TX = (
    '{"x402Version":1,"scheme":"exact","network":"solana-devnet","payload":{"transaction":"AAAA"}}'
)
WRONG_TYPES = '{"x402Version": 1, "scheme": 5, "network": [], "payload": 1}'
CASES = {
    "bad base64": (PAYMENT_SIGNATURE, "%%% not base64 %%%"),
    "bad JSON": (PAYMENT_SIGNATURE, _b64("{not json")),
    "JSON array": (X_PAYMENT, _b64("[1, 2, 3]")),
    "wrong version": (PAYMENT_SIGNATURE, _b64('{"x402Version": 7, "payload": {}}')),
    "missing fields": (PAYMENT_SIGNATURE, _b64('{"x402Version": 2}')),
    "wrong types": (X_PAYMENT, _b64(WRONG_TYPES)),
    "garbage transaction": (X_PAYMENT, _b64(GARBAGE_TX)),
}


@scenario(
    "malformed-headers",
    "Malformed payment headers get a 400 or 402 naming the problem, never content or a 5xx.",
)
async def malformed_headers(ctx: Context) -> str:
    seen = []
    for name, (header, value) in CASES.items():
        reply = await ctx.request(ctx.paid_path, {header: value})
        ctx.expect(reply.status in (400, 402), f"{name}: {reply.describe()}")
        ctx.expect(reply.error, f"{name}: the answer does not say what was wrong")
        seen.append(f"{name}={reply.status}")
    return ", ".join(seen)
