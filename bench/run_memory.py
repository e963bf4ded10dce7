"""Peak memory of `drill run PLAN --sandbox` and how soon it sends its first API request.

For each shipped plan, prints beside `python -c pass` (measured the same way):

- peak RSS of drill's own process: ``/usr/bin/time -v`` runs drill and reports the maximum
  resident set size of that one process (not RUSAGE_CHILDREN of this bench, which has grown);
- start to first request: from just before this bench spawns the process to the moment the
  first connection reaches one of the sandbox's HTTP emulators (Kubernetes API servers,
  Compute, Cloud DNS), both on this process's monotonic clock. Every shipped plan's first
  request goes to a Kubernetes API server (its preflight reachability check). Beside it, the
  CPU seconds (user + system, /proc/PID/stat) the process had used at that moment, which a
  busy shared machine inflates far less than wall time;
- the process's whole CPU time (user + system, from ``/usr/bin/time -v``), wall time and exit
  code.

Beside ``python -c pass``, a floor: the same interpreter importing the libraries drill cannot
send its first request without (click, PyYAML, pydantic and the kubernetes client, whose
kubeconfig handling the request needs). It sends no request: its wall and CPU columns are the
least any drill can spend before its first one.

The sandbox runs in this process, as ``drill sandbox up`` would run it in its own: the drill
process finds it through the state file in a private ``DRILL_SANDBOX_DIR``. Byte-code is
compiled first, as a wheel install would have done. With ``--runs N`` every command runs once
per round, in turn, so a busy machine slows them all alike; with ``--baseline DIR`` (another
checkout of drill) each plan also runs with drill imported from there, in the same rounds.

With ``--installed VENV`` each plan also runs with the ``drill`` of another virtualenv: one
holding only the runtime lock, as the image does, measures what users run (the dev venv also
holds test tools that libraries pick up when present: kubernetes imports kubernetes-validate;
the build lock is there only so that pip can install drill itself without build isolation).

    python3 -m venv /tmp/runtime
    /tmp/runtime/bin/pip install --require-hashes \
        -r requirements/runtime.txt -r requirements/build.txt
    /tmp/runtime/bin/pip install --no-deps --no-build-isolation -e .

    .venv/bin/python bench/run_memory.py [--runs 1] [--baseline DIR] [--installed VENV] [PLAN ...]
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
from drill.sandbox import emulator  # noqa: E402
from drill.sandbox.runtime import Sandbox  # noqa: E402
from drill.sandbox.state import SandboxState, write_state  # noqa: E402
from drill.sandbox.worlds.clusters import derive  # noqa: E402
from drill.sandbox.worlds.plans import resolve_both_modes  # noqa: E402

TIME = "/usr/bin/time"
DRILL = str(Path(sys.executable).with_name("drill"))
_PEAK = re.compile(r"Maximum resident set size \(kbytes\): (\d+)")
_CPU = re.compile(r"(?:User|System) time \(seconds\): ([\d.]+)")
FLOOR = "import click, yaml, pydantic, kubernetes"


@dataclass(frozen=True)
class Sample:
    peak_kib: int
    first_request_s: float | None  # wall time from spawn to the first connection
    first_cpu_s: float | None  # CPU the process had used by then (load-independent)
    first_server: str
    cpu_s: float  # the whole process's, user + system
    wall_s: float
    exit_code: int


@dataclass
class _Reached:
    at: float
    cpu_s: float | None
    server: str


class FirstConnection:
    """When the sandbox's emulators were first reached since ``expect``, and how much CPU the
    measured process had used by then."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._reached: _Reached | None = None
        self._launcher_pid = 0

    def expect(self, launcher_pid: int) -> None:
        """A new run: ``launcher_pid`` is /usr/bin/time, whose one child is the process."""
        with self._lock:
            self._reached = None
            self._launcher_pid = launcher_pid

    def seen(self, server: str) -> None:
        now = time.monotonic()
        with self._lock:
            if self._reached is None:
                self._reached = _Reached(now, _cpu_s(self._launcher_pid), server)

    @property
    def reached(self) -> _Reached | None:
        with self._lock:
            return self._reached


def _cpu_s(launcher_pid: int) -> float | None:
    """User + system CPU seconds of the launcher's child so far, from /proc."""
    try:
        children = Path(f"/proc/{launcher_pid}/task/{launcher_pid}/children").read_text().split()
        fields = Path(f"/proc/{children[0]}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None
    utime, stime = int(fields[11]), int(fields[12])  # fields 14 and 15 of proc(5)
    return (utime + stime) / os.sysconf("SC_CLK_TCK")


@contextmanager
def noticing_connections(first: FirstConnection) -> Iterator[None]:
    """Every loopback emulator started inside reports each accepted connection to ``first``.

    The emulators keep no timed request log, and a connection is what the first request
    opens, so the bench notes accepts in the one shell every HTTP emulator shares."""
    original: Callable[..., Any] = emulator.LoopbackServer.process_request

    def process_request(server: Any, request: Any, client_address: Any) -> None:
        first.seen(server.name)
        original(server, request, client_address)

    emulator.LoopbackServer.process_request = process_request  # type: ignore[method-assign,assignment]
    try:
        yield
    finally:
        emulator.LoopbackServer.process_request = original  # type: ignore[method-assign]


def measured(command: list[str], env: dict[str, str], first: FirstConnection) -> Sample:
    started = time.monotonic()
    with subprocess.Popen(
        [TIME, "-v", *command],
        cwd=REPO,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    ) as process:
        first.expect(process.pid)
        _, stderr = process.communicate()
    wall_s = time.monotonic() - started
    peak = _PEAK.search(stderr)
    if peak is None:
        raise SystemExit(f"{TIME} -v printed no peak for {command}: {stderr[-400:]}")
    reached = first.reached
    return Sample(
        peak_kib=int(peak.group(1)),
        first_request_s=None if reached is None else reached.at - started,
        first_cpu_s=None if reached is None else reached.cpu_s,
        first_server="" if reached is None else reached.server,
        cpu_s=sum(float(seconds) for seconds in _CPU.findall(stderr)),
        wall_s=wall_s,
        exit_code=process.returncode,
    )


def median_sample(samples: list[Sample]) -> Sample:
    def median(values: list[float | None]) -> float | None:
        known = [v for v in values if v is not None]
        return statistics.median(known) if known else None

    return Sample(
        peak_kib=int(statistics.median(s.peak_kib for s in samples)),
        first_request_s=median([s.first_request_s for s in samples]),
        first_cpu_s=median([s.first_cpu_s for s in samples]),
        first_server=samples[0].first_server,
        cpu_s=statistics.median(s.cpu_s for s in samples),
        wall_s=statistics.median(s.wall_s for s in samples),
        exit_code=max(s.exit_code for s in samples),
    )


HEADER = (
    f"{'command':<58} {'peak RSS':>12} {'1st request':>12} {'CPU by then':>12} "
    f"{'CPU':>8} {'wall':>8} {'exit':>5}  first reached"
)


def row(name: str, sample: Sample) -> str:
    def seconds(value: float | None) -> str:
        return "-" if value is None else f"{value:.2f} s"

    return (
        f"{name:<58} {sample.peak_kib / 1024:>8.1f} MiB {seconds(sample.first_request_s):>12} "
        f"{seconds(sample.first_cpu_s):>12} {seconds(sample.cpu_s):>8} {seconds(sample.wall_s):>8} "
        f"{sample.exit_code:>5}  "
        f"{sample.first_server}"
    )


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=1, help="runs of each command (median)")
    parser.add_argument("--baseline", type=Path, help="another checkout of drill to compare")
    parser.add_argument(
        "--installed", type=Path, metavar="VENV", help="also run the drill of this virtualenv"
    )
    parser.add_argument("plans", nargs="*", type=Path)
    args = parser.parse_args()
    plans = args.plans or sorted((REPO / "plans").glob("*.yaml"))
    checkouts = {"": REPO} | ({" [baseline]": args.baseline.resolve()} if args.baseline else {})
    for checkout in checkouts.values():
        compileall.compile_dir(str(checkout / "drill"), quiet=1)
        compileall.compile_dir(str(checkout / "providers"), quiet=1)

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
        # name -> (command, its environment): drill imported from the checkout named.
        commands = {"python -c pass": ([sys.executable, "-c", "pass"], env)}
        pythons = {"": sys.executable} | (
            {f" [{args.installed.name}]": str(args.installed / "bin" / "python")}
            if args.installed
            else {}
        )
        for suffix, python in pythons.items():
            commands[f"python -c '{FLOOR}'{suffix}"] = ([python, "-c", FLOOR], env)
        for plan in plans:
            for suffix, checkout in checkouts.items():
                reports = Path(workdir) / f"reports{suffix.strip(' []')}"
                command = [DRILL, "run", str(plan), "--sandbox", "--report-dir", str(reports)]
                checkout_env = {**env, "PYTHONPATH": str(checkout)}
                commands[f"drill run {plan.stem} --sandbox{suffix}"] = (command, checkout_env)
            if args.installed:
                installed = str(args.installed / "bin" / "drill")
                reports = Path(workdir) / "reports-installed"
                command = [installed, "run", str(plan), "--sandbox", "--report-dir", str(reports)]
                commands[f"drill run {plan.stem} --sandbox [{args.installed.name}]"] = (
                    command,
                    env,
                )
        samples: dict[str, list[Sample]] = {name: [] for name in commands}
        for _ in range(args.runs):
            for name, (command, command_env) in commands.items():
                samples[name].append(measured(command, command_env, first))
        if args.baseline:
            print(f"[baseline]: drill imported from {args.baseline.resolve()}")
        if args.installed:
            print(f"[{args.installed.name}]: the drill of {args.installed.resolve()}")
        print(HEADER)
        for name in commands:
            print(row(name, median_sample(samples[name])), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
