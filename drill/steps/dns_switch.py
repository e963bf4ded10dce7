"""``dns.switch``: point a DNS record at new rrdatas (Cloud DNS or Route53).

The prior record (rrdatas and TTL, or its absence) is journaled first; the switch is one
change that names the exact record it replaces, so a record someone else changed meanwhile
is reported, never half-overwritten. Undo does the same in reverse, and only while the record
still holds what drill set.
"""

from __future__ import annotations

import ipaddress
from typing import TYPE_CHECKING, Annotated, Literal

from pydantic import Field, JsonValue, StringConstraints, field_validator, model_validator

from drill.durations import WholeSeconds, format_duration
from drill.errors import StepFailed, TransientError
from drill.fieldtypes import Duration
from drill.steps._base import (
    Cutover,
    Fact,
    ReadBack,
    Resource,
    StepEnv,
    StepParams,
    StepResult,
    StepType,
    Unverified,
    dns_name,
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
    from providers.protocols import DnsApi, PendingChange, RecordSet

DEFAULT_TTL_S = 300
Facts = dict[str, Fact]


class DnsResolveCheck(StepParams):
    """After the change is done: ask these nameservers until they give the new answer."""

    nameservers: list[Annotated[str, StringConstraints(pattern=r"^\S+$")]] = Field(
        min_length=1,
        description="Nameservers (names or addresses) asked for the record until each gives "
        "the new answer; the time it took is reported.",
        examples=[["ns-cloud-a1.googledomains.com."]],
    )
    within: Duration = Field(
        default=300.0,
        description="How long they may take to answer it.",
        examples=["2m"],
    )


class DnsSwitchParams(StepParams):
    provider: Literal["gcp", "aws"] = Field(
        description="gcp: Cloud DNS; aws: Route53.", examples=["gcp"]
    )
    zone: str = Field(
        min_length=1,
        description="The Cloud DNS managed zone's name, or the Route53 hosted zone's id or domain.",
        examples=["example-com"],
    )
    project: str | None = Field(
        default=None,
        description="The Google Cloud project of the zone (gcp: required).",
        examples=["example-prod"],
    )
    record: str = Field(
        min_length=1,
        description="The record's DNS name (a final dot is added). Drill mode needs a record "
        "of its own (a shadow record), named per mode through names.",
        examples=["drill-api.example.com."],
    )
    type: Literal["A", "AAAA", "CNAME"] = Field(
        default="A", description="The record's type.", examples=["CNAME"]
    )
    rrdatas: list[str] = Field(
        min_length=1,
        description="The new answer: IP addresses (A, AAAA) or the one target name (CNAME). "
        "Undo puts the old answer back if the record still holds this one.",
        examples=[["34.56.78.90"]],
    )
    ttl: WholeSeconds | None = Field(
        default=None,
        ge=0,
        le=86400,
        description="The TTL to set (default: keep the record's).",
        examples=["60s"],
    )
    verify: DnsResolveCheck | None = Field(
        default=None,
        description="Once the change is done, time until these nameservers answer the new "
        "value: nameservers and within.",
        examples=[{"nameservers": ["ns-cloud-a1.googledomains.com."], "within": "2m"}],
    )
    create: bool = Field(
        default=False,
        description="Create the record if it does not exist (its undo deletes it again). "
        "Without it a missing record fails the step: a switch changes a record that is there, "
        "so a misspelt name is caught instead of created.",
        examples=[True],
    )

    @field_validator("record")
    @classmethod
    def _fully_qualified(cls, record: str) -> str:
        return record if record.endswith(".") else f"{record}."

    @model_validator(mode="after")
    def _consistent(self) -> DnsSwitchParams:
        if self.provider == "gcp" and not self.project:
            raise ValueError("project: Cloud DNS zones live in a project; name it")
        _check_rrdatas(self.type, self.rrdatas)
        return self

    def answer(self) -> tuple[str, ...]:
        if self.type == "CNAME":
            return tuple(r if r.endswith(".") else f"{r}." for r in self.rrdatas)
        return tuple(self.rrdatas)

    def intended(self, before: RecordSet | None) -> RecordSet:
        """The record this step sets, given what was there before it ran."""
        from providers.protocols import RecordSet

        ttl = self.ttl if self.ttl is not None else (before.ttl if before else DEFAULT_TTL_S)
        return RecordSet(name=self.record, type=self.type, ttl=ttl, rrdatas=self.answer())


def _check_rrdatas(record_type: str, rrdatas: list[str]) -> None:
    if record_type == "CNAME" and len(rrdatas) != 1:
        raise ValueError("rrdatas: a CNAME has exactly one target")
    version = {"A": 4, "AAAA": 6}.get(record_type)
    for value in rrdatas if version else ():
        try:
            address = ipaddress.ip_address(value)
        except ValueError:
            raise ValueError(f"rrdatas: {value!r} is not an IP address") from None
        if address.version != version:
            raise ValueError(f"rrdatas: {value!r} is not an IPv{version} address")


class DnsSwitch(StepType[DnsSwitchParams]):
    name = "dns.switch"
    params_model = DnsSwitchParams
    summary = "replaces a DNS record's rrdatas in one change; undo puts the old ones back"
    mutating = True
    default_timeout_s = 600.0

    def describe(self, params: DnsSwitchParams) -> str:
        rrdatas = ", ".join(params.rrdatas)
        return f"point {params.type} {params.record} at {rrdatas} ({params.provider})"

    def serving_target(self, params: DnsSwitchParams) -> str:
        where = f"project {params.project} " if params.project else ""
        return f"{params.type} record {params.record} in {where}zone {params.zone}"

    def writes(self, params: DnsSwitchParams, cluster: str) -> frozenset[Resource]:
        # DNS names are global: the same name is the same record whichever zone names it.
        return frozenset({Resource("DNS record", "DNS", dns_name(params.record))})

    def to_verify(self, params: DnsSwitchParams, cluster: str) -> tuple[Unverified, ...]:
        if params.verify is not None:
            return ()  # it waits until the nameservers answer the new data itself
        remedy = (
            "give it `verify: {nameservers: [...], within: 2m}`, or check a URL on "
            f"{params.record.rstrip('.')} with a later http.check"
        )
        return (Unverified(next(iter(self.writes(params, cluster))), "switches", remedy),)

    def read_target(self, params: DnsSwitchParams, env: StepEnv) -> str:
        current = _dns(params, env).get_record(params.zone, params.record, params.type)
        return f"{params.record} {_show(current)}"

    def default_timeout(self, params: DnsSwitchParams) -> float:
        return self.default_timeout_s + (params.verify.within if params.verify else 0.0)

    def capture_prior_state(self, params: DnsSwitchParams, env: StepEnv) -> JsonValue:
        before = _dns(params, env).get_record(params.zone, params.record, params.type)
        return {"record": _to_json(before)}

    def run(self, params: DnsSwitchParams, env: StepEnv) -> StepResult:
        dns = _dns(params, env)
        # An earlier try's change is done first; then what is live is what counts.
        noted = await_noted_change(lambda i: dns.change_status(params.zone, i), "DNS change", env)
        live = dns.get_record(params.zone, params.record, params.type)
        # The journaled read is the precondition: a change made since is refused, not lost.
        before = live if env.prior is None else _from_json(env.prior)
        if before is None and not params.create:
            raise StepFailed(
                f"{params.record} {params.type} does not exist in zone {params.zone}: a switch "
                "changes a record that is there; check its name and type, or set create: true"
            )
        wanted = params.intended(before)
        facts: Facts = {
            "from": _show(before),
            "to": _show(wanted),
        }
        summary = f"{params.record} {_show(before)} -> {_show(wanted)}"
        if not wanted.same_as(live):
            facts["change"] = _apply(dns, params.zone, before, wanted, env).id
        elif noted is None:
            # Already as wanted before this run: it still has to be served (verify below).
            summary = f"{params.record} already {_show(wanted)}"
        else:
            facts["change"] = noted
        visible_s = None
        if params.verify:
            visible_s = round(_await_answer(params, params.verify, env), 3)
            facts["visible_after_s"] = visible_s
            summary += f"; answered by its nameservers after {format_duration(visible_s)}"
        return StepResult(summary=summary, facts=facts, cutover=_cutover(params, before, facts))

    def undo(self, params: DnsSwitchParams, prior: JsonValue, env: StepEnv) -> str:
        before = _from_json(prior)
        dns = _dns(params, env)
        # Read only once drill's own change landed.
        await_noted_change(lambda i: dns.change_status(params.zone, i), "DNS change", env)
        live = dns.get_record(params.zone, params.record, params.type)
        if (before is None and live is None) or (before is not None and before.same_as(live)):
            return f"{params.record} already back to {_show(before)}"
        ours = params.intended(before)
        if not ours.same_as(live):
            if never_changed(env):
                return f"{params.record} left as is ({_show(live)}): drill's change was never made"
            raise StepFailed(
                f"{params.record} now holds {_show(live)}, not what drill set ({_show(ours)}): "
                "someone changed it since; left as is"
            )
        _apply(dns, params.zone, live, before, env)
        return f"{params.record} back to {_show(before)}"

    def verify_undone(
        self, params: DnsSwitchParams, prior: JsonValue, env: StepEnv
    ) -> list[ReadBack]:
        """The record holds exactly the journaled rrdatas and TTL (or is absent, if it was)."""
        before = _from_json(prior)
        live = _dns(params, env).get_record(params.zone, params.record, params.type)
        same = live is None if before is None else before.same_as(live)
        return [ReadBack.compared(self.undo_target(params), same, _show(live), _show(before))]

    def undo_target(self, params: DnsSwitchParams) -> str:
        return f"{params.type} record {params.record}"


def _cutover(params: DnsSwitchParams, before: RecordSet | None, facts: Facts) -> Cutover | None:
    """How clients meet the change this run made; None when it made none (nothing to meet)."""
    if "change" not in facts:
        return None
    visible_s = facts.get("visible_after_s")
    return Cutover(
        record=params.record,
        visible_after_s=float(visible_s) if isinstance(visible_s, int | float) else None,
        old_ttl_s=before.ttl if before is not None else None,
    )


def _dns(params: DnsSwitchParams, env: StepEnv) -> DnsApi:
    return env.providers.dns(params.provider, params.project)


def _apply(
    dns: DnsApi, zone: str, current: RecordSet | None, new: RecordSet | None, env: StepEnv
) -> PendingChange:
    change = submitted(dns.change_record(zone, current, new), env)
    return wait_until_done(
        change, lambda change_id: dns.change_status(zone, change_id), "DNS change", env
    )


def _await_answer(params: DnsSwitchParams, check: DnsResolveCheck, env: StepEnv) -> float:
    """Seconds until the nameservers answer the new rrdatas; fails after ``check.within``."""
    resolver = env.providers.resolver()
    wanted = sorted(params.answer())
    answer: tuple[str, ...] = ()

    def still_wrong() -> tuple[str, str] | None:
        nonlocal answer
        try:
            answer = resolver.resolve(params.record, params.type, check.nameservers)
        except TransientError as exc:  # a nameserver that does not answer yet: ask again
            env.log.info("dns_resolve_failed", error=str(exc))
        if sorted(answer) == wanted:
            return None
        shown = ", ".join(answer) or "nothing"
        return f"{params.record} still answers {shown} from {', '.join(check.nameservers)}", ""

    return poll_until(still_wrong, check.within, f"{params.record} to answer {wanted}", env)


def _to_json(record: RecordSet | None) -> JsonValue:
    if record is None:
        return None
    return {
        "name": record.name,
        "type": record.type,
        "ttl": record.ttl,
        "rrdatas": list(record.rrdatas),
    }


def _from_json(prior: JsonValue) -> RecordSet | None:
    raw = prior.get("record") if isinstance(prior, dict) else "missing"
    if raw is None:
        return None
    if not isinstance(raw, dict):
        raise StepFailed("journal holds no previous DNS record for this switch")
    rrdatas = raw.get("rrdatas")
    ttl = raw.get("ttl")
    if not isinstance(rrdatas, list) or not isinstance(ttl, int):
        raise StepFailed("journal's previous DNS record is incomplete")
    from providers.protocols import RecordSet

    return RecordSet(
        name=str(raw.get("name")),
        type=str(raw.get("type")),
        ttl=ttl,
        rrdatas=tuple(str(r) for r in rrdatas),
    )


def _show(record: RecordSet | None) -> str:
    if record is None:
        return "(absent)"
    return f"{', '.join(record.rrdatas)} ttl {record.ttl}"
