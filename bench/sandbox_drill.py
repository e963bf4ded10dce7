"""Wall time of a whole sandbox drill, and how close drill's RTO/RPO come to the truth.

Runs `drill run PLAN --sandbox` (default sandbox profile) N times as a user would, against
emulators started in this process so their ground truth can be read. Prints, per run: wall
time, both RTO clocks against the sandbox's own records at full precision: service restored
(when the condition of the last verify step really held: its Job finished, its workloads became
ready) and users served (when the sandbox's public endpoint began the serving period of the
probed host that lasted to the end of verify; for a probe asked through the API server, when
the first pod behind its Service turned Ready); and drill's error on each RPO against the
sandbox's records (``drill.sandbox.truth``): RPO from data (the heartbeat the restored backup
captured, the newest heartbeat object written by t0) and RPO from backup metadata (when each
backup really started; Velero and S3 keep whole seconds of it). Peak memory is
``bench/run_memory.py``'s to measure.

    .venv/bin/python bench/sandbox_drill.py [--runs 3] [--plan region-failure]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from drill.plan import ServiceAddress, service_address
from drill.sandbox.runtime import Sandbox
from drill.sandbox.state import SandboxState, write_state
from drill.sandbox.truth import StepSeen, true_rpo
from drill.sandbox.worlds.clusters import derive
from drill.sandbox.worlds.plans import resolve_both_modes

REPO = Path(__file__).resolve().parents[1]


def parse(stamp: str) -> datetime:
    return datetime.fromisoformat(stamp.replace("Z", "+00:00"))


def one_run(plan: Path, workdir: Path) -> tuple[float, str, RpoErrors]:
    state_dir = workdir / "state"
    with Sandbox(derive(resolve_both_modes([plan])), workdir / "sandbox") as sandbox:
        write_state(
            state_dir,
            SandboxState(
                os.getpid(),
                str(sandbox.kubeconfig),
                sandbox.contexts,
                [str(plan)],
                asdict(sandbox.cloud_settings),
            ),
        )
        env = {
            **os.environ,
            "DRILL_SANDBOX_DIR": str(state_dir),
            "DRILL_REPORT_DIR": str(workdir / "reports"),
        }
        started = time.perf_counter()
        command = [sys.executable, "-m", "drill", "-q", "run", str(plan), "--sandbox"]
        result = subprocess.run(
            [*command, "--output", "json"],
            env=env, capture_output=True, text=True, check=False, cwd=workdir,
        )  # fmt: skip
        wall_s = time.perf_counter() - started
        report = json.loads(result.stdout)
        assert report["outcome"] == "passed", result.stderr[-2000:]
        return wall_s, rto_errors(sandbox, report), rpo_errors(sandbox, report)


# --- RTO, both clocks -------------------------------------------------------------------------


def rto_errors(sandbox: Sandbox, report: dict[str, Any]) -> str:
    """``RTO - truth: service restored +12.3 ms, users served +8.1 ms`` (or why not)."""
    t0 = parse(report["disaster_at"])
    restored = service_restored_truth(sandbox, report)
    served = users_served_truth(sandbox, report)
    clocks = (
        ("service restored", report["rto"]["service_restored_s"], restored, "no sandbox truth"),
        ("users served", report["rto"]["users_served_s"], served, "no serving period"),
    )
    return "RTO - truth: " + ", ".join(
        _clock_error(name, measured_s, truth, t0, why, report)
        for name, measured_s, truth, why in clocks
    )


def _clock_error(
    name: str,
    measured_s: float | None,
    truth: datetime | None,
    t0: datetime,
    why: str,
    report: dict[str, Any],
) -> str:
    if measured_s is None:
        source = report["rto"]["users_served_source"] if name == "users served" else None
        return f"{name} {source or 'not measured'}"
    if truth is None:
        return f"{name} {why}"
    return f"{name} {(measured_s - (truth - t0).total_seconds()) * 1000:+.1f} ms"


def service_restored_truth(sandbox: Sandbox, report: dict[str, Any]) -> datetime | None:
    """When the condition of the last verify step to pass really held, by the emulators."""
    passed = [s for s in report["steps"] if s["phase"] == "verify" and s["status"] == "passed"]
    if not passed:
        return None
    last = max(passed, key=lambda s: s["finished_at"])
    started = parse(report["started_at"])
    for cluster in sandbox.clusters.values():
        if last["type"] == "kube.job":
            jobs = [j for j in cluster.truth.jobs() if j.name == last["facts"].get("job")]
            if jobs:
                return jobs[-1].finished_at
        elif last["type"] == "kube.wait_ready":
            ready = [r.ready_at for r in cluster.truth.ready_events() if r.ready_at >= started]
            if ready:
                return max(ready)
    return None


def users_served_truth(sandbox: Sandbox, report: dict[str, Any]) -> datetime | None:
    """When the last of the probed targets began serving: the sandbox's public endpoint, in
    the period that held when the probes stopped; a Service asked through the API server,
    when its first pod turned Ready in this run."""
    began = []
    for probe in report["probes"]:
        address = service_address(probe["url"])
        since = (
            _public_serving_since(sandbox, probe)
            if address is None
            else _first_endpoint_since(sandbox, address, parse(report["started_at"]))
        )
        if since is None:
            return None
        began.append(since)
    return max(began, default=None)


def _public_serving_since(sandbox: Sandbox, probe: dict[str, Any]) -> datetime | None:
    host = urlsplit(probe["url"]).hostname or ""
    stopped = parse(probe["stopped_at"])
    holding = [
        p.began
        for p in sandbox.served.periods(host)
        if p.began <= stopped and (p.ended is None or p.ended >= stopped)
    ]
    return holding[-1] if holding else None


def _first_endpoint_since(
    sandbox: Sandbox, address: ServiceAddress, started: datetime
) -> datetime | None:
    # A derived world's Service NAME selects the pods of its workload NAME by this label.
    selector = {"app.kubernetes.io/instance": address.name}
    ready = [
        r.ready_at
        for cluster in sandbox.clusters.values()
        for r in cluster.truth.pods_ready(address.namespace, selector)
        if r.ready_at >= started
    ]
    return min(ready, default=None)


RpoErrors = tuple[float | None, float | None]  # (from data, from backup metadata): drill - truth


def rpo_errors(sandbox: Sandbox, report: dict[str, Any]) -> RpoErrors:
    """drill's RPO from data and from backup metadata minus the sandbox's truth of each."""
    steps = [StepSeen(s["id"], s["type"], s["facts"]) for s in report["steps"]]
    truth = true_rpo(sandbox, steps, parse(report["disaster_at"]))
    rpo = report["rpo"]
    return (
        _error(rpo["from_data_s"], truth.from_data_s),
        _error(rpo["from_backup_s"], truth.from_backup_s),
    )


def _error(measured: float | None, true: float | None) -> float | None:
    return None if measured is None or true is None else measured - true


def rpo_error_words(errors: RpoErrors) -> str:
    data, backup = (f"{e * 1000:+.1f} ms" if e is not None else "not measured" for e in errors)
    # Velero and S3 keep whole seconds: drill's figure may be up to 1 s high, never low.
    held = errors[1] is None or 0 <= errors[1] < 1
    bound = "within its whole-second resolution" if held else "OUTSIDE its [0, 1 s) resolution"
    return f"RPO from data - truth {data}, RPO from backup metadata - truth {backup} ({bound})"


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--plan", default="namespace-restore", help="a plan in plans/")
    args = parser.parse_args()
    runs, plan = args.runs, REPO / "plans" / f"{args.plan}.yaml"
    print(f"drill run {args.plan} --sandbox")
    walls = []
    for index in range(runs):
        with tempfile.TemporaryDirectory() as workdir:
            wall_s, rto_errors_text, rpo_errs = one_run(plan, Path(workdir))
        walls.append(wall_s)
        print(f"run {index + 1}: wall {wall_s:.2f} s, {rto_errors_text}, "
              f"{rpo_error_words(rpo_errs)}")  # fmt: skip
    # Peak memory is bench/run_memory.py's: RUSAGE_CHILDREN here would count this process,
    # sandbox and all, as each child was forked from it.
    print(f"median wall {statistics.median(walls):.2f} s over {runs} runs")
    return 0


if __name__ == "__main__":
    sys.exit(main())
