"""Load shapes, chosen by name (X402_LOADTEST_SHAPE) so one locustfile serves them all.

    constant   no shape class: Locust's own --users/--spawn-rate/--run-time
    step       ramp in steps: X402_LOADTEST_STEPS steps (default 4) up to the users, each
               holding an equal share of the duration
    spike      a baseline of a fifth of the users, a spike to all of them for the middle
               fifth of the run, back to the baseline
    rate       constant arrival rate: the users at once, each pacing itself so all together
               start X402_LOADTEST_RATE iterations per second (see loadtests.runtime.pacing)
Shapes run on the master only and stop the test themselves after X402_LOADTEST_DURATION
seconds. A locustfile exposes the chosen one with `LoadShape = selected_shape()`; Locust picks
up the shape class it finds in the locustfile's namespace.
"""

from __future__ import annotations

import os
from collections.abc import Mapping

from locust import LoadTestShape

from loadtests.shape_math import spike_users, step_users

__all__ = ["SHAPES", "SpikeShape", "StepShape", "selected_shape"]

SHAPES = ("constant", "step", "spike", "rate")


class _EnvShape(LoadTestShape):
    abstract = True

    def __init__(self, env: Mapping[str, str] | None = None) -> None:
        super().__init__()
        env = os.environ if env is None else env
        self.users = max(1, int(env.get("X402_LOADTEST_USERS", "10")))
        self.spawn_rate = float(env.get("X402_LOADTEST_SPAWN_RATE", "") or self.users)
        self.duration = float(env.get("X402_LOADTEST_DURATION", "60"))
        self.steps = max(1, int(env.get("X402_LOADTEST_STEPS", "4")))

    def users_at(self, t: float) -> int:
        raise NotImplementedError

    def tick(self) -> tuple[int, float] | None:
        t = self.get_run_time()
        if t >= self.duration:
            return None
        return self.users_at(t), self.spawn_rate


class StepShape(_EnvShape):
    """users/steps more users every duration/steps seconds."""

    abstract = True  # made concrete by selected_shape()

    def users_at(self, t: float) -> int:
        return step_users(t, self.users, self.steps, self.duration)


class SpikeShape(_EnvShape):
    """A fifth of the users, then all of them in the middle fifth, then a fifth again."""

    abstract = True

    def users_at(self, t: float) -> int:
        return spike_users(t, self.users, self.duration)


class ConstantShape(_EnvShape):
    """All users, for the duration (used for the arrival-rate profile: pacing does the rest)."""

    abstract = True

    def users_at(self, t: float) -> int:
        return self.users


def selected_shape(env: Mapping[str, str] | None = None) -> type[LoadTestShape] | None:
    """A concrete shape class for X402_LOADTEST_SHAPE, or None for plain constant users."""
    env = os.environ if env is None else env
    name = env.get("X402_LOADTEST_SHAPE", "constant").strip() or "constant"
    base = {"step": StepShape, "spike": SpikeShape, "rate": ConstantShape}.get(name)
    if name == "constant":
        return None
    if base is None:
        raise ValueError(f"unknown load shape {name!r}; choose one of {', '.join(SHAPES)}")
    return type(base.__name__.replace("Shape", "") + "LoadShape", (base,), {"abstract": False})
