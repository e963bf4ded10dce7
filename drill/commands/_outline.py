"""A resolved plan as text or data: what `drill show` and `drill run --dry-run` print."""

from __future__ import annotations

from pydantic import JsonValue

from drill.durations import format_duration
from drill.plan import PHASES, ExecutionPlan, ResolvedProbe, ResolvedStep
from drill.redact import redact_url


def outline_text(plan: ExecutionPlan) -> str:
    lines = [
        f"{plan.name} ({plan.mode} mode): {plan.description}".rstrip(": "),
        f"service {plan.service}, tier {plan.tier}: {plan.targets.describe(plan.tier)}",
    ]
    if plan.contexts:
        lines.append(
            "contexts: " + ", ".join(f"{role} -> {ctx}" for role, ctx in plan.contexts.items())
        )
    if plan.lock:
        lines.append(f"lock: Lease {plan.lock[1]}/drill-{plan.name} in {plan.lock[0]}")
    lines += _probe_lines(plan)
    number = 0
    for phase in PHASES:
        stages = plan.phases.get(phase, ())
        if not stages:
            continue
        lines += ["", phase + (" (only when rolling back)" if phase == "rollback" else "")]
        for stage in stages:
            group = f"parallel group {stage.group_id}" if stage.group_id else "parallel group"
            together = f"  [{group}]" if stage.parallel else ""
            for step in stage.steps:
                number += 1
                lines.append(_step_line(number, step) + together)
    lines += _undo_lines(plan)
    return "\n".join(lines) + "\n"


def _probe_lines(plan: ExecutionPlan) -> list[str]:
    if not plan.probes:
        return []
    lines = ["", "probes (from the start of the run to the end of verify)"]
    return lines + [f"  - {probe.name}: {probe.describe()}" for probe in plan.probes]


def _step_line(number: int, step: ResolvedStep) -> str:
    where = f" @{step.context_role}" if step.context_role else ""
    head = f"  {number:>2}. {step.id} ({step.type.name}{where})"
    if step.skipped:
        return f"{head}: SKIPPED - {step.skip_reason}"
    limits = f"timeout {format_duration(step.timeout_s)}, retries {step.retries}"
    return f"{head}: {step.describe()}  ({limits})"


def _undo_lines(plan: ExecutionPlan) -> list[str]:
    mutating = [
        s.id
        for s in plan.steps("preflight", "restore", "failover", "verify")
        if s.type.mutating and not s.skipped
    ]
    if not mutating:
        return []
    if plan.mode == "live":
        return [
            "",
            "live mode never rolls back by itself; `drill rollback RUN` undoes: "
            + ", ".join(reversed(mutating)),
        ]
    return ["", "then undone, newest first: " + ", ".join(reversed(mutating))]


def outline_data(plan: ExecutionPlan) -> dict[str, JsonValue]:
    return {
        "plan": plan.name,
        "mode": plan.mode,
        "service": plan.service,
        "tier": plan.tier,
        "targets": {"rpo_s": plan.targets.rpo_s, "rto_s": plan.targets.rto_s},
        "contexts": dict(plan.contexts),
        "probes": [_probe_data(probe) for probe in plan.probes],
        "steps": [_step_data(step) for step in plan.steps()],
    }


def _probe_data(probe: ResolvedProbe) -> dict[str, JsonValue]:
    settings = probe.settings
    return {
        "name": probe.name,
        "skip_reason": probe.skip_reason,
        "url": redact_url(settings.url) if settings else None,
        "interval_s": settings.interval if settings else None,
        "successes": settings.successes if settings else None,
    }


def _step_data(step: ResolvedStep) -> dict[str, JsonValue]:
    return {
        "id": step.id,
        "phase": step.phase,
        "type": step.type.name,
        "context": step.context_role,
        "skip_reason": step.skip_reason,
        "description": step.describe(),
        "timeout_s": step.timeout_s,
        "retries": step.retries,
    }
