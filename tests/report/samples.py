"""Reports built directly from the models, with every status a renderer has to show."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from drill.report import (
    ClientCutover,
    Objective,
    ProbeAttempt,
    ProbePhase,
    ProbeReport,
    RollbackCheck,
    RollbackReport,
    Rpo,
    Rto,
    RunReport,
    StepReport,
    UndoReport,
)

T0 = datetime(2026, 11, 1, 2, 0, tzinfo=UTC)
PLAN = "shop-failover"
# Quotes a remote system's answer: pipes, markup and ampersands must survive every format.
DNS_ERROR = "412 Precondition <Failed> | record changed & moved"


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def ran(
    step_id: str, phase: str, start_s: float, duration_s: float, **changes: object
) -> StepReport:
    values: dict[str, object] = {
        "id": step_id,
        "type": "http.check",
        "phase": phase,
        "description": f"check {step_id}",
        "status": "passed",
        "started_at": at(start_s),
        "finished_at": at(start_s + duration_s),
        "duration_s": duration_s,
        "attempts": 1,
    }
    values.update(changes)
    return StepReport.model_validate(values)


def unstarted(step_id: str, phase: str, status: str, reason: str) -> StepReport:
    return StepReport.model_validate(
        {
            "id": step_id,
            "type": "kube.scale",
            "phase": phase,
            "description": f"scale {step_id}",
            "status": status,
            "skip_reason": reason,
        }
    )


def mixed_report(**changes: object) -> RunReport:
    """Passed, failed, skipped and not-run steps; RTO missed; one undo failed."""
    steps = [
        ran(
            "backup-fresh",
            "preflight",
            0,
            2,
            type="velero.backup_fresh",
            summary="backup b1 completed, 10m00s old",
            facts={"backup": "b1", "age_s": 600.0, "complete": True, "location": None},
        ),
        ran("restore-ns", "restore", 2, 60, type="velero.restore", attempts=2),
        ran("switch-dns", "failover", 62, 8, type="dns.switch", status="failed", error=DNS_ERROR),
        unstarted("scale-up", "failover", "not_run", "an earlier step failed"),
        unstarted("public-endpoint", "verify", "skipped", "the public endpoint serves users"),
        unstarted("smoke", "verify", "not_run", "an earlier step failed"),
        ran("drop-namespace", "cleanup", 75, 1, type="kube.namespace"),
    ]
    undo = [
        UndoReport(
            step_id="switch-dns",
            type="dns.switch",
            status="failed",
            detail="record changed since the switch: left alone",
            started_at=at(70),
            duration_s=3,
        ),
        UndoReport(
            step_id="restore-ns",
            type="velero.restore",
            status="undone",
            detail="deleted restore r1",
            started_at=at(73),
            duration_s=2,
        ),
    ]
    values: dict[str, object] = {
        "run_id": f"{PLAN}-20261101-020000-abcd",
        "plan": PLAN,
        "plan_file": f"plans/{PLAN}.yaml",
        "service": "shop",
        "tier": "critical",
        "mode": "drill",
        "outcome": "rollback_incomplete",
        "exit_code": 4,
        "started_at": T0,
        "finished_at": at(76),
        "disaster_at": T0,
        "disaster_at_source": "run start",
        "recovery_point": T0 - timedelta(minutes=10),
        "recovered_at": None,
        "rpo": Rpo(target_s=3600, measured_s=600, margin_s=3000, met=True, source="b1"),
        "rto": Rto(
            target_s=900,
            measured_s=1200,
            margin_s=-300,
            met=False,
            source="t0 to the last verify step passing",
        ),
        "contexts": {"dr": "kind-dr"},
        "steps": steps,
        "undo": undo,
        "journal": f"reports/{PLAN}-20261101-020000-abcd/journal.jsonl",
        "rollback_command": f"drill rollback {PLAN}-20261101-020000-abcd --report-dir reports",
        "notes": ["switch-dns | still points at the DR region"],
    }
    values.update(changes)
    return RunReport.model_validate(values)


def not_measured(target_s: float, met: bool | None, source: str) -> Objective:
    return Objective(target_s=target_s, measured_s=None, margin_s=None, met=met, source=source)


def read_back(verified: bool | None = False) -> RollbackReport:
    """A rollback of 5 s whose read-back found one object equal, one changed by someone (text
    quoting a remote system) and, unless verified, one that could not be read."""
    checks = [
        RollbackCheck(
            step_id="restore-ns",
            target="namespace dr-test",
            status="equal",
            detail="gone, absent as drill found it",
        ),
        RollbackCheck(
            step_id="switch-dns",
            target="A record shop.example.com.",
            status="equal" if verified else "differs",
            detail=f"192.0.2.9 ttl 30 <{DNS_ERROR}>, not 10.0.0.1 ttl 300 as drill found it",
        ),
    ]
    if verified is None:
        checks.append(
            RollbackCheck(
                step_id="scale-up",
                target="Deployment dr-test/shop",
                status="not verified",
                detail="could not read it back: permission denied",
            )
        )
    return RollbackReport(
        started_at=at(70), finished_at=at(75), duration_s=5.0, verified=verified, checks=checks
    )


def probe_timeline(pattern: str, start_s: float, phase: str) -> list[ProbeAttempt]:
    """One attempt a second from ``start_s``: ``+`` answered 200 in 12 ms, ``-`` 503 in 3 ms,
    ``x`` refused (no answer)."""
    made = []
    for index, mark in enumerate(pattern):
        answered = mark != "x"
        made.append(
            ProbeAttempt(
                at=at(start_s + index),
                ok=mark == "+",
                status=(200 if mark == "+" else 503) if answered else None,
                latency_ms=(12.0 if mark == "+" else 3.0) if answered else None,
                error=None if mark == "+" else "connection <refused> & reset",
                phase=phase,
            )
        )
    return made


def probed_report(**changes: object) -> RunReport:
    """A passed drill whose probe was served 6 s after t0, and two DNS switches as clients
    met them (one measured, one without verify nameservers)."""
    timeline = probe_timeline("xx---", 0, "failover") + probe_timeline("+++++", 5, "verify")
    probe = ProbeReport(
        name="users",
        url="https://drill-api.example.com/healthz?token=***",
        interval_s=1.0,
        successes_needed=3,
        attempts=10,
        successes=5,
        success_ratio=0.5,
        downtime_s=5.0,
        users_served_at=at(5),
        started_at=at(0),
        stopped_at=at(10),
        phases=[
            ProbePhase(phase="failover", attempts=5, successes=0, success_ratio=0.0),
            ProbePhase(
                phase="verify",
                attempts=5,
                successes=5,
                success_ratio=1.0,
                latency_p50_ms=12.0,
                latency_p95_ms=12.0,
            ),
        ],
        timeline=timeline,
    )
    cutovers = [
        ClientCutover(
            step_id="switch-dns",
            record="drill-api.example.com.",
            visible_after_s=1.5,
            old_ttl_s=300,
            worst_case_s=301.5,
        ),
        ClientCutover(
            step_id="switch-dns-2",
            record="drill-www.example.com.",
            visible_after_s=None,
            old_ttl_s=60,
            worst_case_s=None,
            not_measured="not measured: no verify nameservers",
        ),
    ]
    values: dict[str, object] = {
        "outcome": "passed",
        "exit_code": 0,
        "steps": [
            ran("switch-dns", "failover", 0, 4, type="dns.switch"),
            ran("verify-ready", "verify", 4, 6, type="kube.wait_ready"),
        ],
        "undo": [],
        "finished_at": at(12),
        "recovered_at": at(10),
        "rto": Rto(
            target_s=900,
            measured_s=10,
            margin_s=890,
            met=True,
            source="t0 to the last verify step passing",
            service_restored_s=10,
            users_served_s=5,
            users_served_source="t0 to the first of 3 or more successes in a row (probe users)",
        ),
        "probes": [probe],
        "client_cutover": cutovers,
        "rollback_command": None,
        "notes": [],
    }
    values.update(changes)
    return mixed_report(**values)
