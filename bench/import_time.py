"""How long `drill --help`, `validate`, `list` and `show` take to start, beside `python -c pass`.

Compiles byte-code first (pip compiles it as it installs; uv and PYTHONDONTWRITEBYTECODE=1
leave it out, and compiling from source would dominate), then runs every command in turn, round
after round, so a busy machine slows them all alike, and prints each one's median wall time,
its figure above the bare interpreter's, and its five costliest imports (python -X importtime,
cumulative). Exits 1 if any of them imports a cloud SDK.

    .venv/bin/python bench/import_time.py [--runs 15]
"""

from __future__ import annotations

import argparse
import compileall
import site
import statistics
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
HEAVY = ("kubernetes", "google.cloud", "google.api_core", "boto3", "botocore")
PLANS = sorted(str(p.relative_to(REPO)) for p in (REPO / "plans").glob("*.yaml"))
BASELINE = "python -c pass"
# label -> (interpreter arguments, the target from issue 9 in ms)
COMMANDS: dict[str, tuple[list[str], int | None]] = {
    BASELINE: (["-c", "pass"], None),
    "drill --help": (["-m", "drill", "--help"], 100),
    "drill validate plans/*.yaml": (["-m", "drill", "validate", *PLANS], 200),
    "drill list": (["-m", "drill", "list"], 150),
    "drill show region-failure": (["-m", "drill", "show", "region-failure"], 150),
}


def compile_byte_code() -> None:
    """drill's packages and the interpreter's site-packages, once; later runs find it done."""
    for directory in (REPO / "drill", REPO / "providers", *map(Path, site.getsitepackages())):
        compileall.compile_dir(directory, quiet=1, workers=0)


def wall_times(runs: int) -> dict[str, list[float]]:
    """Each command once per round, in turn: load on the machine falls on all of them."""
    times: dict[str, list[float]] = {label: [] for label in COMMANDS}
    for _ in range(runs):
        for label, (args, _) in COMMANDS.items():
            started = time.perf_counter()
            subprocess.run([sys.executable, *args], cwd=REPO, capture_output=True, check=True)
            times[label].append(time.perf_counter() - started)
    return times


def import_costs(args: list[str]) -> dict[str, int]:
    """Module -> cumulative import time in microseconds."""
    result = subprocess.run(
        [sys.executable, "-X", "importtime", *args],
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
    parser.add_argument("--runs", type=int, default=15)
    runs = parser.parse_args().runs
    compile_byte_code()
    times = wall_times(runs)
    bare = statistics.median(times[BASELINE])
    print(f"medians over {runs} interleaved runs ({sys.executable})")
    heavy_seen = False
    for label, (args, target) in COMMANDS.items():
        median = statistics.median(times[label])
        if label == BASELINE:
            print(f"{label:<30} {median * 1000:6.0f} ms")
            continue
        verdict = f"target {target} ms: {'met' if median * 1000 <= (target or 0) else 'MISSED'}"
        print(
            f"{label:<30} {median * 1000:6.0f} ms  (+{(median - bare) * 1000:.0f} ms over the bare "
            f"interpreter; min {min(times[label]) * 1000:.0f} ms; {verdict})"
        )
        costs = import_costs(args)
        top_level = {name: us for name, us in costs.items() if "." not in name and name != "drill"}
        top = sorted(top_level.items(), key=lambda item: -item[1])[:5]
        print("    costliest imports: " + ", ".join(f"{n} {us / 1000:.0f} ms" for n, us in top))
        heavy = sorted(name for name in costs if name.startswith(HEAVY))
        heavy_seen |= bool(heavy)
        print(f"    cloud SDK modules imported: {', '.join(heavy) if heavy else 'none'}")
    return 1 if heavy_seen else 0


if __name__ == "__main__":
    sys.exit(main())
