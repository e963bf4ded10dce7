"""The fault matrix: whole drills of region-failure against the sandbox, one fault each.

Each case injects one fault, runs the drill in this process, and says what happened: the exit
code, the step the report blames, and whether everything that existed before is as it was and
nothing the run made remains. `tests/drills/test_fault_matrix.py` asserts every row;
`bench/fault_matrix.py` prints the table.
"""

from __future__ import annotations

import json
import os
import signal
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tests.drills.conftest import REPO, Drill, snapshot

PLAN = REPO / "plans" / "region-failure.yaml"
WATCHED = ("production", "default", "velero")
# Waits a fault makes endless end within seconds: the plan's own timeouts, shortened.
SHORT_TIMEOUTS = (("timeout: 20m", "timeout: 4s"), ("timeout: 10m", "timeout: 3s"))


@dataclass(frozen=True)
class Fault:
    name: str
    inject: Callable[[Drill], object]
    exit_code: int
    blamed: str | None = None  # the step whose status is not passed, if one must be
    short_timeouts: bool = False
    switch_step_timeout: str | None = None  # a timeout for the switch steps, if shortened
    # A change to the world made before "before" is taken: part of the world, not the run's.
    prepare: Callable[[Drill], object] | None = None


@dataclass(frozen=True)
class Outcome:
    fault: str
    exit_code: int
    blamed: list[str]
    leaked: list[str]  # what differs from before, or remains of the run; empty when clean

    @property
    def clean(self) -> bool:
        return not self.leaked


def world(drill: Drill) -> dict[str, Any]:
    return {"cloud": drill.sandbox.cloud.snapshot(), "dr": snapshot(drill.dr, WATCHED)}


def wait_gone(drill: Drill, namespace: str, within_s: float = 10) -> bool:
    deadline = time.monotonic() + within_s
    while drill.dr.get("v1", "Namespace", namespace) is not None:
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


def plan_for(fault: Fault, workdir: Path) -> Path:
    text = PLAN.read_text()
    if fault.short_timeouts:
        for old, new in SHORT_TIMEOUTS:
            text = text.replace(old, new)
    if fault.switch_step_timeout:
        for step in ("switch-dns", "switch-backend"):
            text = text.replace(
                f"    - id: {step}\n",
                f"    - id: {step}\n      timeout: {fault.switch_step_timeout}\n",
            )
    path = workdir / "region-failure.yaml"
    path.write_text(text)
    return path


def run_case(drill: Drill, fault: Fault) -> Outcome:
    if fault.prepare is not None:
        fault.prepare(drill)
    before = world(drill)
    plan = plan_for(fault, drill.workdir)
    fault.inject(drill)
    result = drill.run(str(plan), output="json")
    report = json.loads(result.stdout) if result.stdout else {"steps": []}
    blamed = [s["id"] for s in report["steps"] if s["status"] not in ("passed", "skipped")]
    leaked = leftovers(drill, before)
    return Outcome(fault.name, result.returncode, blamed, leaked)


def leftovers(drill: Drill, before: dict[str, Any]) -> list[str]:
    found = []
    if not wait_gone(drill, "dr-test"):
        found.append("namespace dr-test remains")
    after = world(drill)
    for key, value in before["dr"].items():
        if after["dr"].get(key) != value:
            found.append(f"{key} changed")
    found += [f"{key} was made and remains" for key in after["dr"] if key not in before["dr"]]
    for name in ("dns", "compute", "gcs"):
        if after["cloud"].get(name) != before["cloud"].get(name):
            found.append(f"cloud {name} differs")
    restores = drill.dr.list("velero.io/v1", "Restore")
    found += [f"Restore {r['metadata']['name']} remains" for r in restores]
    jobs = drill.dr.list("batch/v1", "Job")
    found += [f"Job {j['metadata']['name']} remains" for j in jobs]
    return found


def sigterm_when(drill: Drill, event: str, step_id: str) -> None:
    """Send this process SIGTERM once the run's journal shows ``event`` for ``step_id``."""

    def watch() -> None:
        deadline = time.monotonic() + 60
        needle = f'"event": "{event}", "step_id": "{step_id}"'
        while time.monotonic() < deadline:
            for journal in (drill.workdir / "reports").glob("*/journal.jsonl"):
                if needle in journal.read_text():
                    os.kill(os.getpid(), signal.SIGTERM)
                    return
            time.sleep(0.005)

    threading.Thread(target=watch, name="sigterm", daemon=True).start()


def _kube(drill: Drill) -> Any:
    return drill.dr.faults


FAULTS: list[Fault] = [
    Fault("none", lambda d: None, 0),
    Fault("API 5xx burst", lambda d: _kube(d).fail_requests(4, status=503), 0),
    Fault(
        "429 with Retry-After on the restore",
        lambda d: _kube(d).fail_requests(2, status=429, path_contains="restores"),
        0,
    ),
    Fault(
        "500 on the restore wait's re-list",
        lambda d: _kube(d).fail_requests(1, status=500, path_contains="restores", method="GET"),
        0,
    ),
    Fault("reset mid-watch", lambda d: _kube(d).drop_new_watches(3, abrupt=True), 0),
    Fault(
        "410 Gone on the watches (ERROR event)",
        lambda d: _kube(d).expire_watches(6, in_stream=True),
        0,
    ),
    Fault(
        "410 Gone on the watches (HTTP status)",
        lambda d: _kube(d).expire_watches(6, in_stream=False),
        0,
    ),
    Fault(
        "backup storage location Unavailable",
        lambda d: None,
        3,
        "velero-backup-fresh",
        prepare=lambda d: d.dr.velero.set_storage_location("default", available=False),
    ),
    Fault(
        "someone changed the shadow record before the run",
        lambda d: None,
        0,
        prepare=lambda d: d.sandbox.cloud.dns.set_record(
            "example-prod", "example-com", "drill-api.example.com.", "A", 120, ["192.0.2.44"]
        ),
    ),
    Fault(
        "restore PartiallyFailed",
        lambda d: _kube(d).fail_restore(phase="PartiallyFailed"),
        3,
        "restore-namespace",
    ),
    Fault(
        "restore Failed",
        lambda d: _kube(d).fail_restore(phase="Failed"),
        3,
        "restore-namespace",
    ),
    Fault(
        "restore stuck",
        lambda d: _kube(d).hang_restore(),
        3,
        "restore-namespace",
        short_timeouts=True,
    ),
    Fault(
        "pods never ready",
        lambda d: _kube(d).never_ready("dr-test", "api-server"),
        3,
        "workloads-ready",
        short_timeouts=True,
    ),
    Fault(
        "smoke test fails",
        lambda d: _kube(d).fail_job("dr-test", "drill-smoke-*"),
        3,
        "smoke-test",
    ),
    # A change that never completes: the switch fails, and its undo (stuck as well) cannot be
    # confirmed either, so a human is needed: exit 4, never "rolled back".
    Fault(
        "DNS change stuck pending",
        lambda d: d.sandbox.cloud.dns.stuck_changes(),
        4,
        "switch-dns",
        switch_step_timeout="3s",
    ),
    Fault(
        "DNS 412 (the record changed under the switch)",
        lambda d: d.sandbox.cloud.dns.fail_requests(1, 412, "*/changes", method="POST"),
        3,
        "switch-dns",
    ),
    Fault(
        "someone changed the backends before the patch",
        lambda d: d.sandbox.cloud.compute.concurrent_update("example-prod", "api-backend-drill"),
        3,
        "switch-backend",
    ),
    Fault(
        "backend operation stuck",
        lambda d: d.sandbox.cloud.compute.stuck_operations(),
        4,
        "switch-backend",
        switch_step_timeout="3s",
    ),
    Fault(
        "SIGTERM during the restore",
        lambda d: sigterm_when(d, "prior_state", "restore-namespace"),
        130,
        "switch-dns",  # never started: the restore may finish before it sees the signal
    ),
    Fault(
        "SIGTERM with the DNS change in flight",
        lambda d: sigterm_when(d, "step_note", "switch-dns"),
        130,
        "switch-dns",
    ),
    Fault(
        "SIGTERM with the backend operation in flight",
        lambda d: sigterm_when(d, "step_note", "switch-backend"),
        130,
        "switch-backend",
    ),
    Fault(
        "SIGTERM during the scale-up",
        lambda d: sigterm_when(d, "prior_state", "scale-up-standby"),
        130,
    ),
]
