"""Wall time of a whole sandbox drill, and how close drill's RTO/RPO come to the truth.

Runs `drill run PLAN --sandbox` (default sandbox profile) N times as a user would, against
emulators started in this process so their ground truth can be read. Prints, per run: wall
time, measured RTO minus true RTO (the smoke Job really finished), and drill's error on each
RPO against the sandbox's own records at full precision (``drill.sandbox.truth``): RPO from
data (the heartbeat the restored backup captured, the newest heartbeat object written by t0)
and RPO from backup metadata (when each backup really started; Velero and S3 keep whole
seconds of it); then the peak RSS of the drill processes.

    .venv/bin/python bench/sandbox_drill.py [--runs 3] [--plan region-failure]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict
from datetime import datetime
from pathlib import Path
from typing import Any

from drill.sandbox.runtime import Sandbox
from drill.sandbox.state import SandboxState, write_state
from drill.sandbox.truth import StepSeen, true_rpo
from drill.sandbox.worlds.clusters import derive
from drill.sandbox.worlds.plans import resolve_both_modes

REPO = Path(__file__).resolve().parents[1]


def parse(stamp: str) -> datetime:
    return datetime.fromisoformat(stamp.replace("Z", "+00:00"))


def one_run(plan: Path, workdir: Path) -> tuple[float, float, RpoErrors]:
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
        t0 = parse(report["disaster_at"])
        job = sandbox.clusters["dr"].truth.jobs()[0]
        rto_error = report["rto"]["measured_s"] - (job.finished_at - t0).total_seconds()
        return wall_s, rto_error, rpo_errors(sandbox, report)


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
    return f"RPO from data - truth {data}, RPO from backup metadata - truth {backup}"


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
            wall_s, rto_error, rpo_errs = one_run(plan, Path(workdir))
        walls.append(wall_s)
        print(f"run {index + 1}: wall {wall_s:.2f} s, RTO - truth {rto_error * 1000:+.0f} ms, "
              f"{rpo_error_words(rpo_errs)}")  # fmt: skip
    peak_mib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    print(f"median wall {statistics.median(walls):.2f} s over {runs} runs; "
          f"peak RSS of a drill process {peak_mib:.0f} MiB")  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
