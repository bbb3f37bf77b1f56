"""The README's "Discovery (bazaar)" commands, run as written against a real stack (its URLs and
a funded payer's key put in for the defaults): each succeeds, and after the payment the section
makes the facilitator's listing and search both name the paid route."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.timeout(180)

ROOT = Path(__file__).resolve().parents[2]


def section_commands() -> list[str]:
    readme = (ROOT / "README.md").read_text()
    section = readme.split("\n### Discovery (bazaar)\n", 1)[1].split("\n## ", 1)[0]
    (block,) = re.findall(r"```bash\n(.*?)```", section, flags=re.S)
    lines = [line.split("  #", 1)[0].strip() for line in block.replace("\\\n", " ").splitlines()]
    return [line for line in lines if line]


def test_the_discovery_section_runs(x402_stack, x402_payer):
    commands = section_commands()
    assert any("/.well-known/x402" in c for c in commands)
    assert any("4022/discovery/resources" in c for c in commands)
    cli = ROOT / ".venv/bin/x402-sandbox"
    env = {**os.environ, "X402_SANDBOX_RPC_URL": x402_stack.rpc_url}
    weather = f"{x402_stack.server_url}/api/weather"
    outputs = []
    for command in commands:
        line = (
            command.replace("http://127.0.0.1:4021", x402_stack.server_url)
            .replace("http://127.0.0.1:4022", x402_stack.facilitator_url)
            .replace(".sandbox/keys/payer-0.json", str(x402_payer.path))
            .replace(".venv/bin/x402-sandbox", str(cli) if cli.exists() else
                     f"{sys.executable} -m sandbox.cli")
        )  # fmt: skip
        done = subprocess.run(
            ["bash", "-o", "pipefail", "-c", line],
            capture_output=True, text=True, timeout=60, env=env, cwd=ROOT,
        )  # fmt: skip
        assert done.returncode == 0, (command, done.stdout[-2000:], done.stderr[-2000:])
        outputs.append((command, done.stdout))
    for command, out in outputs:
        if command.startswith("curl") and "jq" not in command:
            body = json.loads(out)
            assert body["x402Version"] == 2 and "pagination" in body, command
    listed = [json.loads(out) for c, out in outputs if "4022/discovery/" in c]
    for body in listed:
        assert weather in [item["resource"] for item in body["items"]]
