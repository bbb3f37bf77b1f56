"""The README's "Discovery (bazaar)" commands, run as written against a real stack (its URLs and
a funded payer's key put in for the defaults): each succeeds, and after the payment the section
makes the facilitator's listing and search both name the paid route."""

from __future__ import annotations

import json

import pytest
from readme_sections import run_command, section_commands

pytestmark = pytest.mark.timeout(180)


def test_the_discovery_section_runs(x402_stack, x402_payer):
    commands = section_commands("Discovery (bazaar)")
    assert any("/.well-known/x402" in c for c in commands)
    assert any("4022/discovery/resources" in c for c in commands)
    weather = f"{x402_stack.server_url}/api/weather"
    outputs = []
    for command in commands:
        code, out, err = run_command(command, x402_stack, x402_payer, pipefail=True)
        assert code == 0, (command, out[-2000:], err[-2000:])
        outputs.append((command, out))
    for command, out in outputs:
        if command.startswith("curl") and "jq" not in command:
            body = json.loads(out)
            assert body["x402Version"] == 2 and "pagination" in body, command
    listed = [json.loads(out) for c, out in outputs if "4022/discovery/" in c]
    for body in listed:
        assert weather in [item["resource"] for item in body["items"]]
