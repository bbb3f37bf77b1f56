from urllib.parse import urlsplit

from sandbox.protocol import decode_payment_required
from sandbox.scenario_runner import SERVER_ROUTES, Context, Skip, scenario


def _path_of(item: dict) -> str | None:
    """The route an item lists: its input.routeTemplate, else its resource URL's path."""
    template = (item.get("input") or {}).get("routeTemplate")
    url = (item.get("resource") or {}).get("url")
    return template or (urlsplit(url).path if isinstance(url, str) else None)


@scenario(
    "discovery",
    "The discovery document (/.well-known/x402) lists every priced route, each with the amount, "
    "wallet, asset and network of its live 402 and its bazaar metadata.",
)
async def discovery(ctx: Context) -> str:
    reply = await ctx.request("/.well-known/x402")
    ours = SERVER_ROUTES in ctx.capabilities
    if reply.status == 404 and not ours:
        raise Skip("the server serves no /.well-known/x402 (discovery is optional in x402)")
    ctx.expect_status(reply, 200)
    document = reply.json()
    ctx.expect(
        isinstance(document, dict) and isinstance(document.get("items"), list),
        f"the document has no items[]: {reply.describe()}",
    )
    items = {_path_of(item): item for item in document["items"] if isinstance(item, dict)}
    if ours:
        # The sample server's own table: a route added to it is held to this as well.
        from sandbox.server.app import sample_pricing

        priced = [route.path for route in sample_pricing().routes]
    else:
        priced = [ctx.paid_path]
    declared = 0
    for path in priced:
        ctx.expect(path in items, f"GET {path} is priced but not in /.well-known/x402")
        item = items[path]
        if not item.get("accepts"):  # a price set by the request: the document says what sets it
            inputs = item.get("input") or {}
            ctx.expect(inputs.get("queryParams"), f"{path}: no amount and no queryParams")
            continue
        live_reply, _offer = await ctx.challenge(path)
        live = decode_payment_required(live_reply.headers["PAYMENT-REQUIRED"])
        listed, offered = item["accepts"][0], live.accepts[0].to_wire()
        for field in ("amount", "payTo", "asset", "network", "scheme"):
            ctx.expect(
                listed.get(field) == offered.get(field),
                f"{path}: the document lists {field} {listed.get(field)!r}, its 402 offers "
                f"{offered.get(field)!r}",
            )
        bazaar = (live.extensions or {}).get("bazaar")
        if bazaar is None:
            ctx.expect(not ours, f"{path}: the sample route's 402 does not declare bazaar")
            continue
        declared += 1
        resource = live.resource.to_wire() if live.resource else {}
        for field in ("serviceName", "tags"):
            listed_value, live_value = item["resource"].get(field), resource.get(field)
            ctx.expect(
                listed_value == live_value,
                f"{path}: the document's resource.{field} is {listed_value!r}, the 402's "
                f"{live_value!r}",
            )
        method = bazaar["info"]["input"].get("method")
        ctx.expect(
            item["input"]["method"] == method, f"{path}: listed as {item['input']['method']}"
        )
        example = bazaar["info"].get("output", {}).get("example")
        ctx.expect(
            (item.get("output") or {}).get("example") == example,
            f"{path}: the document's output.example is not the 402's bazaar one",
        )
    return f"{len(priced)} priced route(s) listed as their 402s offer them; bazaar on {declared}"
