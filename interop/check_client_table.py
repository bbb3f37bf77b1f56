"""The check-client result table of interop/README.md: every example client through every case.

    .venv/bin/python interop/check_client_table.py            # prints the Markdown table

Each client runs as a black box (`x402-sandbox check-client --json`, its own stack per client);
a client whose runtime is missing (.venv-interop, interop/ts/node_modules, examples/node_modules:
`make interop` and `make test-js` install them) is left out, saying so on stderr.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
USDC = "4zMMC9srt5Ri5X14GAgXhaHii3GnPAEERYPJgZJDncDU"
NODE = shutil.which("node") or "node"
# The example scripts read the sandbox's stack.env names: set from check-client's placeholders.
EXAMPLE_ENV = [
    "/usr/bin/env", "X402_SANDBOX_PAYER_KEYPAIR={keypair}", "X402_SANDBOX_RPC_URL={rpc}",
    f"X402_SANDBOX_USDC_MINT={USDC}",
]  # fmt: skip

# column -> (what must exist, the command); interop/README.md says what each column runs
CLIENTS: dict[str, tuple[Path, list[str]]] = {
    "sandbox payer": (
        ROOT / ".venv" / "bin" / "python",
        [str(ROOT / ".venv/bin/python"), "-m", "sandbox.payer", "{url}", "--keypair",
         "{keypair}", "--rpc-url", "{rpc}"],
    ),
    "x402 2.25.0 (Python)": (
        ROOT / ".venv-interop" / "bin" / "python",
        [str(ROOT / ".venv-interop/bin/python"), str(ROOT / "interop/sdk/client_pay.py"), "{url}",
         "--keypair", "{keypair}", "--rpc-url", "{rpc}"],
    ),
    "@x402/fetch 2.27.0": (
        ROOT / "interop" / "ts" / "node_modules" / "@x402",
        [NODE, str(ROOT / "interop/ts/client_pay.mjs"), "{url}", "{keypair}", "{rpc}"],
    ),
    "x402-fetch-client.js": (
        ROOT / "examples" / "node_modules" / "@x402",
        [*EXAMPLE_ENV, NODE, str(ROOT / "examples/x402-fetch-client.js"), "{url}"],
    ),
    "faremeter-client.js": (
        ROOT / "examples" / "node_modules" / "@faremeter",
        [*EXAMPLE_ENV, NODE, str(ROOT / "examples/faremeter-client.js"), "{url}"],
    ),
}  # fmt: skip


def run(command: list[str]) -> list[dict]:
    with tempfile.TemporaryDirectory() as work:
        report = Path(work) / "report.json"
        result = subprocess.run(
            [str(ROOT / ".venv/bin/python"), "-m", "sandbox.cli", "check-client",
             "--json", str(report), "--", *command],
            capture_output=True, text=True, timeout=600, cwd=ROOT,
        )  # fmt: skip
        if result.returncode == 2 or not report.exists():
            raise RuntimeError(f"check-client could not run {command[0]}: {result.stderr}")
        return json.loads(report.read_text())["cases"]


def verdict(case: dict) -> str:
    if case["passed"]:
        return "pass"
    return "**FAIL**" if case["level"] == "MUST" else "warn"


def main() -> int:
    columns: dict[str, list[dict]] = {}
    for name, (needed, command) in CLIENTS.items():
        if not needed.exists():
            print(f"left out {name}: {needed} is missing", file=sys.stderr)
            continue
        print(f"running {name}...", file=sys.stderr)
        columns[name] = run(command)
    if not columns:
        return 1
    names = list(columns)
    cases = [c["case"] for c in columns[names[0]]]
    print("| case | " + " | ".join(names) + " |")
    print("|---|" + "---|" * len(names))
    for index, case in enumerate(cases):
        level = columns[names[0]][index]["level"]
        cells = [verdict(columns[n][index]) for n in names]
        print(f"| `{case}` ({level}) | " + " | ".join(cells) + " |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
