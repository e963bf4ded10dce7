"""Service tiers and their RPO/RTO targets (chapter 21.7's table are the defaults).

A target comes from the tier's built-in default, from the config file (which may redefine a
tier or add one), or from the plan (``targets:``, in place of its tier's); each target keeps
where it came from and what it replaced, so every report can say so.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal

from drill.durations import format_duration

TargetSource = Literal["tier default", "config", "plan"]


@dataclass(frozen=True)
class TargetOrigin:
    """Where one target came from, and the values it replaced.

    ``tier_default_s``: the tier's built-in target, when this one is not it (None for a tier
    only the config file defines). ``config_s``: the config file's target for the tier, when
    the plan replaced that one.
    """

    source: TargetSource = "tier default"
    tier_default_s: float | None = None
    config_s: float | None = None

    def replaced_by_plan(self, value_s: float) -> TargetOrigin:
        """The origin of a plan's target in place of this one (whose value was ``value_s``)."""
        if self.source == "config":
            return TargetOrigin("plan", self.tier_default_s, config_s=value_s)
        return TargetOrigin("plan", tier_default_s=value_s)

    def annotate(self, value_s: float, tier: str) -> str:
        """``30m (plan override; critical tier default 15m)``; ``15m`` for a tier's default."""
        said = self.describe(tier)
        return format_duration(value_s) + (f" ({said})" if said else "")

    def describe(self, tier: str) -> str:
        """``plan override; critical tier default 15m``; empty for a tier's own default."""
        if self.source == "tier default":
            return ""
        default = (
            f"{tier} tier default {format_duration(self.tier_default_s)}"
            if self.tier_default_s is not None
            else f"{tier} is not a built-in tier"
        )
        if self.source == "config":
            return f"config file override; {default}"
        in_config = (
            ""
            if self.config_s is None
            else f"{format_duration(self.config_s)} in the config file, "
        )
        return f"plan override; {in_config}{default}"


@dataclass(frozen=True)
class Targets:
    rpo_s: float
    rto_s: float
    rpo_origin: TargetOrigin = field(default_factory=TargetOrigin)
    rto_origin: TargetOrigin = field(default_factory=TargetOrigin)

    def describe(self, tier: str) -> str:
        """``RPO 5m / RTO 30m (plan override; critical tier default 15m)``."""
        rpo = self.rpo_origin.annotate(self.rpo_s, tier)
        return f"RPO {rpo} / RTO {self.rto_origin.annotate(self.rto_s, tier)}"

    def with_plan_targets(self, rpo_s: float | None, rto_s: float | None) -> Targets:
        """These targets with a plan's own in place of those it names. A plan that repeats
        its tier's value overrides nothing, and the report does not call it an override."""
        rpo_overridden = rpo_s is not None and rpo_s != self.rpo_s
        rto_overridden = rto_s is not None and rto_s != self.rto_s
        return Targets(
            rpo_s=rpo_s if rpo_s is not None and rpo_overridden else self.rpo_s,
            rto_s=rto_s if rto_s is not None and rto_overridden else self.rto_s,
            rpo_origin=self.rpo_origin.replaced_by_plan(self.rpo_s)
            if rpo_overridden
            else self.rpo_origin,
            rto_origin=self.rto_origin.replaced_by_plan(self.rto_s)
            if rto_overridden
            else self.rto_origin,
        )


DEFAULT_TIERS: Mapping[str, Targets] = {
    "critical": Targets(rpo_s=5 * 60, rto_s=15 * 60),
    "high": Targets(rpo_s=3600, rto_s=4 * 3600),
    "medium": Targets(rpo_s=24 * 3600, rto_s=8 * 3600),
    "low": Targets(rpo_s=7 * 24 * 3600, rto_s=24 * 3600),
}


def configured_tier(name: str, rpo_s: float, rto_s: float) -> Targets:
    """A tier's targets as a config file sets them, remembering the built-in ones."""
    built_in = DEFAULT_TIERS.get(name)
    return Targets(
        rpo_s=rpo_s,
        rto_s=rto_s,
        rpo_origin=_configured(rpo_s, built_in.rpo_s if built_in else None),
        rto_origin=_configured(rto_s, built_in.rto_s if built_in else None),
    )


def _configured(value_s: float, built_in_s: float | None) -> TargetOrigin:
    """A config file that repeats the built-in value overrides nothing."""
    return TargetOrigin() if value_s == built_in_s else TargetOrigin("config", built_in_s)
