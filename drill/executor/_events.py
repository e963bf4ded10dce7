"""The journal's events: every kind a run writes and its fields, defined once.

The executor writes these, ``drill report`` rebuilds reports from them and ``drill rollback``
undoes from them, so a field added here is added for all three. On disk each event is one JSON
object on one line: ``ts`` and ``run_id`` (see ``JournalEntry``), ``event`` (the kind), then
the fields in the order declared here.

Journals outlive the drill that wrote them: a field added later must be optional, with a
default, so that older journals still load; fields a reader does not know are ignored.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import datetime
from typing import Annotated, Literal, get_args

from pydantic import BaseModel, ConfigDict, Field, JsonValue, PlainSerializer

from drill.report import (
    Outcome,
    RecoveryPointKind,
    RestoreCompleteness,
    RollbackCheck,
    StepStatus,
    UndoStatus,
)
from drill.tiers import TargetOrigin, Targets

# Written as ``datetime.isoformat()`` always has been ("+00:00", not pydantic's "Z").
Moment = Annotated[datetime, PlainSerializer(datetime.isoformat, return_type=str)]


def _targets_line(targets: Targets | None) -> dict[str, JsonValue] | None:
    """Targets as a journal line holds them: a tier default's origin is left out, so a
    journal from before origins were recorded writes back as it was read."""
    if targets is None:
        return None
    line: dict[str, JsonValue] = {"rpo_s": targets.rpo_s, "rto_s": targets.rto_s}
    for name, origin in (("rpo_origin", targets.rpo_origin), ("rto_origin", targets.rto_origin)):
        if origin != TargetOrigin():
            line[name] = {
                "source": origin.source,
                "tier_default_s": origin.tier_default_s,
                "config_s": origin.config_s,
            }
    return line


class _Event(BaseModel):
    # ``kind`` is written as "event": the name journals have always used for it.
    # Built on first use (pydantic builds under a lock, so parallel steps may race to it).
    model_config = ConfigDict(extra="ignore", frozen=True, defer_build=True)


class RunStarted(_Event):
    kind: Literal["run_started"] = Field("run_started", alias="event")
    plan: str
    plan_file: str
    mode: Literal["drill", "live"]
    # Journals from before these were recorded lack them; the plan can stand in.
    service: str | None = None
    tier: str | None = None
    # Each target's origin (a plan's or the config file's override, and the tier default it
    # replaced) is written only when it is one, so ``drill report`` can say so again.
    targets: Annotated[Targets | None, PlainSerializer(_targets_line)] = None
    disaster_at: Moment
    disaster_at_source: Literal["run start", "--disaster-at"] | None = None
    contexts: dict[str, str]
    # The plan file's SHA-256 when the run started; rollback refuses a plan changed since.
    plan_sha256: str | None = None
    # A `--sandbox` run: its rollback and report use the sandbox, never a real cluster.
    sandbox: bool | None = None
    # Where the run's process is: on that host, rollback can tell a dead run from a live one.
    host: str | None = None
    pid: int | None = None


class StepSkipped(_Event):
    """A step the plan skips (``skip_reason``); it never starts."""

    kind: Literal["step_skipped"] = Field("step_skipped", alias="event")
    step_id: str
    type: str | None = None  # older journals lack type and phase
    phase: str | None = None
    reason: str | None = None


class StepStarted(_Event):
    kind: Literal["step_started"] = Field("step_started", alias="event")
    step_id: str
    type: str
    phase: str


class MutationRecord(_Event):
    """The ``prior_state`` event: written after a mutating step captured what it will change
    and before it changes anything; enough to undo the step without the plan."""

    kind: Literal["prior_state"] = Field("prior_state", alias="event")
    step_id: str
    type: str
    params: dict[str, JsonValue]
    prior: JsonValue
    context: str | None
    timeout_s: float
    retries: int
    # True when this run journals the step's notes (``step_note``): then no note means the
    # step never submitted a change. Journals from before notes existed read False.
    notes_kept: bool = False


class StepNoted(_Event):
    """What a mutating step must not forget across a retry, an undo or a crash: the id of a
    change the cloud accepted. Written the moment the step learns it."""

    kind: Literal["step_note"] = Field("step_note", alias="event")
    step_id: str
    key: str
    value: JsonValue


class RecoveryPointSet(_Event):
    """A step said which moment's data the recovery brought back: the RPO's measure."""

    kind: Literal["recovery_point"] = Field("recovery_point", alias="event")
    step_id: str
    at: Moment
    source: str
    # Read inside the data, or from backup metadata; journals from before probes read None,
    # which is backup metadata (the only kind there was).
    point_kind: RecoveryPointKind | None = None


class RestoreCounted(_Event):
    """A restore compared with its backup: items restored against items in it, per kind."""

    kind: Literal["restore_completeness"] = Field("restore_completeness", alias="event")
    completeness: RestoreCompleteness


class StepFinished(_Event):
    kind: Literal["step_finished"] = Field("step_finished", alias="event")
    step_id: str
    status: StepStatus
    duration_s: float
    attempts: int = 0
    error: str | None = None


class UndoFinished(_Event):
    """One mutation undone, or not: undo starts are not journaled."""

    kind: Literal["undo_finished"] = Field("undo_finished", alias="event")
    step_id: str
    status: UndoStatus
    detail: str = ""


class UndoVerified(_Event):
    """An undone step's objects read back and compared with the prior state it journaled:
    written after each undo (or for an undo abandoned, saying it was not verified)."""

    kind: Literal["undo_verified"] = Field("undo_verified", alias="event")
    step_id: str
    checks: list[RollbackCheck]


class RollbackMeasured(_Event):
    """A rollback ended (a drill's own, or ``drill rollback``'s): from its first undo to the
    end of its rollback phase, and whether every object read back equal to its prior state."""

    kind: Literal["rollback_measured"] = Field("rollback_measured", alias="event")
    started_at: Moment
    duration_s: float
    verified: bool | None


class RollbackStarted(_Event):
    """``drill rollback`` began on this journal: what follows is not part of the run."""

    kind: Literal["rollback_started"] = Field("rollback_started", alias="event")
    pending: list[str]


class RollbackFinished(_Event):
    kind: Literal["rollback_finished"] = Field("rollback_finished", alias="event")
    failed: list[str]


class ProbePlanned(BaseModel):
    """A probe as a report shows it; the URL's secrets are masked, headers are not kept."""

    model_config = ConfigDict(extra="ignore", frozen=True)
    name: str
    url: str
    interval_s: float
    successes: int
    through: str | None = None  # the context role whose API server it was asked through


class ProbesStarted(_Event):
    """The plan's probes began asking what users reach; ``skipped``: why the others do not
    run in this mode."""

    kind: Literal["probes_started"] = Field("probes_started", alias="event")
    at: Moment
    probes: list[ProbePlanned]
    skipped: list[str] = Field(default_factory=list)


class ProbeAttempted(_Event):
    """One request of a probe: ``at`` is when it was sent, ``phase`` what was running."""

    kind: Literal["probe_attempt"] = Field("probe_attempt", alias="event")
    probe: str
    at: Moment
    phase: str
    ok: bool
    status: int | None = None
    latency_ms: float | None = None
    error: str | None = None


class ProbesStopped(_Event):
    """The end of verify (or of the forward phases, when they stopped early): no attempt of
    the run counts after ``at``."""

    kind: Literal["probes_stopped"] = Field("probes_stopped", alias="event")
    at: Moment


class CutoverMeasured(_Event):
    """A DNS switch as clients see it: when its nameservers answered the new data, and how
    long clients may keep the old answer (its TTL)."""

    kind: Literal["client_cutover"] = Field("client_cutover", alias="event")
    step_id: str
    record: str
    visible_after_s: float | None
    old_ttl_s: int | None


class RunFinished(_Event):
    kind: Literal["run_finished"] = Field("run_finished", alias="event")
    outcome: Outcome
    exit_code: int


JournalEvent = Annotated[
    RunStarted
    | StepSkipped
    | StepStarted
    | MutationRecord
    | StepNoted
    | RecoveryPointSet
    | RestoreCounted
    | StepFinished
    | UndoFinished
    | UndoVerified
    | RollbackMeasured
    | RollbackStarted
    | RollbackFinished
    | ProbesStarted
    | ProbeAttempted
    | ProbesStopped
    | CutoverMeasured
    | RunFinished,
    Field(discriminator="kind"),
]
# The kinds this drill knows; reading skips others (a newer drill's), as it skips unknown fields.
EVENT_KINDS: frozenset[str] = frozenset(
    model.model_fields["kind"].default for model in get_args(get_args(JournalEvent)[0])
)


class JournalEntry(BaseModel):
    """One line of a journal: when it was written, by which run, and the event. On disk the
    event's fields sit beside ``ts`` and ``run_id`` in one flat JSON object."""

    model_config = ConfigDict(frozen=True, defer_build=True)
    ts: datetime
    run_id: str
    event: JournalEvent

    @classmethod
    def from_line(cls, line: Mapping[str, JsonValue]) -> JournalEntry:
        """Raises pydantic's ValidationError; locations inside the event start with
        ``("event", kind)``."""
        envelope = {key: line[key] for key in ("ts", "run_id") if key in line}
        return cls.model_validate({**envelope, "event": line})

    def to_line(self) -> str:
        head = {"ts": self.ts.isoformat(), "run_id": self.run_id}
        return json.dumps({**head, **self.event.model_dump(mode="json", by_alias=True)})
