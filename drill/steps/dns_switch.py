"""``dns.switch``: point a DNS record at new rrdatas (Cloud DNS or Route53)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, field_validator

from drill.fieldtypes import Duration
from drill.steps._base import PlannedStepType, StepParams


class DnsResolveCheck(StepParams):
    nameservers: list[str] = Field(min_length=1)
    within: Duration = 300.0


class DnsSwitchParams(StepParams):
    provider: Literal["gcp", "aws"]
    zone: str = Field(min_length=1, description="Cloud DNS managed zone or Route53 zone id")
    project: str | None = None
    record: str = Field(min_length=1)
    type: Literal["A", "AAAA", "CNAME"] = "A"
    rrdatas: list[str] = Field(min_length=1)
    ttl: int | None = Field(default=None, ge=0, le=86400)
    verify: DnsResolveCheck | None = None

    @field_validator("record")
    @classmethod
    def _fully_qualified(cls, record: str) -> str:
        return record if record.endswith(".") else f"{record}."


class DnsSwitch(PlannedStepType[DnsSwitchParams]):
    name = "dns.switch"
    params_model = DnsSwitchParams
    summary = "replaces a DNS record's rrdatas in one change; undo puts the old ones back"
    mutating = True
    default_timeout_s = 600.0

    def describe(self, params: DnsSwitchParams) -> str:
        rrdatas = ", ".join(params.rrdatas)
        return f"point {params.type} {params.record} at {rrdatas} ({params.provider})"
