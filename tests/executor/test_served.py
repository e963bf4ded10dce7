"""Users served, downtime, percentiles and the client cut-over, from plain attempts."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from drill.executor._events import CutoverMeasured
from drill.executor._served import (
    cutover_report,
    downtime_s,
    percentile,
    phase_figures,
    probe_report,
    served_from,
    why_not_served,
    with_users_served,
)
from drill.report import ProbeAttempt, ProbeReport, Rto

T0 = datetime(2026, 3, 1, 2, 0, tzinfo=UTC)


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def attempts(pattern: str, *, every_s: float = 1.0, phase: str = "failover") -> list[ProbeAttempt]:
    """One attempt per character, ``every_s`` apart from t0+1s: ``+`` answered 200, ``-`` 503,
    ``x`` nothing answered."""
    made = []
    for index, mark in enumerate(pattern):
        answered = mark != "x"
        made.append(
            ProbeAttempt(
                at=at(1 + index * every_s),
                ok=mark == "+",
                status=(200 if mark == "+" else 503) if answered else None,
                latency_ms=float(10 + index) if answered else None,
                error=None if mark == "+" else "refused",
                phase=phase,
            )
        )
    return made


def report_of(pattern: str, successes: int = 3, stopped_s: float = 20.0) -> ProbeReport:
    return probe_report(
        "users",
        "https://drill-api.example.com/",
        1.0,
        successes,
        attempts(pattern),
        at(0),
        at(stopped_s),
    )


@pytest.mark.parametrize(
    ("pattern", "successes", "served_at_s"),
    [
        ("--+++", 3, 3.0),  # the first of the three that lasted
        ("+++--+++", 3, 6.0),  # served, lost, served again: the last run counts
        ("---++", 3, None),  # two in a row are not three
        ("+++++-", 1, None),  # it failed at the end of verify
        ("++++", 1, 1.0),
        ("", 1, None),
    ],
)
def test_served_from_the_run_of_successes_that_lasted(
    pattern: str, successes: int, served_at_s: float | None
) -> None:
    first = served_from(attempts(pattern), successes)
    assert (first.at if first else None) == (at(served_at_s) if served_at_s else None)


def test_why_a_probe_is_not_served_names_what_happened() -> None:
    assert why_not_served([], 3) == "it made no attempt"
    assert why_not_served(attempts("++-"), 3) == "its last attempt failed (answered 503)"
    assert why_not_served(attempts("+x"), 1) == "its last attempt failed (refused)"
    assert why_not_served(attempts("-++"), 3) == (
        "it ended with fewer than the 3 successes in a row it needs"
    )
    assert why_not_served(attempts("-+++"), 3) is None


def test_downtime_runs_from_each_failure_to_the_next_attempt_or_the_end() -> None:
    # Attempts at 1..6 s; failures at 1, 2 (until 3) and 5 (until 6); the end at 10 s.
    assert downtime_s(attempts("--+-++"), at(10)) == 3.0
    # A failure at the end counts until the probes stopped.
    assert downtime_s(attempts("++-"), at(10)) == 7.0
    assert downtime_s([], at(10)) is None


def test_percentiles_are_nearest_rank() -> None:
    values = [float(v) for v in range(1, 21)]  # 1..20
    assert percentile(values, 50) == 10.0
    assert percentile(values, 95) == 19.0
    assert percentile([7.0], 95) == 7.0
    assert percentile([], 50) is None


def test_phase_figures_count_successes_and_their_latency() -> None:
    made = attempts("--", phase="failover") + attempts("+-+", phase="verify")
    failover, verify = phase_figures(made)
    assert (failover.phase, failover.attempts, failover.successes) == ("failover", 2, 0)
    assert failover.success_ratio == 0.0
    assert failover.latency_p50_ms is None  # no success, no latency to speak of
    assert (verify.phase, verify.attempts, verify.successes) == ("verify", 3, 2)
    assert verify.success_ratio == 0.6667
    assert (verify.latency_p50_ms, verify.latency_p95_ms) == (10.0, 12.0)


def test_a_probe_report_holds_its_figures_and_timeline() -> None:
    report = report_of("---+++", stopped_s=7.0)
    assert (report.attempts, report.successes, report.success_ratio) == (6, 3, 0.5)
    assert report.users_served_at == at(4)
    assert report.downtime_s == 3.0
    assert report.not_served is None
    assert [a.ok for a in report.timeline] == [False] * 3 + [True] * 3


def rto() -> Rto:
    return Rto(target_s=900, measured_s=60, margin_s=840, met=True, source="verify")


def test_users_served_is_when_the_last_probe_began_serving() -> None:
    first = report_of("+++++")  # served from 1 s
    second = report_of("--+++").model_copy(update={"name": "api"})  # from 3 s
    served = with_users_served(rto(), T0, [first, second], [])
    assert served.users_served_s == 3.0
    assert served.users_served_source is not None
    assert "probe api, the last served" in served.users_served_source
    assert (served.measured_s, served.met) == (60, True)  # pass/fail stays on verify


def test_a_probe_never_served_leaves_users_served_not_measured() -> None:
    served = with_users_served(rto(), T0, [report_of("+++--")], [])
    assert served.users_served_s is None
    assert served.users_served_source == (
        "not measured: probe users was not serving at the end of verify: "
        "its last attempt failed (answered 503)"
    )


def test_without_probes_users_served_says_why() -> None:
    assert with_users_served(rto(), T0, [], []).users_served_source == (
        "not measured: the plan has no probes"
    )
    skipped = ["probe users does not run in drill mode: no drill target"]
    assert with_users_served(rto(), T0, [], skipped).users_served_source == (
        "not measured: probe users does not run in drill mode: no drill target"
    )


def test_the_worst_client_cutover_adds_the_old_ttl() -> None:
    measured = cutover_report(
        CutoverMeasured(step_id="dns", record="a.example.", visible_after_s=1.5, old_ttl_s=300)
    )
    assert (measured.worst_case_s, measured.not_measured) == (301.5, None)
    unmeasured = cutover_report(
        CutoverMeasured(step_id="dns", record="a.example.", visible_after_s=None, old_ttl_s=300)
    )
    assert unmeasured.worst_case_s is None
    assert unmeasured.not_measured == "not measured: no verify nameservers"
    fresh = cutover_report(
        CutoverMeasured(step_id="dns", record="a.example.", visible_after_s=1.0, old_ttl_s=None)
    )
    assert fresh.worst_case_s is None
    assert fresh.not_measured is not None
