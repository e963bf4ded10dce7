"""The run lease against an in-memory Lease API and a fake clock: transient faults on taking or
renewing it are retried (Retry-After honoured), another holder still locks the run out, and a
lease that is another's or went unrenewed for its whole duration is reported lost."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import cast

import pytest

from drill.clock import FakeClock
from drill.errors import Conflict, PermanentError, TransientError
from drill.executor import LeaseUnavailable, RunLease, RunLocked
from drill.executor._lease import LEASE_DURATION_S, RENEW_EVERY_S
from providers.protocols import KubeApi, LeaseInfo
from tests.executor.fakes import RecordingLogger


@dataclass
class FakeLeases:
    """One Lease; ``failures`` are raised by the next calls to take it, in order."""

    clock: FakeClock
    holder: str | None = None
    failures: list[Exception] = field(default_factory=list)
    takes: int = 0
    taken_at: list[float] = field(default_factory=list)

    def acquire_lease(self, namespace: str, name: str, holder: str, duration_s: int) -> LeaseInfo:
        self.takes += 1
        if self.failures:
            raise self.failures.pop(0)
        if self.holder not in (None, holder):
            raise Conflict(f"another run holds lease {namespace}/{name}: {self.holder}")
        self.holder = holder
        self.taken_at.append(self.clock.monotonic())
        return LeaseInfo(name, namespace, holder, self.clock.now(), duration_s)

    def release_lease(self, namespace: str, name: str, holder: str) -> None:
        if self.holder == holder:
            self.holder = None


def lease_on(leases: FakeLeases, log: RecordingLogger | None = None) -> RunLease:
    return RunLease(
        lambda: cast(KubeApi, leases),
        "drill",
        "drill-api",
        "run-1",
        leases.clock,
        log or RecordingLogger(),
    )


def taken(lease: RunLease) -> RunLease:
    """The lease taken without starting its renewal thread: renewals are driven by the test."""
    lease.kube = lease.connect()
    lease._take_patiently()
    return lease


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


def test_transient_faults_on_taking_the_lease_are_retried_honouring_retry_after(
    clock: FakeClock,
) -> None:
    leases = FakeLeases(
        clock,
        failures=[
            TransientError("429 Too Many Requests", retry_after_s=3.0),
            TransientError("503"),
        ],
    )
    started = clock.monotonic()
    lease = taken(lease_on(leases))
    assert leases.holder == "run-1"
    assert not lease.lost.is_set()
    assert leases.takes == 3
    assert leases.taken_at[0] - started >= 3.0  # waited as the server asked


def test_a_lease_that_stays_unreachable_is_given_up_with_exit_2(clock: FakeClock) -> None:
    leases = FakeLeases(clock, failures=[TransientError("503")] * 100)
    with pytest.raises(LeaseUnavailable, match="cannot take the run lease drill/drill-api: 503"):
        lease_on(leases).__enter__()
    assert 1 < leases.takes < 100


def test_another_holder_still_locks_the_run_out_at_once(clock: FakeClock) -> None:
    leases = FakeLeases(clock, holder="run-0")
    with pytest.raises(RunLocked, match="another run holds lease drill/drill-api: run-0"):
        lease_on(leases).__enter__()
    assert leases.takes == 1


def test_a_renewal_fault_is_retried_soon_and_the_lease_is_kept(clock: FakeClock) -> None:
    leases = FakeLeases(clock)
    lease = taken(lease_on(leases))
    leases.failures = [TransientError("reset"), TransientError("429", retry_after_s=4.0)]
    clock.advance(RENEW_EVERY_S)
    first_pause = lease.renew()
    assert 0 < first_pause < RENEW_EVERY_S
    clock.advance(first_pause)
    assert lease.renew() == 4.0
    clock.advance(4.0)
    assert lease.renew() == RENEW_EVERY_S
    assert leases.takes == 4
    assert not lease.lost.is_set()


def test_a_renewal_that_finds_another_holder_loses_the_lease(clock: FakeClock) -> None:
    leases = FakeLeases(clock)
    log = RecordingLogger()
    lease = taken(lease_on(leases, log))
    leases.holder = "run-2"  # took it over
    clock.advance(RENEW_EVERY_S)
    lease.renew()
    assert lease.lost.is_set()
    assert lease.lost_reason is not None
    assert "run-2" in lease.lost_reason
    assert "lease_lost" in log.events()
    assert leases.holder == "run-2"


def test_renewals_failing_for_a_whole_lease_duration_lose_it(clock: FakeClock) -> None:
    leases = FakeLeases(clock)
    lease = taken(lease_on(leases))
    leases.failures = [PermanentError("403 forbidden")] * 10
    waited = 0.0
    while not lease.lost.is_set():
        pause = lease.renew()
        assert pause <= RENEW_EVERY_S
        clock.advance(pause)
        waited += pause
        assert waited <= LEASE_DURATION_S + RENEW_EVERY_S
    assert lease.lost_reason is not None
    assert "not renewed for 60s" in lease.lost_reason


def test_a_run_paused_past_its_lease_loses_it_even_if_nobody_took_it(clock: FakeClock) -> None:
    leases = FakeLeases(clock)
    lease = taken(lease_on(leases))
    clock.advance(LEASE_DURATION_S + 6)  # SIGSTOP: another run may have come and gone
    lease.renew()
    assert lease.lost.is_set()
    assert leases.takes == 1  # never renewed once lost


def test_the_renewal_thread_reports_the_loss(clock: FakeClock) -> None:
    leases = FakeLeases(clock)
    with lease_on(leases) as lease:
        leases.holder = "run-2"
        assert lease.lost.wait(5)
    assert leases.holder == "run-2"  # not released: it is someone else's


def test_a_lease_kept_to_the_end_is_released(clock: FakeClock) -> None:
    leases = FakeLeases(clock)
    with lease_on(leases) as lease:
        assert leases.holder == "run-1"
    assert not lease.lost.is_set()
    assert leases.holder is None
