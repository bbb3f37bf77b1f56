"""Running a README section's commands as written against a test stack: the section's one bash
block, its lines (continuations joined, comments cut), and each line with the stack's URLs, a
funded payer's key and this checkout's CLI put in for the README's defaults."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def section_commands(heading: str) -> list[str]:
    """The commands of the section under `### heading`, up to the next heading."""
    readme = (ROOT / "README.md").read_text()
    section = readme.split(f"\n### {heading}\n", 1)[1].split("\n## ", 1)[0].split("\n### ", 1)[0]
    (block,) = re.findall(r"```bash\n(.*?)```", section, flags=re.S)
    lines = [line.split("  #", 1)[0].strip() for line in block.replace("\\\n", " ").splitlines()]
    return [line for line in lines if line]


def run_command(command: str, stack, payer, *, pipefail: bool = False):
    """Run one README line against `stack`, paying as `payer`: (exit code, stdout, stderr)."""
    cli = ROOT / ".venv/bin/x402-sandbox"
    line = (
        command.replace("http://127.0.0.1:4021", stack.server_url)
        .replace("http://127.0.0.1:4022", stack.facilitator_url)
        .replace(".sandbox/keys/payer-0.json", str(payer.path))
        .replace(".venv/bin/x402-sandbox", str(cli) if cli.exists() else
                 f"{sys.executable} -m sandbox.cli")
    )  # fmt: skip
    shell = ["bash", "-o", "pipefail", "-c", line] if pipefail else ["bash", "-c", line]
    env = {**os.environ, "X402_SANDBOX_RPC_URL": stack.rpc_url}
    done = subprocess.run(shell, capture_output=True, text=True, timeout=60, env=env, cwd=ROOT)
    return done.returncode, done.stdout, done.stderr


def usdc(rpc, wallet: str) -> int:
    """The wallet's devnet USDC, atomic units, from the chain."""
    from solders.pubkey import Pubkey

    from sandbox.protocol import USDC_DEVNET_MINT, associated_token_address

    ata = associated_token_address(Pubkey.from_string(wallet), Pubkey.from_string(USDC_DEVNET_MINT))
    return int(rpc.call("getTokenAccountBalance", str(ata))["value"]["amount"])
