"""The check-client result table of interop/README.md: every example client through every case.

    .venv/bin/python interop/check_client_table.py            # prints the Markdown table

Each client runs as a black box (`x402-sandbox check-client --json`, its own stack per client);
a client whose runtime is missing (.venv-interop, the workspace's node_modules:
`make interop` installs them) is left out, saying so on stderr. A client marked † copies no
extra.memo: it is run with `--route-binding none`, so that the other cases can judge it.
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

MEMO_LESS = ["--route-binding", "none"]  # for a client that copies no extra.memo (marked †)

# column -> (what must exist, check-client's flags, the command); interop/README.md says what
# each column runs
CLIENTS: dict[str, tuple[Path, list[str], list[str]]] = {
    "sandbox payer": (
        ROOT / ".venv" / "bin" / "python", [],
        [str(ROOT / ".venv/bin/python"), "-m", "sandbox.payer", "{url}", "--keypair",
         "{keypair}", "--rpc-url", "{rpc}"],
    ),
    "x402 2.25.0 (Python)": (
        ROOT / ".venv-interop" / "bin" / "python", [],
        [str(ROOT / ".venv-interop/bin/python"), str(ROOT / "interop/sdk/client_pay.py"), "{url}",
         "--keypair", "{keypair}", "--rpc-url", "{rpc}"],
    ),
    "@x402/fetch 2.27.0": (
        ROOT / "node_modules" / "@x402" / "fetch", [],
        [NODE, str(ROOT / "interop/ts/client_pay.mjs"), "{url}", "{keypair}", "{rpc}"],
    ),
    **{
        f"{script}{' †' if flags else ''}": (
            ROOT / "node_modules" / package, flags,
            [*EXAMPLE_ENV, NODE, str(ROOT / "examples" / script), "{url}"],
        )
        for script, package, flags in [
            ("x402-fetch-client.js", "@x402/fetch", []),
            ("faremeter-client.js", "@faremeter/fetch", []),
            ("faremeter-retry-client.js", "@faremeter/fetch", []),
            ("x402-solana-client.js", "x402-solana", MEMO_LESS),
            ("x402-fetch-v1-client.js", "x402-fetch", MEMO_LESS),
        ]
    },
}  # fmt: skip


def run(flags: list[str], command: list[str]) -> list[dict]:
    with tempfile.TemporaryDirectory() as work:
        report = Path(work) / "report.json"
        result = subprocess.run(
            [str(ROOT / ".venv/bin/python"), "-m", "sandbox.cli", "check-client",
             "--json", str(report), *flags, "--", *command],
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
    for name, (needed, flags, command) in CLIENTS.items():
        if not needed.exists():
            print(f"left out {name}: {needed} is missing", file=sys.stderr)
            continue
        print(f"running {name}...", file=sys.stderr)
        columns[name] = run(flags, command)
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
    if any(flags for _, flags, _ in CLIENTS.values()):
        print("\n† copies no `extra.memo`: run with `--route-binding none` (offers without it,")
        print("except in `memo-copied`), so that every other case can judge it.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
