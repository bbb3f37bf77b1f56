"""How many users a load shape wants at time t: pure functions (no Locust import), tested
on their own and used by loadtests.shapes."""

from __future__ import annotations

import math

__all__ = ["spike_users", "step_users"]


def step_users(t: float, users: int, steps: int, duration: float) -> int:
    """users/steps more users every duration/steps seconds, up to `users`."""
    steps = max(1, steps)
    step = min(steps, int(t // (duration / steps)) + 1)
    return max(1, math.ceil(users * step / steps))


def spike_users(t: float, users: int, duration: float) -> int:
    """A fifth of the users, all of them in the middle fifth of the run, then a fifth again."""
    base = max(1, users // 5)
    return users if 0.4 * duration <= t < 0.6 * duration else base
