"""``cloud.reachable``: every cloud target the plan will switch can be read now.

drill adds this step to preflight by itself whenever a plan switches DNS records or
load-balancer backends. Each switch reads its target the way it will before acting, so
missing credentials, a refused read permission or a misspelt zone, record or backend service
are reported before the restore, not twenty minutes into a failover. It also loads the cloud
SDKs early, so their import time does not count against the failover steps.
"""

from __future__ import annotations

from typing import Any

from pydantic import Field, JsonValue

from drill.errors import ProviderError, StepFailed
from drill.steps._base import StepEnv, StepParams, StepResult, StepType


class CloudCheck(StepParams):
    step: str = Field(
        min_length=1,
        description="The id of the step whose target is read.",
        examples=["switch-dns"],
    )
    type: str = Field(min_length=1, description="That step's type.", examples=["dns.switch"])
    params: dict[str, JsonValue] = Field(
        description="That step's parameters, as its mode resolves them.",
        examples=[{"provider": "aws", "zone": "example.com", "record": "api.example.com."}],
    )


class CloudReachableParams(StepParams):
    checks: list[CloudCheck] = Field(
        min_length=1,
        description="The switch steps whose targets (DNS records, backend sets) are read.",
        examples=[[{"step": "switch-dns", "type": "dns.switch", "params": {}}]],
    )


class CloudReachable(StepType[CloudReachableParams]):
    name = "cloud.reachable"
    params_model = CloudReachableParams
    summary = "every DNS record and backend the plan switches can be read (added automatically)"
    default_timeout_s = 120.0

    def describe(self, params: CloudReachableParams) -> str:
        return "cloud targets readable: " + ", ".join(check.step for check in params.checks)

    def run(self, params: CloudReachableParams, env: StepEnv) -> StepResult:
        found: dict[str, str | int | float | bool | None] = {}
        problems = []
        for check in params.checks:
            try:
                found[check.step] = _read_target(check, env)
            except ProviderError as exc:
                problems.append(f"{check.step}: {exc}")
        if problems:
            raise StepFailed("cannot read: " + "; ".join(problems))
        return StepResult(summary=f"{len(found)} target(s) readable", facts=found)


def _read_target(check: CloudCheck, env: StepEnv) -> str:
    from drill.steps import STEP_TYPES  # the registry imports this module

    step_type: StepType[Any] = STEP_TYPES[check.type]
    params = step_type.params_model.model_validate(check.params)
    return step_type.read_target(params, env)
