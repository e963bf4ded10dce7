"""The fault matrix: whole drills of region-failure against the sandbox, one fault each.

Each case injects one fault, runs the drill in this process, and says what happened: the exit
code, the step the report blames, and whether everything that existed before is as it was and
nothing the run made remains. Faults of the sandbox's catalogue (``drill sandbox faults``) are
named as ``--fault`` takes them and armed by the run itself, so the names never drift; the
operator's own faults (signals) and changes made to the world beforehand are the test's.
`tests/drills/test_fault_matrix.py` asserts every row; `bench/fault_matrix.py` prints the
table.
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

from drill.plan import load_plan, resolve
from drill.sandbox.worlds.faults import FaultSpec, planned_actions
from drill.tiers import DEFAULT_TIERS
from tests.child import REPO
from tests.drills.conftest import Drill, snapshot

PLAN = REPO / "plans" / "region-failure.yaml"
WATCHED = ("production", "default", "velero")
# Waits a fault makes endless end within seconds: the plan's own timeouts, shortened.
SHORT_TIMEOUTS = (("timeout: 20m", "timeout: 4s"), ("timeout: 10m", "timeout: 3s"))


@dataclass(frozen=True)
class Fault:
    name: str
    exit_code: int
    blamed: str | None = None  # the step whose status is not passed, if one must be
    # A fault of the catalogue (`drill sandbox faults`), NAME or NAME@STEP, as `--fault` takes
    # it: the run arms it itself, through the sandbox's control endpoint.
    fault: str | None = None
    inject: Callable[[Drill], object] = lambda drill: None  # what the test does itself
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
    faults = (fault.fault,) if fault.fault else ()
    result = drill.run(str(plan), output="json", faults=faults)
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


def world_fault(name: str) -> Callable[[Drill], None]:
    """Make catalogue fault ``name`` part of the world before the run (its actions applied
    to the sandbox directly, as the run's own arming would)."""

    def apply(drill: Drill) -> None:
        loaded = load_plan(PLAN, DEFAULT_TIERS)
        plan = resolve(loaded.plan, loaded.source, "drill", DEFAULT_TIERS, drill.sandbox.contexts)
        for action in planned_actions(FaultSpec(name), plan):
            drill.sandbox.apply(action)

    return apply


def change_shadow_record(drill: Drill) -> None:
    """Someone else's change to the record the drill will switch, made before it reads it."""
    dns = drill.sandbox.cloud.dns
    assert dns is not None, "the sandbox has no Cloud DNS"
    dns.set_record(
        "example-prod", "example-com", "drill-api.example.com.", "A", 120, ["192.0.2.44"]
    )


FAULTS: list[Fault] = [
    Fault("none", 0),
    Fault("API 5xx burst", 0, fault="api-5xx"),
    Fault("429 with Retry-After on the restore", 0, fault="api-throttled@restore-namespace"),
    Fault("500 on the restore wait's re-list", 0, fault="restore-relist-500"),
    Fault("reset mid-watch", 0, fault="watch-reset"),
    Fault("410 Gone on the watches (ERROR event)", 0, fault="watch-expired"),
    Fault("410 Gone on the watches (HTTP status)", 0, fault="watch-gone"),
    Fault(
        "backup storage location Unavailable",
        3,
        "velero-backup-fresh",
        prepare=world_fault("backup-location-unavailable"),
    ),
    Fault(
        "someone changed the shadow record before the run",
        0,
        prepare=change_shadow_record,
    ),
    Fault("restore PartiallyFailed", 3, "restore-namespace", fault="restore-partially-failed"),
    Fault("restore Failed", 3, "restore-namespace", fault="restore-failed"),
    Fault(
        "restore stuck",
        3,
        "restore-namespace",
        fault="restore-stuck@restore-namespace",
        short_timeouts=True,
    ),
    Fault(
        "pods never ready",
        3,
        "workloads-ready",
        fault="pods-never-ready",
        short_timeouts=True,
    ),
    Fault("smoke test fails", 3, "smoke-test", fault="job-fails@smoke-test"),
    # curl -f meets the 500 of the Service's pods: the Job fails after its retries.
    Fault("smoke target answers 500", 3, "smoke-test", fault="smoke-target-500@smoke-test"),
    # A change that never completes: the switch fails, and its undo (stuck as well) cannot be
    # confirmed either, so a human is needed: exit 4, never "rolled back".
    Fault(
        "DNS change stuck pending",
        4,
        "switch-dns",
        fault="dns-change-stuck@switch-dns",
        switch_step_timeout="3s",
    ),
    Fault("DNS 412 (the record changed under the switch)", 3, "switch-dns", fault="dns-conflict"),
    Fault(
        "someone changed the backends before the patch",
        3,
        "switch-backend",
        fault="backend-conflict",
    ),
    Fault(
        "backend operation stuck",
        4,
        "switch-backend",
        fault="backend-operation-stuck",
        switch_step_timeout="3s",
    ),
    Fault(
        "the new backends never pass health checks",
        3,
        "switch-backend",
        fault="backend-never-healthy@switch-backend",
        switch_step_timeout="3s",
    ),
    Fault(
        "SIGTERM during the restore",
        130,
        "switch-dns",  # never started: the restore may finish before it sees the signal
        inject=lambda d: sigterm_when(d, "prior_state", "restore-namespace"),
    ),
    Fault(
        "SIGTERM with the DNS change in flight",
        130,
        "switch-dns",
        inject=lambda d: sigterm_when(d, "step_note", "switch-dns"),
    ),
    Fault(
        "SIGTERM with the backend operation in flight",
        130,
        "switch-backend",
        inject=lambda d: sigterm_when(d, "step_note", "switch-backend"),
    ),
    Fault(
        "SIGTERM during the scale-up",
        130,
        inject=lambda d: sigterm_when(d, "prior_state", "scale-up-standby"),
    ),
]
