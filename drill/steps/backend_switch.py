"""``backend.switch``: move a load balancer's backends (GCP backend service, AWS ELBv2).

GCP: the backend service's backends (instance groups or NEGs, with capacity scalers) become
the plan's list; drill waits for the Compute operation. AWS: a target group's registered
targets become the plan's list, or, with ``listener``, the listener's forward action sends
traffic to the plan's target groups with the given weights. The previous set, with every
setting drill does not manage, is journaled first; undo puts it back exactly, and only while
the backends are still what drill set.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

from pydantic import Field, JsonValue, field_validator, model_validator

from drill.durations import format_duration
from drill.errors import StepFailed
from drill.fieldtypes import Duration, Number, WholeNumber
from drill.steps._base import (
    ReadBack,
    Resource,
    StepEnv,
    StepParams,
    StepResult,
    StepType,
    Unverified,
)
from drill.steps._changes import (
    await_noted_change,
    never_changed,
    poll_until,
    submitted,
    wait_until_done,
)

if TYPE_CHECKING:
    # Annotations only (or built inside the function that needs one): checking a plan
    # builds none of the providers' result types.
    from providers.protocols import BackendApi, BackendKind, BackendRef, BackendTarget, Setting

COMPUTE_URL_PREFIX = "https://www.googleapis.com/compute/v1/"


class BackendSpec(StepParams):
    """One backend to set."""

    target: str = Field(
        min_length=1,
        description="gcp: an instance group or NEG URL; aws: a target id (instance, IP) of "
        "the target group, or with listener a target group (name or ARN).",
        examples=["projects/example-prod/zones/us-east1-b/instanceGroups/api-us-east1"],
    )
    capacity: Number = Field(
        default=1.0,
        ge=0.0,
        le=1000.0,
        description="gcp: the capacity scaler, 0.0 to 1.0; aws with listener: the forward "
        "weight, 0 to 999; a target group's targets have none.",
        examples=[0.5],
    )
    port: WholeNumber | None = Field(
        default=None,
        ge=1,
        le=65535,
        description="aws target group: the target's port (required there; gcp: none).",
        examples=[8080],
    )

    @field_validator("target")
    @classmethod
    def _relative_gcp_url(cls, target: str) -> str:
        # Compute answers full URLs, drill compares relative ones: both spellings mean one group.
        return target.removeprefix(COMPUTE_URL_PREFIX)


class BackendSwitchParams(StepParams):
    provider: Literal["gcp", "aws"] = Field(
        description="gcp: a Compute backend service; aws: an ELBv2 target group or listener.",
        examples=["gcp"],
    )
    # GCP: backend service name. AWS: target group name or ARN.
    service: str | None = Field(
        default=None,
        min_length=1,
        description="gcp: the backend service's name (required); aws: a target group's name "
        "or ARN (or give listener).",
        examples=["api-backend-drill"],
    )
    # AWS only: listener ARN or "load-balancer-name:port"; backends then name target groups
    # and capacity is the forward weight (0-999).
    listener: str | None = Field(
        default=None,
        min_length=1,
        description="aws only: a listener (ARN, or load-balancer-name:port) that then forwards "
        "to the backends' target groups, weighted by capacity.",
        examples=["api-alb:443"],
    )
    project: str | None = Field(
        default=None,
        min_length=1,
        description="gcp: the backend service's project (required).",
        examples=["example-prod"],
    )
    region: str | None = Field(
        default=None,
        # Empty would read as "no region": a global service of that name, not the one meant.
        pattern=r"^[a-z]+(-[a-z0-9]+)+$",
        description="gcp: the region of a regional backend service (none: global); aws: the "
        "region (default: the AWS configuration's).",
        examples=["us-east1"],
    )
    backends: list[BackendSpec] = Field(
        min_length=1,
        description="The backends to set, replacing the current ones (settings drill does not "
        "manage, such as balancing mode, are kept). Undo puts the old set back if it still "
        "holds this one.",
        examples=[[{"target": "projects/p/zones/us-east1-b/instanceGroups/api", "capacity": 1.0}]],
    )
    wait_healthy: Duration | None = Field(
        default=None,
        description="Wait until every backend passes its health checks, for at most this long "
        "(default: do not wait).",
        examples=["5m"],
    )

    @model_validator(mode="after")
    def _consistent(self) -> BackendSwitchParams:
        if self.provider == "gcp":
            _require_gcp(self)
        elif (self.service is None) == (self.listener is None):
            raise ValueError("set exactly one of service (a target group) or listener")
        elif self.service is not None:
            _require_target_group(self)
        targets = [b.target for b in self.backends]
        if len(set(targets)) != len(targets):
            raise ValueError("backends: each target at most once")
        return self

    def kind(self) -> BackendKind:
        if self.listener is not None:
            return "listener"
        return "backend_service" if self.provider == "gcp" else "target_group"

    def backend_name(self) -> str:
        """What drill calls the backend it switches, as messages and footprints name it."""
        return _named(self.kind(), self.listener or self.service or "")

    def ref(self) -> BackendRef:
        from providers.protocols import BackendRef

        name = self.listener or self.service or ""
        return BackendRef(self.provider, self.kind(), name, self.project, self.region)

    def targets(self) -> tuple[BackendTarget, ...]:
        from providers.protocols import BackendTarget

        return tuple(BackendTarget(b.target, b.capacity, b.port) for b in self.backends)


def _require_gcp(params: BackendSwitchParams) -> None:
    if not params.project or not params.service:
        raise ValueError("a GCP backend switch names its project and backend service")
    if params.listener is not None:
        raise ValueError("listener is for AWS load balancers")
    if any(b.capacity > 1.0 for b in params.backends):
        raise ValueError("backends: a GCP capacity scaler is between 0.0 and 1.0")
    if any(b.port is not None for b in params.backends):
        raise ValueError("backends: port is for AWS target groups; a GCP backend has none")


def _require_target_group(params: BackendSwitchParams) -> None:
    if any(b.port is None for b in params.backends):
        raise ValueError("backends: each target of a target group names its port")
    if any(b.capacity != 1.0 for b in params.backends):
        raise ValueError(
            "backends: a target group has no capacity per target; use listener weights"
        )


class BackendSwitch(StepType[BackendSwitchParams]):
    name = "backend.switch"
    params_model = BackendSwitchParams
    summary = "replaces a load balancer's backends; undo puts the previous set back"
    mutating = True
    default_timeout_s = 600.0

    def describe(self, params: BackendSwitchParams) -> str:
        targets = ", ".join(f"{b.target}@{b.capacity:g}" for b in params.backends)
        return f"set backends of {params.backend_name()} to {targets} ({params.provider})"

    def serving_target(self, params: BackendSwitchParams) -> str:
        where = " ".join(
            f"{k} {v}" for k, v in (("project", params.project), ("region", params.region)) if v
        )
        return f"backends of {params.backend_name()}" + (f" in {where}" if where else "")

    def writes(self, params: BackendSwitchParams, cluster: str) -> frozenset[Resource]:
        where = [params.provider, f"project {params.project}" if params.project else ""]
        where.append(f"region {params.region}" if params.region else "")
        scope = " ".join(part for part in where if part)
        return frozenset({Resource("backend", scope, params.backend_name())})

    def to_verify(self, params: BackendSwitchParams, cluster: str) -> tuple[Unverified, ...]:
        if params.wait_healthy is not None:
            return ()
        remedy = "give it `wait_healthy: 5m` so drill waits until its health checks pass"
        return (Unverified(next(iter(self.writes(params, cluster))), "switches", remedy),)

    def read_target(self, params: BackendSwitchParams, env: StepEnv) -> str:
        state = _api(params, env).get_backends(params.ref())
        return f"{_name(state.ref)} on {_show(state.targets)}"

    def default_timeout(self, params: BackendSwitchParams) -> float:
        return self.default_timeout_s + (params.wait_healthy or 0.0)

    def capture_prior_state(self, params: BackendSwitchParams, env: StepEnv) -> JsonValue:
        state = _api(params, env).get_backends(params.ref())
        return {"targets": [_target_json(t) for t in state.targets]}

    def run(self, params: BackendSwitchParams, env: StepEnv) -> StepResult:
        api, ref = _api(params, env), params.ref()
        # An earlier try's operation lands first; then what is live is what counts.
        noted = await_noted_change(lambda i: api.change_status(ref, i), "backend change", env)
        live = api.get_backends(ref)
        # The journaled read is the precondition: a change made since is refused, not lost.
        before = live.targets if env.prior is None else _targets_from_json(env.prior)
        wanted = params.targets()
        facts: dict[str, str | int | float | bool | None] = {
            "from": _show(before),
            "to": _show(wanted),
        }
        summary = f"{_name(ref)}: {_show(before)} -> {_show(wanted)}"
        if not live.same_targets(wanted):
            facts["change"] = _apply(api, ref, before, wanted, env)
        elif noted is None:
            summary = f"{_name(ref)} already on {_show(wanted)}"
        else:
            facts["change"] = noted
        if params.wait_healthy is not None:
            healthy_s = _await_healthy(
                api, ref, [t.target for t in wanted], params.wait_healthy, env
            )
            facts["healthy_after_s"] = round(healthy_s, 3)
            summary += f"; healthy after {format_duration(healthy_s)}"
        return StepResult(summary=summary, facts=facts)

    def undo(self, params: BackendSwitchParams, prior: JsonValue, env: StepEnv) -> str:
        previous = _targets_from_json(prior)
        api, ref = _api(params, env), params.ref()
        # Read only once drill's own operation landed.
        await_noted_change(lambda i: api.change_status(ref, i), "backend change", env)
        live = api.get_backends(ref)
        if live.same_targets(previous):
            return f"{_name(ref)} already back on {_show(previous)}"
        if not live.same_targets(params.targets()):
            if never_changed(env):
                shown = _show(live.targets)
                return f"{_name(ref)} left as is ({shown}): drill's change was never made"
            raise StepFailed(
                f"{_name(ref)} now has {_show(live.targets)}, not what drill set "
                f"({_show(params.targets())}): someone changed it since; left as is"
            )
        _apply(api, ref, live.targets, previous, env)
        return f"{_name(ref)} back on {_show(previous)}"

    def verify_undone(
        self, params: BackendSwitchParams, prior: JsonValue, env: StepEnv
    ) -> list[ReadBack]:
        """The backends are the journaled set, each with the settings drill does not manage
        (balancing mode, zone...) as they were."""
        previous = _targets_from_json(prior)
        live = _api(params, env).get_backends(params.ref())
        target = _name(live.ref)
        if not live.same_targets(previous):
            return [ReadBack.compared(target, False, _show(live.targets), _show(previous))]
        changed = _changed_settings(previous, live.targets)
        if changed:
            return [ReadBack(target, "differs", f"{_show(live.targets)}, but {changed}")]
        return [ReadBack.compared(target, True, _show(live.targets), _show(previous))]

    def undo_target(self, params: BackendSwitchParams) -> str:
        return params.backend_name()


def _api(params: BackendSwitchParams, env: StepEnv) -> BackendApi:
    return env.providers.backends(params.provider)


def _apply(
    api: BackendApi,
    ref: BackendRef,
    current: tuple[BackendTarget, ...],
    new: tuple[BackendTarget, ...],
    env: StepEnv,
) -> str:
    change = submitted(api.set_backends(ref, current, new), env)
    done = wait_until_done(
        change, lambda change_id: api.change_status(ref, change_id), "backend change", env
    )
    return done.id


def _await_healthy(
    api: BackendApi, ref: BackendRef, targets: list[str], within_s: float, env: StepEnv
) -> float:
    def still_wrong() -> tuple[str, str] | None:
        health = api.target_health(ref, targets)
        sick = {t: health.get(t, "unknown") for t in targets if health.get(t) != "healthy"}
        if not sick:
            return None
        return "backends not healthy", "; ".join(f"{t}: {state}" for t, state in sick.items())

    return poll_until(still_wrong, within_s, "the new backends to be healthy", env)


def _name(ref: BackendRef) -> str:
    return _named(ref.kind, ref.name)


def _named(kind: str, name: str) -> str:
    kinds = {"backend_service": "backend service", "target_group": "target group"}
    return f"{kinds.get(kind, kind)} {name}"


def _show(targets: tuple[BackendTarget, ...]) -> str:
    if not targets:
        return "(none)"
    return ", ".join(f"{t.target}{f':{t.port}' if t.port else ''}@{t.capacity:g}" for t in targets)


def _changed_settings(previous: tuple[BackendTarget, ...], live: tuple[BackendTarget, ...]) -> str:
    """Settings of the same targets that are not as journaled, in words; "" when none."""
    now = {t.key(): dict(t.settings) for t in live}
    said = []
    for target in previous:
        was, got = dict(target.settings), now.get(target.key(), {})
        for key in sorted(set(was) | set(got)):
            if was.get(key) != got.get(key):
                said.append(f"{target.target} {key} {got.get(key)} (was {was.get(key)})")
    return "; ".join(said)


def _target_json(target: BackendTarget) -> JsonValue:
    settings: dict[str, JsonValue] = dict(target.settings)
    return {
        "target": target.target,
        "capacity": target.capacity,
        "port": target.port,
        "settings": settings,
    }


def _targets_from_json(prior: JsonValue) -> tuple[BackendTarget, ...]:
    raw = prior.get("targets") if isinstance(prior, dict) else None
    if not isinstance(raw, list):
        raise StepFailed("journal holds no previous backends for this switch")
    return tuple(_target_from_json(item) for item in raw)


def _target_from_json(item: JsonValue) -> BackendTarget:
    if not isinstance(item, dict) or not isinstance(item.get("target"), str):
        raise StepFailed("journal's previous backends are incomplete")
    capacity, port, settings = item.get("capacity"), item.get("port"), item.get("settings")
    from providers.protocols import BackendTarget

    return BackendTarget(
        target=str(item["target"]),
        capacity=float(capacity) if isinstance(capacity, int | float) else 1.0,
        port=port if isinstance(port, int) else None,
        settings=tuple(sorted(_settings(settings))),
    )


def _settings(raw: JsonValue) -> list[tuple[str, Setting]]:
    if not isinstance(raw, dict):
        return []
    return [(k, v) for k, v in raw.items() if isinstance(v, str | int | float | bool)]
