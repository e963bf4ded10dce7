"""How long `drill --help` and `drill validate` take to start, and what they import.

Prints the median wall time of N runs of each command and its five costliest imports
(python -X importtime, cumulative microseconds). Exits 1 if a cloud SDK is imported.

    .venv/bin/python bench/import_time.py [--runs 5]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
HEAVY = ("kubernetes", "google.cloud", "google.api_core", "boto3", "botocore")
COMMANDS = {
    "drill --help": ["--help"],
    "drill validate plans/*.yaml": [
        "validate",
        *sorted(str(p) for p in (REPO / "plans").glob("*.yaml")),
    ],
}


def wall_times(args: list[str], runs: int) -> list[float]:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        subprocess.run(
            [sys.executable, "-m", "drill", *args], cwd=REPO, capture_output=True, check=True
        )
        times.append(time.perf_counter() - started)
    return times


def import_costs(args: list[str]) -> dict[str, int]:
    result = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "drill", *args],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=True,
    )
    costs = {}
    for line in result.stderr.splitlines():
        if line.startswith("import time:") and "|" in line:
            _, cumulative, name = (part.strip() for part in line.split("|"))
            if cumulative.isdigit():
                costs[name.strip()] = int(cumulative)
    return costs


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=5)
    runs = parser.parse_args().runs
    heavy_seen = False
    for label, args in COMMANDS.items():
        times = wall_times(args, runs)
        costs = import_costs(args)
        top_level = {name: us for name, us in costs.items() if "." not in name}
        heavy = sorted(name for name in costs if name.startswith(HEAVY))
        heavy_seen |= bool(heavy)
        print(
            f"{label}: median {statistics.median(times) * 1000:.0f} ms over {runs} runs "
            f"(min {min(times) * 1000:.0f} ms)"
        )
        top = sorted(top_level.items(), key=lambda item: -item[1])[:5]
        print(
            f"  import drill.cli: {costs.get('drill.cli', 0) / 1000:.0f} ms; costliest libraries: "
            + ", ".join(f"{name} {us / 1000:.0f} ms" for name, us in top if name != "drill")
        )
        print(f"  cloud SDK modules imported: {', '.join(heavy) if heavy else 'none'}")
    return 1 if heavy_seen else 0


if __name__ == "__main__":
    sys.exit(main())
