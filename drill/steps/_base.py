"""The contract between the executor and a step type."""

from __future__ import annotations

import hashlib
import threading
from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any, ClassVar, Generic, Literal, Protocol, TypeVar

from pydantic import BaseModel, ConfigDict, JsonValue

from drill.clock import Clock
from drill.durations import format_moment
from drill.errors import StepFailed

if TYPE_CHECKING:
    # Named in annotations only: checking a plan builds none of the providers' result types.
    from drill.steps._restore_contents import RestoreTally
    from providers.protocols import (
        BackendApi,
        DnsApi,
        HttpClient,
        KubeApi,
        ObjectStore,
        Resolver,
        VeleroApi,
    )

Mode = Literal["drill", "live"]
# Where a recovery point was read: inside the recovered data (a heartbeat), or in what a backup
# says of itself (its start time, an object's creation time). The report's own word for it.
RecoveryPointKind = Literal["data", "backup metadata"]
# Every object a run creates carries its run id here, so cleanup can prove ownership.
RUN_LABEL = "drill.dev/run-id"
Cloud = Literal["gcp", "aws"]
Fact = str | int | float | bool | None


class StepParams(BaseModel):
    """Base of every step type's ``with:`` block: strict and immutable."""

    # Built on first use: listing or validating plans builds only the step types they use.
    model_config = ConfigDict(
        extra="forbid", frozen=True, str_strip_whitespace=True, defer_build=True
    )

    def as_json(self) -> dict[str, JsonValue]:
        """The plan form of these params (durations as "90s"): what the journal keeps, and
        what validates back into the same params."""
        dumped: dict[str, JsonValue] = self.model_dump(mode="json")
        return dumped


P = TypeVar("P", bound=StepParams)


class Providers(Protocol):
    """What a running step can reach. Adapters are built lazily on first use."""

    def http(self) -> HttpClient: ...

    def kube(self, context: str) -> KubeApi: ...

    def velero(self, context: str, namespace: str) -> VeleroApi: ...

    def object_store(
        self, cloud: Cloud, project: str | None, region: str | None
    ) -> ObjectStore: ...

    def dns(self, cloud: Cloud, project: str | None) -> DnsApi: ...

    def backends(self, cloud: Cloud) -> BackendApi: ...

    def resolver(self) -> Resolver: ...


class Logger(Protocol):
    def info(self, event: str, **kw: Any) -> Any: ...

    def warning(self, event: str, **kw: Any) -> Any: ...

    def debug(self, event: str, **kw: Any) -> Any: ...


@dataclass(frozen=True)
class RecoveryPoint:
    """The newest moment whose data a recovery brings back, what said so, and where it was
    read: inside the recovered data, or in the backup's metadata."""

    at: datetime
    source: str
    kind: RecoveryPointKind = "backup metadata"


@dataclass(frozen=True)
class Cutover:
    """A DNS change as clients meet it: the nameservers answer the new data
    ``visible_after_s`` after the change (None: not measured), and clients that asked before
    may keep the old answer for its TTL (``old_ttl_s``; None when there was no record)."""

    record: str
    visible_after_s: float | None
    old_ttl_s: int | None


@dataclass(frozen=True)
class StepResult:
    summary: str
    facts: Mapping[str, Fact] = field(default_factory=dict)
    recovery_point: RecoveryPoint | None = None
    # A restore's completeness (drill/steps/_restore_contents.py), for the report.
    restore: RestoreTally | None = None
    cutover: Cutover | None = None


@dataclass(frozen=True)
class Resource:
    """One thing a step writes (or restores from), named so that two spellings of the same
    thing compare equal: DNS names without case or trailing dot, namespaces per context role.

    ``namespace`` is set for what lives inside a namespace (a workload), so that writing the
    namespace as a whole (a restore into it, a Job in it) meets what lives in it.
    """

    kind: Literal["DNS record", "backend", "namespace", "workload"]
    scope: str  # where the name means something: "DNS", "context role dr", "gcp project p"
    name: str
    namespace: str | None = None

    def meets(self, other: Resource) -> bool:
        if self.scope != other.scope:
            return False
        if self.kind == "namespace" or other.kind == "namespace":
            return self._namespace() == other._namespace()
        return (self.kind, self.name, self.namespace) == (other.kind, other.name, other.namespace)

    def _namespace(self) -> str | None:
        return self.name if self.kind == "namespace" else self.namespace

    def __str__(self) -> str:
        inside = f" in namespace {self.namespace}" if self.namespace else ""
        return f"{self.kind} {self.name}{inside} ({self.scope})"


@dataclass(frozen=True)
class Unverified:
    """Something a step changes that a later step must show serves: a scaled workload ready, a
    restored namespace waited on, a switched record answering, a switched backend healthy."""

    resource: Resource
    change: str  # what the step does to it, as a verb phrase: "scales", "restores into"
    remedy: str  # what to add to the plan so that a step checks it


def covers(proof: Resource, changed: Resource) -> bool:
    """Whether a step that proves ``proof`` checks ``changed``. A workload proof named
    ``"KIND *"`` stands for every workload of that kind in its namespace (a wait with no
    selector waits on all of them)."""
    if (proof.kind, proof.scope, proof.namespace) != (
        changed.kind,
        changed.scope,
        changed.namespace,
    ):
        return False
    if proof.name == changed.name:
        return True
    kind, _, name = proof.name.partition(" ")
    return proof.kind == "workload" and name == "*" and changed.name.startswith(kind + " ")


def dns_name(name: str) -> str:
    """A DNS name as DNS compares it: case-insensitive, with or without the final dot."""
    return name.strip().rstrip(".").lower() + "."


ReadBackStatus = Literal["equal", "differs", "not verified"]


@dataclass(frozen=True)
class ReadBack:
    """One object a step changed, re-read after its undo and compared with the prior state the
    step journaled.

    ``equal``: it holds exactly its prior state. ``differs``: it holds something else (someone
    changed it, or the undo could not put it back); ``detail`` names both. ``not verified``:
    drill could not tell (the read failed, or a deletion was still under way when drill stopped
    waiting); ``detail`` says why. Only ``equal`` lets a rollback be called verified.
    """

    target: str
    status: ReadBackStatus
    detail: str

    @classmethod
    def compared(cls, target: str, same: bool, now: str, before: str) -> ReadBack:
        """``now`` is what drill read, ``before`` the journaled prior, both in words."""
        if same:
            return cls(target, "equal", f"{now}, as drill found it")
        return cls(target, "differs", f"{now}, not {before} as drill found it")


class StepTimedOut(StepFailed):
    """The step's own timeout ran out; the message says what it was waiting for."""


def _nobody_listens(waiting_for: str) -> None:
    return


def _nothing_kept(key: str, value: JsonValue) -> None:
    return


@dataclass(frozen=True)
class StepEnv:
    """Everything one step run may use: identity, time, cancellation and providers."""

    run_id: str
    step_id: str
    mode: Mode
    context: str | None  # the kube context this step's role maps to
    clock: Clock
    cancel: threading.Event
    deadline: float  # monotonic
    providers: Providers
    log: Logger
    # Told what each wait is for, so a live display can say it; nothing else depends on it.
    on_wait: Callable[[str], None] = _nobody_listens
    # A mutating step's prior state as journaled: the precondition of its change, so a change
    # someone made after drill read it is refused instead of overwritten.
    prior: JsonValue = None
    # What earlier tries of this step noted (a submitted change's id), for retries to adopt
    # and undo to wait for; None when unknown (a journal written before notes existed).
    notes: Mapping[str, JsonValue] | None = None
    # Journals a note at once (before the step goes on), so a crash cannot lose it.
    note: Callable[[str, JsonValue], None] = _nothing_kept
    # The run's t0: what existed then is what a recovery may bring back (None outside a run:
    # an undo, a test; then "now" stands in).
    disaster_at: datetime | None = None
    disaster_at_source: Literal["run start", "--disaster-at"] = "run start"

    def t0(self) -> datetime:
        """When the disaster is declared: backups completed after it did not exist yet."""
        return self.disaster_at if self.disaster_at is not None else self.clock.now()

    def t0_words(self) -> str:
        """t0 as a message names it: ``t0 2026-01-02 03:04:05Z (--disaster-at)``."""
        return f"t0 {format_moment(self.t0())} ({self.disaster_at_source})"

    def remaining_s(self) -> float:
        return self.deadline - self.clock.monotonic()

    def wait(self, seconds: float, waiting_for: str, now: str = "") -> None:
        """Sleep, but never past the deadline: then fail, saying what we were waiting for.
        ``now``: what still stands in the way, said to the view instead and added to a
        timeout's message."""
        remaining = self.remaining_s()
        if remaining <= 0:
            said = f" ({now})" if now else ""
            raise StepTimedOut(f"timed out waiting for {waiting_for}{said}")
        self.on_wait(now or waiting_for)
        self.clock.sleep(min(seconds, remaining), self.cancel)

    def cluster(self) -> str:
        """The kube context this step acts on (validation guarantees one for cluster steps)."""
        if self.context is None:
            raise StepFailed("this step needs a context role")
        return self.context

    def object_name(self, prefix: str) -> str:
        """A Kubernetes name unique to this run and step, stable across retries and rollback."""
        digest = hashlib.sha256(f"{self.run_id}/{self.step_id}".encode()).hexdigest()[:10]
        return f"{prefix[:52]}-{digest}"

    def run_labels(self) -> dict[str, str]:
        """Labels for every object a run creates, so cleanup can prove ownership."""
        return {"app.kubernetes.io/managed-by": "drill", RUN_LABEL: self.run_id}

    def created_by_this_run(self, labels: Mapping[str, str]) -> bool:
        return labels.get(RUN_LABEL) == self.run_id


class StepType(ABC, Generic[P]):
    """One kind of step. Subclasses live one per module and register in ``drill.steps``.

    A mutating type captures the prior state before it acts; its undo is derived from that
    record alone (plus the params), so ``drill rollback`` can undo a run from its journal.
    """

    name: ClassVar[str]
    params_model: ClassVar[type[StepParams]]
    summary: ClassVar[str]
    mutating: ClassVar[bool] = False
    needs_context: ClassVar[bool] = False
    # The kind of recovery point this type sets when it passes, if it sets one: when such a
    # step fails or never runs, the run's RPO is not measured.
    recovery_point_kind: ClassVar[RecoveryPointKind | None] = None
    default_timeout_s: ClassVar[float] = 300.0

    def default_timeout(self, params: P) -> float:
        """The timeout when the plan gives none; types whose params imply a wait stretch it."""
        return self.default_timeout_s

    @abstractmethod
    def describe(self, params: P) -> str:
        """One line for ``drill show``: what this step would do, secrets masked."""

    def read_target(self, params: P, env: StepEnv) -> str:
        """Read what this step would change, as it will before acting; say what is there.

        Types with a ``serving_target`` implement it: preflight calls it so credentials,
        permissions and names are proven before anything changes.
        """
        raise NotImplementedError(f"{self.name} has no target to read")

    def serving_target(self, params: P) -> str | None:
        """What this step changes that may serve users (a DNS record, a backend), if anything.

        Preflight reads each of these first, so credentials and names are proven early.
        """
        return None

    def writes(self, params: P, cluster: str) -> frozenset[Resource]:
        """Everything this step may change when run with ``params`` against ``cluster``.

        ``cluster`` names the cluster the way the caller can: "context role dr" when a plan
        is validated, "kube context gke_..." when it runs (two roles may share a cluster).
        A plan's footprint in a mode is the union over its steps; drill mode's footprint
        must not meet live mode's, nor what a restore reads from (see ``restores_from``).
        """
        return frozenset()

    def unbounded(self, params: P) -> str | None:
        """Why ``writes`` cannot name everything this step may change, if it cannot (a restore
        of every namespace in a backup): such a step may not run in a drill."""
        return None

    def restores_from(self, params: P, cluster: str) -> frozenset[Resource]:
        """Existing data this step copies from: production, which no drill may write."""
        return frozenset()

    def to_verify(self, params: P, cluster: str) -> tuple[Unverified, ...]:
        """What this step changes that a later step must check (``drill validate`` warns when
        none does); nothing when the step checks it itself (a switch's own ``verify``)."""
        return ()

    def verifies(self, params: P, cluster: str) -> frozenset[Resource]:
        """What this step shows serves once it passes (see ``covers``)."""
        return frozenset()

    @abstractmethod
    def run(self, params: P, env: StepEnv) -> StepResult: ...

    def capture_prior_state(self, params: P, env: StepEnv) -> JsonValue:
        """Read-only snapshot of what ``run`` is about to change (mutating types only)."""
        raise NotImplementedError(f"{self.name} does not change anything")

    def undo(self, params: P, prior: JsonValue, env: StepEnv) -> str:
        """Put back ``prior``; returns a line saying what was restored."""
        raise NotImplementedError(f"{self.name} does not change anything")

    def verify_undone(self, params: P, prior: JsonValue, env: StepEnv) -> list[ReadBack]:
        """After ``undo`` (whatever it returned or raised): re-read every object the step
        changes and compare it with ``prior``, one ReadBack each. Read-only; a read that fails
        raises, and the executor reports the step's objects "not verified" with the reason."""
        raise NotImplementedError(f"{self.name} cannot re-read what it changed")

    def undo_target(self, params: P) -> str:
        """What the step changes, in a few words: names a check that could not be made."""
        return self.describe(params)
