"""The README's "Sign in with x (SIWS)" commands, run as written against a real stack (its URLs
and a funded payer's key put in for the defaults): paid once, then signed in and served without
a second charge."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.timeout(180)

ROOT = Path(__file__).resolve().parents[2]
HEADING = "\n### Sign in with x (SIWS)\n"


def section_commands() -> list[str]:
    readme = (ROOT / "README.md").read_text()
    section = readme.split(HEADING, 1)[1].split("\n## ", 1)[0].split("\n### ", 1)[0]
    (block,) = re.findall(r"```bash\n(.*?)```", section, flags=re.S)
    lines = [line.split("  #", 1)[0].strip() for line in block.replace("\\\n", " ").splitlines()]
    return [line for line in lines if line]


def usdc(rpc, wallet: str) -> int:
    from solders.pubkey import Pubkey

    from sandbox.protocol import USDC_DEVNET_MINT, associated_token_address

    ata = associated_token_address(Pubkey.from_string(wallet), Pubkey.from_string(USDC_DEVNET_MINT))
    return int(rpc.call("getTokenAccountBalance", str(ata))["value"]["amount"])


def test_the_sign_in_section_runs(x402_stack, x402_payer, x402_rpc):
    commands = section_commands()
    assert len(commands) == 2 and commands[1].endswith("--sign-in")
    cli = ROOT / ".venv/bin/x402-sandbox"
    env = {**os.environ, "X402_SANDBOX_RPC_URL": x402_stack.rpc_url}
    before = usdc(x402_rpc, x402_payer.address)
    results = []
    for command in commands:
        line = (
            command.replace("http://127.0.0.1:4021", x402_stack.server_url)
            .replace(".sandbox/keys/payer-0.json", str(x402_payer.path))
            .replace(".venv/bin/x402-sandbox", str(cli) if cli.exists() else
                     f"{sys.executable} -m sandbox.cli")
        )  # fmt: skip
        done = subprocess.run(
            ["bash", "-c", line], capture_output=True, text=True, timeout=60, env=env, cwd=ROOT
        )
        results.append((done.returncode, done.stdout + done.stderr))
    (paid, paid_out), (signed, signed_out) = results
    assert paid == 0 and "receipt: settled" in paid_out, paid_out
    assert signed == 0 and "signed in: served without paying" in signed_out, signed_out
    assert usdc(x402_rpc, x402_payer.address) == before - 10_000  # $0.01, once
