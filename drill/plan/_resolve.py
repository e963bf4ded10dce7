"""A validated plan, resolved for one mode: names filled in, skips decided, params typed."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from pydantic import ValidationError

from drill.plan._models import (
    CLOUD_CHECK_STEP_ID,
    PHASES,
    REACHABILITY_STEP_ID,
    ParallelGroup,
    PhaseName,
    Plan,
    ProbeSpec,
    StepSpec,
)
from drill.plan._probes import ProbeSettings, ResolvedProbe
from drill.plan._validate import (
    MODES,
    CheckedStep,
    production_clash,
    production_footprint,
    substitute,
)
from drill.steps import STEP_TYPES, AnyStepType, Mode, Resource, StepParams
from drill.tiers import Targets


@dataclass(frozen=True)
class ResolvedStep:
    id: str
    phase: PhaseName
    type: AnyStepType
    params: StepParams | None  # None when skipped in this mode
    skip_reason: str | None
    context_role: str | None
    timeout_s: float
    retries: int
    description: str

    @property
    def skipped(self) -> bool:
        return self.skip_reason is not None

    def describe(self) -> str:
        if self.description:
            return self.description
        return self.type.describe(self.params) if self.params is not None else self.type.summary


@dataclass(frozen=True)
class Stage:
    """One step, or a group of steps that run at the same time."""

    steps: tuple[ResolvedStep, ...]
    parallel: bool = False
    group_id: str | None = None


@dataclass(frozen=True)
class ExecutionPlan:
    name: str
    source: str
    description: str
    service: str
    tier: str
    targets: Targets
    mode: Mode
    contexts: Mapping[str, str]  # role -> kube context
    phases: Mapping[PhaseName, tuple[Stage, ...]]
    lock: tuple[str, str] | None = None  # (kube context, namespace) of the run's Lease
    # In drill mode: what live mode would change and what restores read, by the clusters the
    # roles map to for this run, with which step says so. Empty in live mode.
    production: Mapping[Resource, str] = field(default_factory=dict)
    source_sha256: str = ""  # the plan file's digest, journaled so rollback can compare it
    probes: tuple[ResolvedProbe, ...] = ()  # what users reach, asked throughout the run

    def outside_footprint(
        self, step_id: str, type_name: str, params: Mapping[str, Any], context: str | None
    ) -> str | None:
        """Why a journaled change is not one this plan makes in this mode, or None.

        ``drill rollback`` undoes a journal's changes only when each lies inside the plan:
        the same step, the same type, and nothing written that the step would not write, so
        a hand-made journal cannot point an undo at anything else.
        """
        step = next((s for s in self.steps() if s.id == step_id), None)
        if step is None or step.params is None:
            return f"the plan has no step {step_id!r} that runs in {self.mode} mode"
        if step.type.name != type_name:
            return f"step {step_id!r} is a {step.type.name} in the plan, not a {type_name}"
        try:
            journaled = step.type.params_model.model_validate(params)
        except ValidationError as exc:
            return f"step {step_id!r}: its journaled params are not valid: {exc.errors()[0]['msg']}"
        label = f"kube context {context}" if context else "no cluster"
        planned = step.type.writes(step.params, cluster_label(step, self.contexts))
        stray = [r for r in step.type.writes(journaled, label) if r not in planned]
        if stray:
            return f"step {step_id!r} would change {stray[0]}, which the plan's step does not"
        return None

    def production_clash(self, step: ResolvedStep) -> str | None:
        """Why running ``step`` now would touch production, or None. The executor asks this
        before every mutation of a drill, so a plan that slipped past validation cannot."""
        if self.mode != "drill" or step.params is None:
            return None
        unbounded = step.type.unbounded(step.params)
        if unbounded is not None:
            return f"in drill mode {unbounded}"
        for resource in step.type.writes(step.params, cluster_label(step, self.contexts)):
            clash = production_clash(resource, self.production)
            if clash is not None:
                return clash
        return None

    def steps(self, *phases: PhaseName) -> Iterator[ResolvedStep]:
        for phase in phases or PHASES:
            for stage in self.phases.get(phase, ()):
                yield from stage.steps


def resolve(
    plan: Plan,
    source: str,
    mode: Mode,
    tiers: Mapping[str, Targets],
    context_overrides: Mapping[str, str],
    source_sha256: str = "",
) -> ExecutionPlan:
    names = {name: {"drill": value.drill, "live": value.live} for name, value in plan.names.items()}
    phases = {
        phase: tuple(_stage(entry, phase, mode, names) for entry in plan.phases.entries(phase))
        for phase in PHASES
    }
    contexts = _contexts(plan, context_overrides)
    used = _used_roles(phases)
    checks = _preflight_checks(used, contexts, phases)
    if checks:
        phases["preflight"] = (Stage(steps=checks, parallel=len(checks) > 1), *phases["preflight"])
    return ExecutionPlan(
        name=plan.name,
        source=source,
        description=plan.description,
        service=plan.service,
        tier=plan.tier,
        targets=_targets(plan, tiers),
        mode=mode,
        contexts=contexts,
        phases=phases,
        lock=_lock(plan, used, contexts),
        production=_production(plan, names, contexts) if mode == "drill" else {},
        source_sha256=source_sha256,
        probes=tuple(_probe(spec, mode, names) for spec in plan.probes),
    )


def _probe(spec: ProbeSpec, mode: Mode, names: Mapping[str, Mapping[str, object]]) -> ResolvedProbe:
    settings = spec.settings(mode)
    if settings is None:
        return ResolvedProbe(spec.name, None, spec.skip_reason(mode))
    return ResolvedProbe(spec.name, ProbeSettings.model_validate(substitute(settings, names, mode)))


def cluster_label(step: ResolvedStep, contexts: Mapping[str, str]) -> str:
    """The cluster a step acts on, by kube context: two roles may name the same cluster."""
    role = step.context_role
    return f"kube context {contexts.get(role, role)}" if role else "no cluster"


def _production(
    plan: Plan, names: Mapping[str, Mapping[str, object]], contexts: Mapping[str, str]
) -> dict[Resource, str]:
    """What live mode would write and what any restore reads, on this run's clusters."""
    return production_footprint(_checked_steps(plan, names, contexts))


def _checked_steps(
    plan: Plan, names: Mapping[str, Mapping[str, object]], contexts: Mapping[str, str]
) -> Iterator[CheckedStep]:
    for phase in PHASES:
        for entry in plan.phases.entries(phase):
            for spec in entry.parallel if isinstance(entry, ParallelGroup) else (entry,):
                by_mode = {mode: _step(spec, phase, mode, names) for mode in MODES}
                params = {m: s.params for m, s in by_mode.items() if s.params is not None}
                cluster = cluster_label(by_mode["live"], contexts)
                yield CheckedStep((), spec.id, STEP_TYPES[spec.type], cluster, params)


def _used_roles(phases: Mapping[PhaseName, tuple[Stage, ...]]) -> list[str]:
    """Context roles that active steps use, in the order they first appear."""
    roles = (
        step.context_role
        for stages in phases.values()
        for stage in stages
        for step in stage.steps
        if step.context_role and not step.skipped
    )
    return list(dict.fromkeys(role for role in roles if role))


def _lock(plan: Plan, used: list[str], contexts: Mapping[str, str]) -> tuple[str, str] | None:
    if not plan.lock.enabled or not used:
        return None
    role = plan.lock.context or ("dr" if "dr" in used else used[0])
    return contexts[role], plan.lock.namespace


def _preflight_checks(
    used: list[str], contexts: Mapping[str, str], phases: Mapping[PhaseName, tuple[Stage, ...]]
) -> tuple[ResolvedStep, ...]:
    """drill's own first steps: the clusters answer, the cloud targets can be read."""
    found = []
    if used:
        found.append(_check_step(REACHABILITY_STEP_ID, "kube.reachable", {
            "contexts": {role: contexts[role] for role in used}
        }))  # fmt: skip
    targets = [
        {"step": step.id, "type": step.type.name, "params": step.params.as_json()}
        for stages in phases.values()
        for stage in stages
        for step in stage.steps
        if step.params is not None and step.type.serving_target(step.params) is not None
    ]
    if targets:
        found.append(_check_step(CLOUD_CHECK_STEP_ID, "cloud.reachable", {"checks": targets}))
    return tuple(found)


def _check_step(step_id: str, type_name: str, values: dict[str, Any]) -> ResolvedStep:
    step_type = STEP_TYPES[type_name]
    params = step_type.params_model.model_validate(values)
    return ResolvedStep(
        id=step_id,
        phase="preflight",
        type=step_type,
        params=params,
        skip_reason=None,
        context_role=None,
        timeout_s=step_type.default_timeout(params),
        retries=1,
        description="",
    )


def _targets(plan: Plan, tiers: Mapping[str, Targets]) -> Targets:
    return tiers[plan.tier].with_plan_targets(plan.targets.rpo, plan.targets.rto)


def _contexts(plan: Plan, overrides: Mapping[str, str]) -> dict[str, str]:
    return {
        role: overrides.get(role) or spec.kubecontext or role
        for role, spec in plan.contexts.items()
    }


def _stage(
    entry: StepSpec | ParallelGroup,
    phase: PhaseName,
    mode: Mode,
    names: Mapping[str, Mapping[str, object]],
) -> Stage:
    if isinstance(entry, ParallelGroup):
        steps = tuple(_step(spec, phase, mode, names) for spec in entry.parallel)
        return Stage(steps=steps, parallel=True, group_id=entry.id)
    return Stage(steps=(_step(entry, phase, mode, names),))


def _step(
    spec: StepSpec, phase: PhaseName, mode: Mode, names: Mapping[str, Mapping[str, object]]
) -> ResolvedStep:
    step_type = STEP_TYPES[spec.type]
    override = spec.drill if mode == "drill" else spec.live
    skip_reason = override.skip if override is not None else None
    params = None
    timeout_s = spec.timeout if spec.timeout is not None else step_type.default_timeout_s
    if skip_reason is None:
        raw = {**spec.with_, **(override.with_ if override is not None else {})}
        params = step_type.params_model.model_validate(substitute(raw, names, mode))
        if spec.timeout is None:
            timeout_s = step_type.default_timeout(params)
    return ResolvedStep(
        id=spec.id,
        phase=phase,
        type=step_type,
        params=params,
        skip_reason=skip_reason,
        context_role=spec.context,
        timeout_s=timeout_s,
        retries=spec.retries,
        description=spec.description,
    )
