"""Scenarios: end-to-end payment stories with on-chain assertions, and their runner.

Write one as a new module of the `scenarios/` package (see the README, "Scenarios"):

    from sandbox.scenario_runner import Context, scenario

    @scenario("my-story", "One line saying what must happen.")
    async def my_story(ctx: Context) -> str: ...
"""

from sandbox.scenario_runner.context import Balances, Context, Reply
from sandbox.scenario_runner.framework import (
    CHEATS,
    FACILITATOR_FAULTS,
    SERVER_ROUTES,
    Scenario,
    ScenarioFailed,
    Skip,
    scenario,
)

__all__ = [
    "CHEATS",
    "FACILITATOR_FAULTS",
    "SERVER_ROUTES",
    "Balances",
    "Context",
    "Reply",
    "Scenario",
    "ScenarioFailed",
    "Skip",
    "scenario",
]
