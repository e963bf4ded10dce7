"""How long `drill --help`, `validate`, `list` and `show` take to start, beside `python -c pass`.

Compiles byte-code first (pip compiles it as it installs; uv and PYTHONDONTWRITEBYTECODE=1
leave it out, and compiling from source would dominate), then runs every command in turn, round
after round, so a busy machine slows them all alike, and prints each one's median wall time,
its figure above the bare interpreter's, and its five costliest imports (python -X importtime,
cumulative; modules a command loads through importlib, such as step types, are not counted
there). Exits 1 if any of them imports a cloud SDK.

`validate`, `list` and `show` are measured twice: cold, computing their answer (the answer
cache off, DRILL_NO_CACHE=1), and warm, answering from an answer cache primed once before the
rounds (a fresh DRILL_CACHE_DIR); a table at the end puts the two side by side.

Beside them: the libraries the four commands cannot do without (click, PyYAML and pydantic
building one model), as a floor no change to drill goes under; and with ``--baseline DIR``
(another checkout of drill, e.g. ``git worktree add /tmp/base HEAD~3``) every drill command
again from that checkout, in the same rounds.

Wall times on a shared two-core machine move by tens of per cent from one minute to the next.
``--instructions`` also counts the instructions each command executes, once, under valgrind's
callgrind: the same count however loaded the machine is, to compare two checkouts when their
wall times are lost in the noise (each run is some fifty times slower under valgrind).

    .venv/bin/python bench/import_time.py [--runs 15] [--baseline DIR] [--instructions]
"""

from __future__ import annotations

import argparse
import compileall
import os
import re
import shutil
import site
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
HEAVY = ("kubernetes", "google.cloud", "google.api_core", "boto3", "botocore")
PLANS = sorted(str(p.relative_to(REPO)) for p in (REPO / "plans").glob("*.yaml"))
BASELINE = "python -c pass"
LIBRARIES = "click, PyYAML, one pydantic model"
_ONE_MODEL = "\n".join(
    [
        "import click, yaml",
        "from pydantic import BaseModel",
        "class M(BaseModel):",
        "    x: int",
        "M(x=1)",
    ]
)
# label -> (interpreter arguments, the target from issue 9 in ms)
REFERENCES: dict[str, tuple[list[str], int | None]] = {
    BASELINE: (["-c", "pass"], None),
    LIBRARIES: (["-c", _ONE_MODEL], None),
}
COLD = {"DRILL_NO_CACHE": "1"}
CACHED = ("validate", "list", "show")  # the commands the answer cache serves
DRILL_COMMANDS: dict[str, tuple[list[str], int | None]] = {
    "drill --help": (["-m", "drill", "--help"], 100),
    "drill validate plans/*.yaml": (["-m", "drill", "validate", *PLANS], 200),
    "drill list": (["-m", "drill", "list"], 150),
    "drill show region-failure": (["-m", "drill", "show", "region-failure"], 150),
}


@dataclass(frozen=True)
class Command:
    args: list[str]
    target_ms: int | None
    checkout: Path  # where drill is imported from (and the command runs)
    drill: bool  # a drill command: this checkout's are checked for SDK imports
    env: tuple[tuple[str, str], ...] = tuple(COLD.items())  # beside the bench's own


def commands(baseline: Path | None, answers: Path) -> dict[str, Command]:
    found = {label: Command(args, None, REPO, False) for label, (args, _) in REFERENCES.items()}
    warm = (("DRILL_CACHE_DIR", str(answers)),)
    for label, (args, target) in DRILL_COMMANDS.items():
        found[label] = Command(args, target, REPO, True)
        if args[2] in CACHED:
            found[f"{label} [warm]"] = Command(args, target, REPO, True, warm)
        if baseline is not None:
            found[f"{label} [baseline]"] = Command(args, None, baseline, True)
    return found


def compile_byte_code(checkouts: list[Path]) -> None:
    """drill's packages and the interpreter's site-packages, once; later runs find it done."""
    ours = [checkout / package for checkout in checkouts for package in ("drill", "providers")]
    for directory in (*ours, *map(Path, site.getsitepackages())):
        compileall.compile_dir(directory, quiet=1, workers=0)


def run(
    command: Command, *options: str, under: tuple[str, ...] = ()
) -> subprocess.CompletedProcess[str]:
    """The command with drill imported from its checkout, ahead of the installed one (run
    ``under`` another program, such as valgrind, when given)."""
    return subprocess.run(
        [*under, sys.executable, *options, *command.args],
        cwd=command.checkout,
        env={**os.environ, "PYTHONPATH": str(command.checkout), **dict(command.env)},
        capture_output=True,
        text=True,
        check=True,
    )


def wall_times(measured: dict[str, Command], runs: int) -> dict[str, list[float]]:
    """Each command once per round, in turn: load on the machine falls on all of them."""
    times: dict[str, list[float]] = {label: [] for label in measured}
    for _ in range(runs):
        for label, command in measured.items():
            started = time.perf_counter()
            run(command)
            times[label].append(time.perf_counter() - started)
    return times


def import_costs(command: Command) -> dict[str, int]:
    """Module -> cumulative import time in microseconds."""
    result = run(command, "-X", "importtime")
    costs = {}
    for line in result.stderr.splitlines():
        if line.startswith("import time:") and "|" in line:
            _, cumulative, name = (part.strip() for part in line.split("|"))
            if cumulative.isdigit():
                costs[name.strip()] = int(cumulative)
    return costs


_CALLGRIND = ("valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null")
_COLLECTED = re.compile(r"Collected : (\d+)")


def instructions(command: Command) -> int:
    """How many instructions the command executes, counted by callgrind."""
    found = _COLLECTED.search(run(command, under=_CALLGRIND).stderr)
    if found is None:
        raise RuntimeError("callgrind printed no instruction count")
    return int(found.group(1))


def instruction_counts(measured: dict[str, Command]) -> None:
    """Each command's instructions, in millions, and above the bare interpreter's."""
    counts = {label: instructions(command) for label, command in measured.items()}
    bare = counts[BASELINE]
    print(f"\n{'instructions (callgrind, millions)':<40} {'total':>8} {'over bare':>10}")
    for label, count in counts.items():
        print(f"{label:<40} {count / 1e6:8.1f} {(count - bare) / 1e6:10.1f}")


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--baseline", type=Path, help="another checkout of drill to compare")
    parser.add_argument(
        "--instructions", action="store_true", help="also count instructions under callgrind"
    )
    options = parser.parse_args()
    if options.instructions and shutil.which("valgrind") is None:
        parser.error("--instructions needs valgrind (Debian's package valgrind)")
    baseline = options.baseline.resolve() if options.baseline else None
    with tempfile.TemporaryDirectory(prefix="drill-answers-") as answers:
        measured = commands(baseline, Path(answers))
        compile_byte_code([REPO] + ([baseline] if baseline else []))
        for label, command in measured.items():
            if label.endswith("[warm]"):
                run(command)  # primes the cache
        times = wall_times(measured, options.runs)
        heavy_seen = report(measured, times, baseline, options.runs)
        side_by_side(times)
        if options.instructions:
            instruction_counts(measured)
    return 1 if heavy_seen else 0


def report(
    measured: dict[str, Command],
    times: dict[str, list[float]],
    baseline: Path | None,
    runs: int,
) -> bool:
    """Each command's median and costliest imports; whether any imported a cloud SDK."""
    bare = statistics.median(times[BASELINE])
    print(f"medians over {runs} interleaved runs ({sys.executable})")
    if baseline:
        print(f"[baseline]: drill imported from {baseline}")
    heavy_seen = False
    for label, command in measured.items():
        median = statistics.median(times[label])
        if label == BASELINE:
            print(f"{label:<40} {median * 1000:6.0f} ms")
            continue
        target = command.target_ms
        verdict = (
            f"; target {target} ms: {'met' if median * 1000 <= target else 'MISSED'}"
            if target
            else ""
        )
        print(
            f"{label:<40} {median * 1000:6.0f} ms  (+{(median - bare) * 1000:.0f} ms over the bare "
            f"interpreter; min {min(times[label]) * 1000:.0f} ms{verdict})"
        )
        if not command.drill or command.checkout != REPO:
            continue
        costs = import_costs(command)
        top_level = {name: us for name, us in costs.items() if "." not in name and name != "drill"}
        top = sorted(top_level.items(), key=lambda item: -item[1])[:5]
        print("    costliest imports: " + ", ".join(f"{n} {us / 1000:.0f} ms" for n, us in top))
        heavy = sorted(name for name in costs if name.startswith(HEAVY))
        heavy_seen |= bool(heavy)
        print(f"    cloud SDK modules imported: {', '.join(heavy) if heavy else 'none'}")
    return heavy_seen


def side_by_side(times: dict[str, list[float]]) -> None:
    """Cold (computing the answer) and warm (from the answer cache) medians, with the target."""
    print(f"\n{'':<40} {'cold':>8} {'warm':>8}  target")
    print(f"{BASELINE:<40} {statistics.median(times[BASELINE]) * 1000:6.0f} ms")
    for label, (_, target) in DRILL_COMMANDS.items():
        cold = f"{statistics.median(times[label]) * 1000:6.0f} ms"
        warm_times = times.get(f"{label} [warm]")
        warm = f"{statistics.median(warm_times) * 1000:6.0f} ms" if warm_times else "       -"
        print(f"{label:<40} {cold} {warm}  {target} ms")


if __name__ == "__main__":
    sys.exit(main())
