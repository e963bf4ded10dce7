"""The probe runner: attempts on schedule, failures as attempts, prompt stops; whole runs with
probes, in virtual time, and their reports rebuilt from the journal."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from drill.clock import Anchor, Clock, FakeClock, SystemClock
from drill.errors import TransientError
from drill.executor import (
    Cancellation,
    FileJournal,
    MemoryJournal,
    NoProgress,
    read_events,
    report_from_journal,
)
from drill.executor._events import ProbeAttempted, ProbesStarted, ProbesStopped, UndoFinished
from drill.executor._probes import ProbeRunner
from drill.plan import ExecutionPlan, ProbeSettings, ResolvedProbe
from drill.report import RunReport
from providers.protocols import HttpClient, HttpResponse

from .fakes import START, Kit, NoProviders, build_plan
from .journals import CrashStep, Killed
from .simclock import SimClock

Answer = int | Exception


@dataclass
class ScriptedHttp:
    """An HttpClient whose answer depends on the (virtual) time since ``origin``."""

    clock: Clock
    answer: Callable[[float], Answer]
    origin: float = 1000.0  # FakeClock's monotonic start
    latency_s: float = 0.0  # advanced on a FakeClock while "waiting" for the answer
    seen: list[dict[str, Any]] = field(default_factory=list)

    def request(
        self,
        method: str,
        url: str,
        *,
        headers: Mapping[str, str],
        body: bytes | None,
        timeout_s: float,
    ) -> HttpResponse:
        self.seen.append({"method": method, "url": url, "headers": dict(headers)})
        outcome = self.answer(self.clock.monotonic() - self.origin)
        if self.latency_s and isinstance(self.clock, FakeClock):
            self.clock.advance(self.latency_s)
        if isinstance(outcome, Exception):
            raise outcome
        return HttpResponse(status=outcome, body=b"")


@dataclass
class HttpOnly(NoProviders):
    """Providers that reach nothing but the HTTP client."""

    client: HttpClient

    def http(self) -> HttpClient:
        return self.client


def probe(name: str = "users", **settings: Any) -> ResolvedProbe:
    values = {"url": "https://drill-api.example.com/healthz", "interval": "1s", **settings}
    return ResolvedProbe(name, ProbeSettings.model_validate(values))


def stamp_of(clock: Clock) -> Callable[[], Any]:
    return Anchor(clock).stamp


# --- the runner, in the test's own thread -------------------------------------------------------


class StoppingClock(FakeClock):
    """A FakeClock that stops the runner once it made ``attempts`` attempts (at its sleep)."""

    def __init__(self, attempts: int) -> None:
        super().__init__(START)
        self.attempts = attempts
        self.runner: ProbeRunner | None = None

    def sleep(self, seconds: float, cancel: threading.Event) -> None:
        assert self.runner is not None
        if len(self.runner.attempts) >= self.attempts:
            self.runner.stop()
        super().sleep(seconds, cancel)


def run_inline(
    clock: StoppingClock, answer: Callable[[float], Answer], latency_s: float = 0.0, **settings: Any
) -> tuple[ProbeRunner, ScriptedHttp]:
    """Runs one probe in this thread until the clock stops it."""
    http = ScriptedHttp(clock, answer, latency_s=latency_s)
    kept: list[ProbeAttempted] = []
    runner = ProbeRunner([probe(**settings)], lambda: http, clock, stamp_of(clock), kept.append)
    clock.runner = runner
    runner.run_probe(runner.probes[0])
    assert kept == runner.attempts
    return runner, http


def test_attempts_keep_their_interval_and_judge_the_status() -> None:
    runner, _ = run_inline(StoppingClock(4), lambda s: 503 if s < 2 else 200, latency_s=0.25)
    made = runner.attempts
    assert [a.at for a in made] == [START + timedelta(seconds=s) for s in range(4)]
    assert [(a.ok, a.status) for a in made] == [
        (False, 503),
        (False, 503),
        (True, 200),
        (True, 200),
    ]
    assert {a.latency_ms for a in made} == {250.0}
    assert made[0].error == "answered 503, expected 200"
    assert made[2].error is None
    assert {a.phase for a in made} == {"preflight"}


def test_a_slow_answer_delays_the_next_attempt_instead_of_overlapping() -> None:
    runner, _ = run_inline(StoppingClock(2), lambda s: 200, latency_s=1.5)
    assert [a.at for a in runner.attempts] == [START, START + timedelta(seconds=1.5)]


def test_whatever_a_probe_meets_is_a_failed_attempt() -> None:
    outcomes: list[Answer] = [TransientError("refused"), KeyError("bug"), 200]
    runner, _ = run_inline(StoppingClock(3), lambda s: outcomes[int(s)])
    made = runner.attempts
    assert [a.ok for a in made] == [False, False, True]
    assert made[0].error == "refused"
    assert made[0].status is None
    assert made[0].latency_ms is None
    assert made[1].error == "unexpected error (KeyError): 'bug'"


def test_header_secrets_are_read_at_request_time_and_never_kept(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("PROBE_TOKEN", "s3cr3t-value")
    headers = {"Authorization": "Bearer ${env:PROBE_TOKEN}"}
    runner, http = run_inline(StoppingClock(1), lambda s: 200, headers=headers)
    assert http.seen[0]["headers"] == {"Authorization": "Bearer s3cr3t-value"}
    assert runner.attempts[0].ok
    assert "s3cr3t" not in runner.attempts[0].model_dump_json()
    monkeypatch.delenv("PROBE_TOKEN")
    unset, http = run_inline(StoppingClock(1), lambda s: 200, headers=headers)
    assert http.seen == []
    assert unset.attempts[0].error == (
        "environment variable PROBE_TOKEN is not set (used in a header)"
    )


def test_stop_does_not_wait_for_a_request_in_flight() -> None:
    entered, release = threading.Event(), threading.Event()

    def hang(elapsed_s: float) -> Answer:
        entered.set()
        release.wait(30)
        return 200

    clock = SystemClock()
    http = ScriptedHttp(clock, hang)
    runner = ProbeRunner([probe("hang")], lambda: http, clock, stamp_of(clock), lambda a: None)
    runner.start()
    assert entered.wait(10)
    runner.stop()
    # stop() came back while the request still hangs; what it brings is not part of the run
    assert not release.is_set()
    release.set()
    for thread in runner._threads:
        thread.join(10)
    assert runner.attempts == []


def test_a_slow_journal_does_not_hold_back_the_next_attempt() -> None:
    # Keeping an attempt (the journal's sync to disk) may take longer than an interval; the
    # probe goes on asking meanwhile, and every attempt is still kept, in order, by stop().
    release = threading.Event()
    kept: list[ProbeAttempted] = []

    def slow_keep(attempt: ProbeAttempted) -> None:
        release.wait(30)
        kept.append(attempt)

    clock = SystemClock()
    http = ScriptedHttp(clock, lambda s: 200)
    runner = ProbeRunner([probe(interval="100ms")], lambda: http, clock, stamp_of(clock), slow_keep)
    runner.start()
    try:
        assert wait_for(lambda: len(runner.attempts) >= 3), "attempts stalled behind keep"
        assert kept == []  # the first is still being kept
    finally:
        release.set()
    runner.stop()
    assert kept == runner.attempts
    assert len(kept) >= 3


def wait_for(condition: Callable[[], bool], timeout_s: float = 10.0) -> bool:
    deadline = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.005)
    return True


# --- whole runs, in virtual time ----------------------------------------------------------------


def probed_plan(
    kit: Kit, *, verify_s: float = 5.0, probes: tuple[ResolvedProbe, ...] = ()
) -> ExecutionPlan:
    return build_plan(
        [
            ("preflight", kit.step("p1", "fake.advance", seconds=5)),
            ("failover", kit.step("m1", "fake.mutate", seconds=10)),
            ("verify", kit.step("v1", "fake.advance", seconds=verify_s)),
        ],
        probes=probes or (probe(successes=3),),
    )


def run_probed(
    tmp_path: Path, answer: Callable[[float], Answer], **plan: Any
) -> tuple[RunReport, RunReport, list[Any]]:
    """The run's report, the report rebuilt from its journal, and the journal's events."""
    kit = Kit(clock=SimClock(START))
    http = ScriptedHttp(kit.clock, answer)
    journal = FileJournal(tmp_path / "journal.jsonl", "run-1", kit.clock)
    executor = kit.executor(journal=journal, providers=HttpOnly(http))
    try:
        report = executor.run(probed_plan(kit, **plan))
    finally:
        journal.close()
    events = read_events(tmp_path / "journal.jsonl")
    return report, report_from_journal(events), [e.event for e in events]


def test_users_served_is_the_first_of_the_successes_that_lasted(tmp_path: Path) -> None:
    # Unavailable until 12 s after the start: the failover makes it serve.
    report, rebuilt, events = run_probed(tmp_path, lambda s: 503 if s < 12 else 200)
    assert report.outcome == "passed"
    assert report.rto.users_served_s == 12.0
    assert report.rto.service_restored_s == 20.0
    (users,) = report.probes
    assert users.users_served_at == START + timedelta(seconds=12)
    assert users.downtime_s == 12.0
    assert [p.phase for p in users.phases] == ["preflight", "failover", "verify"]
    assert users.phases[0].success_ratio == 0.0
    assert users.phases[-1].success_ratio == 1.0
    assert users.stopped_at == START + timedelta(seconds=20)
    assert all(a.at <= users.stopped_at for a in users.timeline)
    # the rebuilt report says the same, to the microsecond
    assert rebuilt.probes == report.probes
    assert rebuilt.rto == report.rto
    # probes start before the first step and stop before anything is undone
    kinds = [type(e) for e in events]
    assert kinds.index(ProbesStarted) < min(
        i for i, e in enumerate(events) if getattr(e, "kind", "") == "step_started"
    )
    assert kinds.index(ProbesStopped) < kinds.index(UndoFinished)
    stopped = kinds.index(ProbesStopped)
    assert ProbeAttempted not in kinds[stopped:]


def test_a_target_that_never_serves_leaves_users_served_not_measured(tmp_path: Path) -> None:
    report, rebuilt, _ = run_probed(tmp_path, lambda s: TransientError("connection refused"))
    assert report.outcome == "passed"  # pass/fail stays on verify
    assert report.rto.users_served_s is None
    assert report.rto.users_served_source == (
        "not measured: probe users was not serving at the end of verify: "
        "its last attempt failed (connection refused)"
    )
    assert report.probes[0].success_ratio == 0.0
    assert rebuilt.rto == report.rto


def test_a_probe_that_recovers_too_late_is_not_served(tmp_path: Path) -> None:
    # Serving from 19 s: two successes (19, 20) before verify ends, three needed.
    report, _, _ = run_probed(tmp_path, lambda s: 503 if s < 19 else 200)
    assert report.rto.users_served_s is None
    assert "fewer than the 3 successes in a row" in (report.rto.users_served_source or "")


def test_skipped_probes_say_why_users_served_was_not_measured(tmp_path: Path) -> None:
    skipped = ResolvedProbe("users", None, "no drill target")
    report, rebuilt, _ = run_probed(tmp_path, lambda s: 200, probes=(skipped,))
    assert report.probes == []
    assert report.rto.users_served_source == (
        "not measured: probe users does not run in drill mode: no drill target"
    )
    assert rebuilt.rto == report.rto


def test_a_cancelled_run_stops_its_probes(tmp_path: Path) -> None:
    kit = Kit(clock=SimClock(START))
    cancellation = Cancellation()

    def answer(elapsed_s: float) -> Answer:
        if elapsed_s >= 7:
            cancellation.stop_work.set()  # a signal during failover
        return 200

    journal = MemoryJournal()
    executor = kit.executor(
        journal=journal,
        cancellation=cancellation,
        providers=HttpOnly(ScriptedHttp(kit.clock, answer)),
    )
    plan = build_plan(
        [
            ("preflight", kit.step("p1", "fake.advance", seconds=5)),
            ("failover", kit.step("w1", "fake.wait", poll_s=1.0)),
            ("verify", kit.step("v1", "fake.advance", seconds=5)),
        ],
        probes=(probe(),),
    )
    report = executor.run(plan)
    assert report.outcome == "interrupted"
    kinds = [e.kind for e in journal.events]
    assert "probes_stopped" in kinds
    assert "probe_attempt" not in kinds[kinds.index("probes_stopped") :]
    assert report.probes[0].stopped_at is not None
    assert report.probes[0].stopped_at <= START + timedelta(seconds=9)


def test_a_run_that_dies_leaves_users_served_not_measured(tmp_path: Path) -> None:
    kit = Kit(clock=SimClock(START))
    kit.registry[CrashStep.name] = CrashStep()
    http = ScriptedHttp(kit.clock, lambda s: 200)
    journal = FileJournal(tmp_path / "journal.jsonl", "run-1", kit.clock)
    executor = kit.executor(journal=journal, providers=HttpOnly(http))
    plan = build_plan(
        [
            ("preflight", kit.step("p1", "fake.advance", seconds=5)),
            ("failover", kit.step("boom", "fake.crash", seconds=1)),
            ("verify", kit.step("v1", "fake.advance", seconds=5)),
        ],
        probes=(probe(),),
    )
    with pytest.raises(Killed):
        executor.run(plan)
    journal.close()
    events = read_events(tmp_path / "journal.jsonl")
    assert "probes_stopped" not in [e.event.kind for e in events]
    rebuilt = report_from_journal(events)
    assert rebuilt.rto.users_served_s is None
    assert rebuilt.rto.users_served_source == (
        "not measured: the journal ends before the probes stopped at the end of verify"
    )
    assert rebuilt.probes[0].successes >= 5  # what it saw is still shown


class HeardProbes(NoProgress):
    """A display that keeps what it was told of probes."""

    def __init__(self) -> None:
        self.heard: list[tuple[str, bool, float | None]] = []

    def probe(self, name: str, ok: bool, latency_ms: float | None) -> None:
        self.heard.append((name, ok, latency_ms))


def test_every_journaled_attempt_is_told_to_the_display(tmp_path: Path) -> None:
    kit = Kit(clock=SimClock(START))
    http = ScriptedHttp(kit.clock, lambda s: 503 if s < 12 else 200)
    journal = FileJournal(tmp_path / "journal.jsonl", "run-1", kit.clock)
    display = HeardProbes()
    executor = kit.executor(journal=journal, providers=HttpOnly(http), progress=display)
    try:
        executor.run(probed_plan(kit))
    finally:
        journal.close()
    attempts = [
        e.event for e in read_events(tmp_path / "journal.jsonl")
        if isinstance(e.event, ProbeAttempted)
    ]  # fmt: skip
    assert display.heard == [(a.probe, a.ok, a.latency_ms) for a in attempts]
    assert {ok for _, ok, _ in display.heard} == {False, True}
