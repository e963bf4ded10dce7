"""Peak memory of `drill run PLAN --sandbox` and how soon it sends its first API request.

For each shipped plan, prints beside `python -c pass` (measured the same way):

- peak RSS of drill's own process: ``/usr/bin/time -v`` runs drill and reports the maximum
  resident set size of that one process (not RUSAGE_CHILDREN of this bench, which has grown);
- start to first request: from just before this bench spawns the process to the moment the
  first connection reaches one of the sandbox's HTTP emulators (Kubernetes API servers,
  Compute, Cloud DNS), both on this process's monotonic clock. Every shipped plan's first
  request goes to a Kubernetes API server (its preflight reachability check);
- the run's wall time and exit code.

The sandbox runs in this process, as ``drill sandbox up`` would run it in its own: the drill
process finds it through the state file in a private ``DRILL_SANDBOX_DIR``. Byte-code is
compiled first, as a wheel install would have done.

    .venv/bin/python bench/run_memory.py [--runs 1] [PLAN ...]
"""

from __future__ import annotations

import argparse
import compileall
import os
import re
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from drill.clock import SystemClock  # noqa: E402
from drill.sandbox import _loopback  # noqa: E402
from drill.sandbox.plans import resolve_both_modes  # noqa: E402
from drill.sandbox.runtime import Sandbox, SandboxState, write_state  # noqa: E402
from drill.sandbox.world import derive  # noqa: E402

TIME = "/usr/bin/time"
DRILL = str(Path(sys.executable).with_name("drill"))
_PEAK = re.compile(r"Maximum resident set size \(kbytes\): (\d+)")


@dataclass(frozen=True)
class Sample:
    peak_kib: int
    first_request_s: float | None
    wall_s: float
    exit_code: int


class FirstConnection:
    """When the sandbox's emulators were first reached since ``reset``."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._at: float | None = None

    def reset(self) -> None:
        with self._lock:
            self._at = None

    def seen(self) -> None:
        now = time.monotonic()
        with self._lock:
            if self._at is None:
                self._at = now

    @property
    def at(self) -> float | None:
        with self._lock:
            return self._at


@contextmanager
def noticing_connections(first: FirstConnection) -> Iterator[None]:
    """Every loopback emulator started inside reports each accepted connection to ``first``.

    The emulators keep no timed request log, and a connection is what the first request
    opens, so the bench notes accepts in the one shell every HTTP emulator shares."""
    original: Callable[..., Any] = _loopback.LoopbackServer.process_request

    def process_request(server: Any, request: Any, client_address: Any) -> None:
        first.seen()
        original(server, request, client_address)

    _loopback.LoopbackServer.process_request = process_request  # type: ignore[method-assign]
    try:
        yield
    finally:
        _loopback.LoopbackServer.process_request = original  # type: ignore[method-assign]


def measured(command: list[str], env: dict[str, str], first: FirstConnection) -> Sample:
    first.reset()
    started = time.monotonic()
    result = subprocess.run(
        [TIME, "-v", *command], cwd=REPO, env=env, capture_output=True, text=True, check=False
    )
    wall_s = time.monotonic() - started
    peak = _PEAK.search(result.stderr)
    if peak is None:
        raise SystemExit(f"{TIME} -v printed no peak for {command}: {result.stderr[-400:]}")
    reached = first.at
    return Sample(
        peak_kib=int(peak.group(1)),
        first_request_s=None if reached is None else reached - started,
        wall_s=wall_s,
        exit_code=result.returncode,
    )


def median_sample(samples: list[Sample]) -> Sample:
    firsts = [s.first_request_s for s in samples if s.first_request_s is not None]
    return Sample(
        peak_kib=int(statistics.median(s.peak_kib for s in samples)),
        first_request_s=statistics.median(firsts) if firsts else None,
        wall_s=statistics.median(s.wall_s for s in samples),
        exit_code=max(s.exit_code for s in samples),
    )


def row(name: str, sample: Sample) -> str:
    first = "-" if sample.first_request_s is None else f"{sample.first_request_s:.2f} s"
    return (
        f"{name:<40} {sample.peak_kib / 1024:>9.1f} MiB {first:>12} "
        f"{sample.wall_s:>8.1f} s {sample.exit_code:>5}"
    )


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=1, help="runs of each command (median)")
    parser.add_argument("plans", nargs="*", type=Path)
    args = parser.parse_args()
    plans = args.plans or sorted((REPO / "plans").glob("*.yaml"))
    compileall.compile_dir(str(REPO / "drill"), quiet=1)
    compileall.compile_dir(str(REPO / "providers"), quiet=1)

    first = FirstConnection()
    with (
        tempfile.TemporaryDirectory(prefix="drill-bench-") as workdir,
        noticing_connections(first),
        Sandbox(derive(resolve_both_modes(plans)), Path(workdir), clock=SystemClock()) as box,
    ):
        state = SandboxState(
            pid=os.getpid(),
            kubeconfig=str(box.kubeconfig.resolve()),
            contexts=box.contexts,
            plans=[str(p) for p in plans],
            cloud=asdict(box.cloud_settings),
        )
        write_state(Path(workdir), state)
        env = {**os.environ, "DRILL_SANDBOX_DIR": workdir, "NO_COLOR": "1"}
        commands = {"python -c pass": [sys.executable, "-c", "pass"]}
        for plan in plans:
            commands[f"drill run {plan.stem} --sandbox"] = [
                DRILL,
                "run",
                str(plan),
                "--sandbox",
                "--report-dir",
                str(Path(workdir) / "reports"),
            ]
        print(f"{'command':<40} {'peak RSS':>13} {'1st request':>12} {'wall':>10} {'exit':>5}")
        for name, command in commands.items():
            samples = [measured(command, env, first) for _ in range(args.runs)]
            print(row(name, median_sample(samples)), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
