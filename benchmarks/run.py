"""`make bench`: run every benchmark module (benchmarks/bench_*.py) and print its figures.

Each module has `main() -> dict`; figures are ratios against a reference measured in the same
run, because absolute times on these machines are not stable. Run one: `make bench ARGS=chain`.
"""

from __future__ import annotations

import importlib.util
import json
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent


def load(path: Path):
    spec = importlib.util.spec_from_file_location(path.stem, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def main(argv: list[str]) -> int:
    wanted = set(argv)
    results = {}
    for path in sorted(HERE.glob("bench_*.py")):
        name = path.stem.removeprefix("bench_")
        if wanted and name not in wanted:
            continue
        print(f"== {name}", flush=True)
        started = time.perf_counter()
        results[name] = load(path).main()
        print(f"   ({time.perf_counter() - started:.1f}s)", flush=True)
    out = Path(".sandbox/reports/bench.json")
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(results, indent=2))
    print(f"\nAll figures written to {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
