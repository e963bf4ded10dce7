"""``backend.switch``: move a load balancer's backends (GCP backend service, AWS ELBv2)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from drill.fieldtypes import Duration
from drill.steps._base import PlannedStepType, StepParams


class BackendSpec(StepParams):
    target: str = Field(min_length=1, description="instance group/NEG URL or target id/ARN")
    capacity: float = Field(default=1.0, ge=0.0, le=1000.0)
    port: int | None = Field(default=None, ge=1, le=65535)


class BackendSwitchParams(StepParams):
    provider: Literal["gcp", "aws"]
    service: str = Field(min_length=1, description="backend service name or target group ARN")
    project: str | None = None
    region: str | None = None
    # With AWS, set to move listener forward weights; backends then name target groups.
    listener_arn: str | None = None
    backends: list[BackendSpec] = Field(min_length=1)
    wait_healthy: Duration | None = None


class BackendSwitch(PlannedStepType[BackendSwitchParams]):
    name = "backend.switch"
    params_model = BackendSwitchParams
    summary = "replaces a load balancer's backends; undo puts the previous set back"
    mutating = True
    default_timeout_s = 600.0

    def describe(self, params: BackendSwitchParams) -> str:
        targets = ", ".join(f"{b.target}@{b.capacity:g}" for b in params.backends)
        return f"set backends of {params.service} to {targets} ({params.provider})"
