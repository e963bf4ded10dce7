"""Service tiers and their RPO/RTO targets (chapter 21.7's table are the defaults)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from drill.durations import format_duration


@dataclass(frozen=True)
class Targets:
    rpo_s: float
    rto_s: float

    def describe(self) -> str:
        return f"RPO {format_duration(self.rpo_s)} / RTO {format_duration(self.rto_s)}"


DEFAULT_TIERS: Mapping[str, Targets] = {
    "critical": Targets(rpo_s=5 * 60, rto_s=15 * 60),
    "high": Targets(rpo_s=3600, rto_s=4 * 3600),
    "medium": Targets(rpo_s=24 * 3600, rto_s=8 * 3600),
    "low": Targets(rpo_s=7 * 24 * 3600, rto_s=24 * 3600),
}
