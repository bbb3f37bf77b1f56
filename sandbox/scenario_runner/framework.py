"""How a scenario is written: a decorated async function that receives a `Context`.

    @scenario("happy-path-v2", "A v2 client pays $0.01 and gets the content once.")
    async def happy_path_v2(ctx: Context) -> str:
        payer = await ctx.new_payer()
        ...
        ctx.expect(reply.status == 200, f"paid request answered {reply.status}")
        return "paid 0.01 USDC, receipt on chain"          # the detail shown in the report

A scenario fails by raising `ScenarioFailed` (what `ctx.expect` does), is skipped by raising
`Skip` (what `needs=` does for targets that cannot fault or cheat), and passes otherwise.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

# Capabilities a target may have; a scenario that needs one the target lacks is skipped.
CHEATS = "cheats"  # the sandbox chain's sandbox_* methods (funding, slots, chain faults)
FACILITATOR_FAULTS = "facilitator-faults"  # the sandbox facilitator's /_sandbox/faults
SERVER_ROUTES = "sandbox-routes"  # the sample server's fixed routes (upfront, broken, ...)

# What each capability is, for the reason a skipped scenario gives.
NEEDS_TEXT = {
    CHEATS: "the sandbox chain's cheat codes (sandbox_* RPC methods)",
    FACILITATOR_FAULTS: "the sandbox facilitator's fault injection (/_sandbox/faults)",
    SERVER_ROUTES: "the sample server's routes (/api/upfront, /api/inference, /api/broken)",
}


class ScenarioFailed(AssertionError):
    """An expectation did not hold; the message is the report's detail."""


class Skip(Exception):
    """The scenario cannot run against this target; the message says why."""


ScenarioFn = Callable[..., Awaitable[str | None]]


@dataclass(frozen=True)
class Scenario:
    name: str
    story: str
    fn: ScenarioFn
    needs: frozenset[str] = field(default_factory=frozenset)
    tags: frozenset[str] = field(default_factory=frozenset)
    module: str = ""


REGISTRY: dict[str, Scenario] = {}


def scenario(
    name: str, story: str, *, needs: tuple[str, ...] = (), tags: tuple[str, ...] = ()
) -> Callable[[ScenarioFn], ScenarioFn]:
    """Register a scenario under `name` with a one-line `story`."""

    def register(fn: ScenarioFn) -> ScenarioFn:
        if name in REGISTRY and REGISTRY[name].fn is not fn:
            raise ValueError(f"two scenarios are named {name!r}")
        REGISTRY[name] = Scenario(name, story, fn, frozenset(needs), frozenset(tags), fn.__module__)
        return fn

    return register
