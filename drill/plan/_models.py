"""The plan file's schema: frozen pydantic models, unknown fields rejected."""

from __future__ import annotations

import re
from typing import Annotated, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Discriminator,
    Field,
    JsonValue,
    Tag,
    field_validator,
    model_validator,
)

from drill.fieldtypes import Duration, Scalar

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
# A plan's name names its Lease (`drill-NAME`, a DNS subdomain) and its Pushgateway group:
# lowercase labels of letters, digits and '-', each starting and ending alphanumeric.
PLAN_NAME = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
PLAN_NAME_MAX = 57  # 63 for a label of the Lease name, less "drill-"
NAME_REF = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")


class _Model(BaseModel):
    # Built on first use, so commands that never validate a plan do not pay for it.
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True, defer_build=True)


class ContextRole(_Model):
    description: str = ""
    kubecontext: str | None = Field(default=None, min_length=1)


class ModeOverride(_Model):
    """How a step behaves in one mode: skipped with a reason, or with some params replaced."""

    skip: str | None = Field(default=None, min_length=1)
    with_: dict[str, JsonValue] = Field(default_factory=dict, alias="with")

    @model_validator(mode="after")
    def _skip_or_with(self) -> ModeOverride:
        if self.skip is not None and self.with_:
            raise ValueError("give either skip (with its reason) or with, not both")
        return self


class StepSpec(_Model):
    id: str = Field(pattern=ID_PATTERN)
    type: str
    description: str = ""
    context: str | None = None
    timeout: Duration | None = None
    retries: int = Field(default=2, ge=0, le=20)
    with_: dict[str, JsonValue] = Field(default_factory=dict, alias="with")
    drill: ModeOverride | None = None
    live: ModeOverride | None = None

    @field_validator("timeout")
    @classmethod
    def _positive(cls, timeout: float | None) -> float | None:
        if timeout is not None and timeout <= 0:
            raise ValueError("must be longer than zero")
        return timeout


class ParallelGroup(_Model):
    id: str | None = Field(default=None, pattern=ID_PATTERN)
    parallel: list[StepSpec] = Field(min_length=2)


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
    preflight: PhaseSteps | None = None
    restore: PhaseSteps | None = None
    failover: PhaseSteps | None = None
    # Without a verify step nothing proves the service recovered, and RTO has no end point.
    verify: PhaseSteps
    cleanup: PhaseSteps | None = None
    rollback: PhaseSteps | None = None

    def entries(self, phase: PhaseName) -> list[StepSpec | ParallelGroup]:
        return list(getattr(self, phase) or [])


class TargetOverrides(_Model):
    rpo: Duration | None = None
    rto: Duration | None = None


class PerMode(_Model):
    """A logical name's value in each mode; a plain value means the same in both."""

    drill: Scalar
    live: Scalar

    @model_validator(mode="before")
    @classmethod
    def _same_in_both(cls, value: object) -> object:
        return value if isinstance(value, dict) else {"drill": value, "live": value}


class LockSpec(_Model):
    """Where the Lease that keeps two runs of this plan apart lives."""

    enabled: bool = True
    context: str | None = Field(default=None, description="role; default dr, else the first used")
    namespace: str = Field(default="default", pattern=r"^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$")


class ProbeOverride(_Model):
    """A probe in one mode: skipped with a reason, or with some of its settings replaced.
    The settings are checked in the semantic pass, after ``${name}`` substitution."""

    model_config = ConfigDict(extra="allow", frozen=True, populate_by_name=True, defer_build=True)
    skip: str | None = Field(default=None, min_length=1)

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
    name: str = Field(pattern=ID_PATTERN)
    drill: ProbeOverride | None = None
    live: ProbeOverride | None = None

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
    version: Literal[1] = 1
    name: str
    description: str = ""
    service: str = Field(min_length=1)
    tier: str
    targets: TargetOverrides = TargetOverrides()
    contexts: dict[str, ContextRole] = Field(default_factory=dict)
    names: dict[str, PerMode] = Field(default_factory=dict)
    lock: LockSpec = LockSpec()
    probes: list[ProbeSpec] = Field(default_factory=list)
    phases: Phases

    @field_validator("name")
    @classmethod
    def _names_a_lease(cls, name: str) -> str:
        if len(name) > PLAN_NAME_MAX or not PLAN_NAME.fullmatch(name):
            raise ValueError(
                f"{name!r} cannot name a plan: its run lock is the Lease drill-{name}, so use "
                "lowercase letters, digits and '-' (dots between parts), starting and ending "
                f"with a letter or digit, at most {PLAN_NAME_MAX} characters"
            )
        return name
