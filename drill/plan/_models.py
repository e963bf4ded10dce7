"""The plan file's schema: frozen pydantic models, unknown fields rejected."""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Discriminator,
    Field,
    GetJsonSchemaHandler,
    JsonValue,
    Tag,
    field_validator,
    model_validator,
)
from pydantic.json_schema import JsonSchemaValue

from drill.fieldtypes import (
    SCALAR_SCHEMA,
    Duration,
    KubeName,
    PositiveDuration,
    Scalar,
    WholeNumber,
    is_kube_object_name,
    not_a_bool,
)

PhaseName = Literal["preflight", "restore", "failover", "verify", "cleanup", "rollback"]
# The order phases run in; rollback only runs when a run is being undone.
PHASES: tuple[PhaseName, ...] = (
    "preflight",
    "restore",
    "failover",
    "verify",
    "cleanup",
    "rollback",
)
# The step drill adds to preflight itself when a plan uses kube contexts.
REACHABILITY_STEP_ID = "contexts-reachable"
CLOUD_CHECK_STEP_ID = "clouds-reachable"
ID_PATTERN = r"^[a-z0-9][a-z0-9_.-]{0,62}$"
# A plan's name names its Lease (`drill-NAME`, an object name) and its Pushgateway group.
PLAN_NAME_MAX = 57  # 63 for a label of the Lease name, less "drill-"
NAME_REF = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")


class _Model(BaseModel):
    # Built on first use, so commands that never validate a plan do not pay for it.
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True, defer_build=True)


class ContextRole(_Model):
    """A cluster the plan acts on, by the role it plays (primary, dr)."""

    description: str = Field(
        default="",
        description="What this cluster is, for people reading the plan and its report.",
        examples=["Warm standby cluster in us-east1"],
    )
    kubecontext: str | None = Field(
        default=None,
        min_length=1,
        description="The kubeconfig context this role maps to unless `--context ROLE=CONTEXT` "
        "says otherwise (default: the role's own name); `in-cluster` uses the pod's own "
        "service account.",
        examples=["gke_prod_us-east1_dr"],
    )


class ModeOverride(_Model):
    """How a step behaves in one mode: skipped with a reason, or with some params replaced."""

    skip: str | None = Field(
        default=None,
        min_length=1,
        description="Skip the step in this mode; the reason is shown by `drill show` and in "
        "the report. Give skip or with, not both.",
        examples=["the public endpoint serves users"],
    )
    with_: dict[str, JsonValue] = Field(
        default_factory=dict,
        alias="with",
        description="Parameters that replace the step's own `with:` values of the same name "
        "in this mode (each named field is replaced whole).",
        examples=[{"within": "10m"}],
    )

    @model_validator(mode="after")
    def _skip_or_with(self) -> ModeOverride:
        if self.skip is not None and self.with_:
            raise ValueError("give either skip (with its reason) or with, not both")
        return self


class StepSpec(_Model):
    """One action or check of a phase."""

    model_config = ConfigDict(title="step")

    id: str = Field(
        pattern=ID_PATTERN,
        description="Names the step in logs, the journal and the report; unique in the plan. "
        "Lowercase letters, digits, '-', '_' and '.', at most 63 characters.",
        examples=["restore-namespace"],
    )
    type: str = Field(
        description="What the step does: one of the step types (`drill list --types`); "
        "`drill explain TYPE` lists its parameters.",
        examples=["velero.restore"],
    )
    description: str = Field(
        default="",
        description="What the step proves or does, in words; shown instead of the generated "
        "one by `drill show` and in the report.",
        examples=["The newest daily backup completed within the last 26 hours"],
    )
    context: str | None = Field(
        default=None,
        description="The context role (a name under `contexts:`) whose cluster the step acts "
        "on; required by the types that talk to a cluster.",
        examples=["dr"],
    )
    timeout: Duration | None = Field(
        default=None,
        description="How long the step may take, retries included, before it fails; default "
        "per step type (`drill explain TYPE`).",
        examples=["20m"],
    )
    retries: WholeNumber = Field(
        # Five ride out an API server blip of half a minute (waits of 1, 2, 4, 8, 16 s): an
        # upgrade or failover of a control plane, not a reason to fail a disaster drill.
        default=5,
        ge=0,
        le=20,
        description="Tries after the first on transient errors only (5xx, 429, connection "
        "resets), waiting 1 s, 2 s, 4 s, ... (at most 30 s) in between and never past the "
        "step's timeout; a failed check or a refused request is not retried.",
        examples=[3],
    )
    with_: dict[str, JsonValue] = Field(
        default_factory=dict,
        alias="with",
        description="The step type's parameters (`drill explain TYPE`). Any value may be "
        "`${name}`, a name declared under `names:`, filled in per mode.",
    )
    drill: ModeOverride | None = Field(
        default=None,
        description="How the step differs in drill mode (the default, non-disruptive mode): "
        "`skip: why`, or `with:` values that replace the step's own.",
        examples=[{"skip": "drills never move the public endpoint"}],
    )
    live: ModeOverride | None = Field(
        default=None,
        description="How the step differs in live mode (`drill run --live`, the real "
        "failover): `skip: why`, or `with:` values that replace the step's own.",
        examples=[{"with": {"within": "10m"}}],
    )

    @field_validator("timeout")
    @classmethod
    def _positive(cls, timeout: float | None) -> float | None:
        if timeout is not None and timeout <= 0:
            raise ValueError("must be longer than zero")
        return timeout


class ParallelGroup(_Model):
    """Steps that run at the same time; the group ends when all of them have."""

    model_config = ConfigDict(title="parallel group")

    id: str | None = Field(
        default=None,
        pattern=ID_PATTERN,
        description="Names the group in `drill show` and logs.",
        examples=["backups"],
    )
    parallel: list[StepSpec] = Field(
        min_length=2, description="The steps, at least two, started together."
    )


def _entry_kind(value: object) -> str:
    if isinstance(value, dict) and "parallel" in value:
        return "~group"
    if isinstance(value, ParallelGroup):
        return "~group"
    return "~step"


PhaseEntry = Annotated[
    Annotated[StepSpec, Tag("~step")] | Annotated[ParallelGroup, Tag("~group")],
    Discriminator(_entry_kind),
]
PhaseSteps = Annotated[list[PhaseEntry], Field(min_length=1)]


class Phases(_Model):
    """The steps of each phase; phases run in this order."""

    preflight: PhaseSteps | None = Field(
        default=None,
        description="Read-only checks before anything changes: backups fresh, targets there. "
        "drill puts its own first: every kube context answers, every record and backend the "
        "run switches can be read.",
    )
    restore: PhaseSteps | None = Field(
        default=None, description="Restores (Velero), after preflight."
    )
    failover: PhaseSteps | None = Field(
        default=None, description="The switch: DNS records, load-balancer backends, scale-ups."
    )
    # Without a verify step nothing proves the service recovered, and RTO has no end point.
    verify: PhaseSteps = Field(
        description="Proves the service recovered; RTO ends when its last step passes. Required."
    )
    cleanup: PhaseSteps | None = Field(
        default=None,
        description="Runs last: in drill mode after the run's changes are undone and rollback "
        "ran; in live mode only after success.",
    )
    rollback: PhaseSteps | None = Field(
        default=None,
        description="Runs after a run's changes are put back: at the end of a drill, and by "
        "`drill rollback RUN` after a live run.",
    )

    def entries(self, phase: PhaseName) -> list[StepSpec | ParallelGroup]:
        return list(getattr(self, phase) or [])


class TargetOverrides(_Model):
    """This plan's own RPO/RTO targets, in place of its tier's."""

    rpo: PositiveDuration | None = Field(
        default=None,
        description="Most data the recovery may lose: the longest time from the recovery point "
        "to the disaster (default: the tier's).",
        examples=["5m"],
    )
    rto: PositiveDuration | None = Field(
        default=None,
        description="Longest time from the disaster to the last verify step passing (default: "
        "the tier's).",
        examples=["30m"],
    )


class PerMode(_Model):
    """A logical name's value in each mode; a plain value means the same in both."""

    drill: Scalar = Field(description="The value in drill mode.", examples=["dr-test"])
    live: Scalar = Field(description="The value in live mode.", examples=["production"])

    @model_validator(mode="before")
    @classmethod
    def _same_in_both(cls, value: object) -> object:
        return value if isinstance(value, dict) else {"drill": value, "live": value}

    @classmethod
    def __get_pydantic_json_schema__(
        cls, core_schema: Any, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        # What _same_in_both accepts: one plain value for both modes, or one per mode.
        per_mode = handler(core_schema)
        return {"anyOf": [dict(SCALAR_SCHEMA), per_mode]}


class LockSpec(_Model):
    """Where the Lease that keeps two runs of this plan apart lives."""

    enabled: bool = Field(
        default=True,
        description="Take the Lease; false lets two runs of the plan overlap.",
        examples=[False],
    )
    context: str | None = Field(
        default=None,
        description="The context role whose cluster holds the Lease (default: dr if the plan "
        "uses it, else the first role its steps use).",
        examples=["dr"],
    )
    namespace: KubeName = Field(
        default="default",
        description="The namespace of the Lease `drill-PLAN`.",
        examples=["drill"],
    )


class ProbeOverride(_Model):
    """A probe in one mode: skipped with a reason, or with some of its settings replaced.
    The settings are checked in the semantic pass, after ``${name}`` substitution."""

    model_config = ConfigDict(extra="allow", frozen=True, populate_by_name=True, defer_build=True)
    skip: str | None = Field(
        default=None,
        min_length=1,
        description="Skip the probe in this mode, saying why.",
        examples=["no public endpoint in drills"],
    )

    @model_validator(mode="after")
    def _skip_or_settings(self) -> ProbeOverride:
        if self.skip is not None and self.model_extra:
            raise ValueError("give either skip (with its reason) or settings, not both")
        return self


class ProbeSpec(_Model):
    """One of the plan's ``probes:``: what users reach, asked every interval during the run.

    Its settings (url, interval, ...) are checked in the semantic pass, in each mode, after
    ``${name}`` substitution, as a step's ``with:`` block is."""

    model_config = ConfigDict(extra="allow", frozen=True, populate_by_name=True, defer_build=True)
    name: str = Field(
        pattern=ID_PATTERN,
        description="The probe's name in reports and metrics. Its other settings are an "
        "HTTP request's (url, method, headers, expect_status) plus interval, timeout and "
        "successes: `drill explain plan.probes`.",
        examples=["public-health"],
    )
    drill: ProbeOverride | None = Field(
        default=None,
        description="Settings that differ in drill mode, or `skip: why`.",
        examples=[{"url": "https://drill-api.example.com/healthz"}],
    )
    live: ProbeOverride | None = Field(
        default=None,
        description="Settings that differ in live mode, or `skip: why`.",
        examples=[{"skip": "the public endpoint is watched by monitoring"}],
    )

    def settings(self, mode: str) -> dict[str, JsonValue] | None:
        """The probe's settings in ``mode`` (its override applied); None when skipped there."""
        override = self.drill if mode == "drill" else self.live
        if override is not None and override.skip is not None:
            return None
        return {**(self.model_extra or {}), **((override.model_extra or {}) if override else {})}

    def skip_reason(self, mode: str) -> str | None:
        override = self.drill if mode == "drill" else self.live
        return override.skip if override is not None else None


class Plan(_Model):
    """One disaster-recovery scenario: what to check, restore, switch and verify, per mode."""

    version: Annotated[Literal[1], BeforeValidator(not_a_bool)] = Field(
        default=1, description="The plan format's version.", examples=[1]
    )
    name: str = Field(
        description="The plan's name: names its run lock (the Lease drill-NAME), its reports "
        "and metrics. Lowercase letters, digits and '-' (dots between parts), at most "
        f"{PLAN_NAME_MAX} characters.",
        examples=["region-failure"],
    )
    description: str = Field(
        default="",
        description="What the scenario rehearses, in a sentence; `drill list` shows it.",
        examples=["Fail api-server over from us-central1 to us-east1."],
    )
    service: str = Field(
        min_length=1,
        description="The service this plan recovers, as reports and metrics name it.",
        examples=["api-server"],
    )
    tier: str = Field(
        description="The service's tier, which sets the RPO and RTO targets: critical, high, "
        "medium, low, or one defined in the config file (`drill tiers`).",
        examples=["critical", "high", "medium", "low"],
    )
    targets: TargetOverrides = Field(
        default=TargetOverrides(),
        description="Targets of this plan in place of its tier's: rpo and/or rto.",
        examples=[{"rto": "30m"}],
    )
    contexts: dict[str, ContextRole] = Field(
        default_factory=dict,
        description="The clusters the plan acts on, by role (e.g. primary, dr); steps name a "
        "role in `context:`, and `drill run --context ROLE=CONTEXT` maps it.",
        examples=[{"dr": {"kubecontext": "dr-cluster"}}],
    )
    names: dict[str, PerMode] = Field(
        default_factory=dict,
        description="Values that differ per mode, used in steps' `with:` as `${name}`: "
        "`{drill: dr-test, live: production}`, or one plain value for both modes.",
        examples=[{"namespace": {"drill": "dr-test", "live": "production"}}],
    )
    lock: LockSpec = Field(
        default=LockSpec(),
        description="Where the Lease that keeps two runs of this plan apart lives.",
        examples=[{"context": "dr", "namespace": "default"}],
    )
    probes: list[ProbeSpec] = Field(
        default_factory=list,
        description="HTTP probes of what users reach, run from the start of the run to the "
        "end of verify; the report's RTO as users see it comes from them.",
        examples=[[{"name": "public", "url": "https://api.example.com/healthz"}]],
    )
    phases: Phases = Field(
        description="The steps, by phase: preflight, restore, failover, verify (required), "
        "cleanup, rollback."
    )

    @field_validator("name")
    @classmethod
    def _names_a_lease(cls, name: str) -> str:
        if len(name) > PLAN_NAME_MAX or not is_kube_object_name(name):
            raise ValueError(
                f"{name!r} cannot name a plan: its run lock is the Lease drill-{name}, so use "
                "lowercase letters, digits and '-' (dots between parts), starting and ending "
                f"with a letter or digit, at most {PLAN_NAME_MAX} characters"
            )
        return name
