"""In-memory clouds behind drill's own provider Protocols, for the step logic tests.

They keep the contracts that matter to the steps: a change names the exact record or backends
it replaces (else Conflict, nothing applied) and finishes a few status polls later.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import TypedDict

from pydantic import JsonValue

from drill.clock import FakeClock
from drill.errors import Conflict, NotFound
from drill.logs import build_logger
from drill.steps import StepEnv
from providers.protocols import (
    BackendRef,
    BackendState,
    BackendTarget,
    PendingChange,
    RecordSet,
    StoredObject,
)

START = datetime.fromisoformat("2026-11-24T00:30:00+00:00")


@dataclass
class FakeObjects:
    objects: list[StoredObject] = field(default_factory=list)
    listed: list[tuple[str, str]] = field(default_factory=list)
    contents: dict[str, bytes] = field(default_factory=dict)  # by object name
    reads: list[tuple[str, int]] = field(default_factory=list)  # (name, max_bytes)

    def list_objects(self, bucket: str, prefix: str) -> Iterator[StoredObject]:
        self.listed.append((bucket, prefix))
        if not any(o.bucket == bucket for o in self.objects):
            raise NotFound(f"bucket {bucket} does not exist")
        yield from (o for o in self.objects if o.bucket == bucket and o.name.startswith(prefix))

    def read_object(self, bucket: str, name: str, max_bytes: int) -> bytes:
        self.reads.append((name, max_bytes))
        if name not in self.contents:
            raise NotFound(f"no object {bucket}/{name}")
        return self.contents[name][:max_bytes]


@dataclass
class FakeDns:
    records: dict[tuple[str, str], RecordSet] = field(default_factory=dict)
    polls_until_done: int = 2
    changes: list[tuple[RecordSet | None, RecordSet | None]] = field(default_factory=list)
    _polls: dict[str, int] = field(default_factory=dict)

    def get_record(self, zone: str, name: str, type_: str) -> RecordSet | None:
        return self.records.get((name, type_))

    def change_record(
        self, zone: str, current: RecordSet | None, new: RecordSet | None
    ) -> PendingChange:
        changed = new or current
        assert changed is not None, "a change from no record to no record"
        key = changed.name, changed.type
        live = self.records.get(key)
        if (current is None) != (live is None) or (current and not current.same_as(live)):
            raise Conflict(f"{key[0]} no longer matches what drill read; nothing applied")
        self.changes.append((current, new))
        if new is None:
            del self.records[key]
        else:
            self.records[key] = new
        change_id = str(len(self.changes))
        self._polls[change_id] = 0
        return PendingChange(change_id, done=False, status="pending")

    def change_status(self, zone: str, change_id: str) -> PendingChange:
        self._polls[change_id] += 1
        done = self._polls[change_id] >= self.polls_until_done
        return PendingChange(change_id, done=done, status="done" if done else "pending")


@dataclass
class FakeResolver:
    """Answers the old rrdatas for the first ``stale_answers`` queries, then the live record."""

    dns: FakeDns
    stale: tuple[str, ...] = ()
    stale_answers: int = 0
    asked: int = 0

    def resolve(self, name: str, type_: str, nameservers: Sequence[str]) -> tuple[str, ...]:
        self.asked += 1
        if self.asked <= self.stale_answers:
            return self.stale
        record = self.dns.records.get((name, type_))
        return record.rrdatas if record else ()


@dataclass
class FakeBackends:
    services: dict[str, tuple[BackendTarget, ...]] = field(default_factory=dict)
    healthy_after_polls: int = 0
    sets: list[tuple[BackendTarget, ...]] = field(default_factory=list)
    health_polls: int = 0
    # Status polls before an operation lands (its backends show only then), as on Compute.
    polls_until_done: int = 0
    _pending: dict[str, tuple[str, tuple[BackendTarget, ...], int]] = field(default_factory=dict)

    def get_backends(self, ref: BackendRef) -> BackendState:
        if ref.name not in self.services:
            raise NotFound(f"backend service {ref.name} does not exist")
        return BackendState(ref, self.services[ref.name])

    def set_backends(
        self, ref: BackendRef, current: Sequence[BackendTarget], new: Sequence[BackendTarget]
    ) -> PendingChange:
        if not BackendState(ref, self.services[ref.name]).same_targets(current):
            raise Conflict(f"backends of {ref.name} changed since drill read them")
        self.sets.append(tuple(new))
        op = f"op-{len(self.sets)}"
        if self.polls_until_done:
            self._pending[op] = (ref.name, tuple(new), self.polls_until_done)
        else:
            self.services[ref.name] = tuple(new)
        return PendingChange(op, done=False, status="RUNNING")

    def change_status(self, ref: BackendRef, change_id: str) -> PendingChange:
        if change_id not in self._pending:
            return PendingChange(change_id, done=True, status="DONE")
        name, new, polls = self._pending.pop(change_id)
        if polls > 1:
            self._pending[change_id] = (name, new, polls - 1)
            return PendingChange(change_id, done=False, status="RUNNING")
        self.services[name] = new
        return PendingChange(change_id, done=True, status="DONE")

    def target_health(self, ref: BackendRef, targets: Sequence[str]) -> Mapping[str, str]:
        self.health_polls += 1
        word = "healthy" if self.health_polls > self.healthy_after_polls else "UNHEALTHY"
        return dict.fromkeys(targets, word)


@dataclass
class FakeClouds:
    objects: FakeObjects = field(default_factory=FakeObjects)
    dns_api: FakeDns = field(default_factory=FakeDns)
    backend_api: FakeBackends = field(default_factory=FakeBackends)
    resolver_api: FakeResolver | None = None
    asked: list[tuple[str, ...]] = field(default_factory=list)

    def object_store(self, cloud: str, project: str | None, region: str | None) -> FakeObjects:
        self.asked.append(("object_store", cloud, str(project), str(region)))
        return self.objects

    def dns(self, cloud: str, project: str | None) -> FakeDns:
        self.asked.append(("dns", cloud, str(project)))
        return self.dns_api

    def backends(self, cloud: str) -> FakeBackends:
        self.asked.append(("backends", cloud))
        return self.backend_api

    def resolver(self) -> FakeResolver:
        return self.resolver_api or FakeResolver(self.dns_api)


def cloud_env(clouds: FakeClouds, clock: FakeClock | None = None, timeout_s: float = 60) -> StepEnv:
    clock = clock or FakeClock(START)
    return StepEnv(
        run_id="run-1",
        step_id="step",
        mode="drill",
        context=None,
        clock=clock,
        cancel=threading.Event(),
        deadline=clock.monotonic() + timeout_s,
        providers=clouds,  # type: ignore[arg-type]
        log=build_logger(-1),
    )


class Noting(TypedDict):
    """The StepEnv fields that carry a step's notes."""

    notes: Mapping[str, JsonValue]
    note: Callable[[str, JsonValue], None]


def noting(kept: dict[str, JsonValue]) -> Noting:
    """StepEnv fields as the executor wires them, with the step's notes kept in ``kept``."""
    return {"notes": kept, "note": kept.__setitem__}
