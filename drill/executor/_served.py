"""RTO as users see it: probe attempts turned into figures. Pure arithmetic, no I/O.

A probe is *serving* from the first attempt of the run of successes that lasts to the end of
verify, when that run is at least ``successes`` long: a service that answered once and then
failed again was not restored for its users. The run's users-served clock ends when the last
of its probes began serving; a probe that never did leaves it not measured, with the reason.

The live report and the report rebuilt from a journal both call these with the same attempts
and the same end of verify, so they agree to the microsecond.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import datetime

from drill.executor._events import CutoverMeasured, ProbeAttempted, ProbesStarted
from drill.report import ClientCutover, ProbeAttempt, ProbePhase, ProbeReport, Rto


def served_from(attempts: Sequence[ProbeAttempt], successes: int) -> ProbeAttempt | None:
    """The first attempt of the final run of successes, if that run is ``successes`` long."""
    streak = 0
    for attempt in reversed(attempts):
        if not attempt.ok:
            break
        streak += 1
    return attempts[len(attempts) - streak] if streak >= successes and streak else None


def why_not_served(attempts: Sequence[ProbeAttempt], successes: int) -> str | None:
    """Why a probe does not count as serving at the end of verify, or None if it does."""
    if not attempts:
        return "it made no attempt"
    if served_from(attempts, successes) is not None:
        return None
    last = attempts[-1]
    if not last.ok:
        answer = f"answered {last.status}" if last.status is not None else last.error
        return f"its last attempt failed ({answer or 'no answer'})"
    return f"it ended with fewer than the {successes} successes in a row it needs"


def downtime_s(attempts: Sequence[ProbeAttempt], stopped_at: datetime) -> float | None:
    """Client-observed time without a success: each failed attempt counts until the next
    attempt, the last one until the probes stopped."""
    if not attempts:
        return None
    ends = [a.at for a in attempts[1:]] + [max(stopped_at, attempts[-1].at)]
    down = sum(
        (end - a.at).total_seconds() for a, end in zip(attempts, ends, strict=True) if not a.ok
    )
    return round(down, 3)


def percentile(values: Sequence[float], p: float) -> float | None:
    """Nearest-rank percentile: the smallest value with at least ``p`` percent at or below it."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(math.ceil(p / 100 * len(ordered)), 1)
    return ordered[rank - 1]


def ratio(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


def phase_figures(attempts: Sequence[ProbeAttempt]) -> list[ProbePhase]:
    """Per phase, in the order the phases ran: success ratio, and the latency of successes."""
    phases = list(dict.fromkeys(a.phase or "unknown" for a in attempts))
    figures = []
    for phase in phases:
        during = [a for a in attempts if (a.phase or "unknown") == phase]
        ok = [a for a in during if a.ok]
        latencies = [a.latency_ms for a in ok if a.latency_ms is not None]
        figures.append(
            ProbePhase(
                phase=phase,
                attempts=len(during),
                successes=len(ok),
                success_ratio=ratio(len(ok), len(during)),
                latency_p50_ms=percentile(latencies, 50),
                latency_p95_ms=percentile(latencies, 95),
            )
        )
    return figures


def probe_reports(
    started: ProbesStarted, attempts: Sequence[ProbeAttempted], stopped_at: datetime
) -> list[ProbeReport]:
    """Every probe's figures from what the run journaled: the live report and the rebuilt one
    both make them here."""
    return [
        probe_report(
            setup.name,
            setup.url,
            setup.interval_s,
            setup.successes,
            [_attempt(a) for a in attempts if a.probe == setup.name],
            started.at,
            stopped_at,
            through=setup.through,
        )
        for setup in started.probes
    ]


def _attempt(event: ProbeAttempted) -> ProbeAttempt:
    return ProbeAttempt(
        at=event.at,
        ok=event.ok,
        latency_ms=event.latency_ms,
        status=event.status,
        error=event.error,
        phase=event.phase,
    )


def probe_report(
    name: str,
    url: str,
    interval_s: float,
    successes_needed: int,
    attempts: Sequence[ProbeAttempt],
    started_at: datetime | None,
    stopped_at: datetime,
    through: str | None = None,
) -> ProbeReport:
    ordered = sorted(attempts, key=lambda a: a.at)
    first = served_from(ordered, successes_needed)
    successes = sum(1 for a in ordered if a.ok)
    return ProbeReport(
        name=name,
        url=url,
        through=through,
        interval_s=interval_s,
        successes_needed=successes_needed,
        attempts=len(ordered),
        successes=successes,
        success_ratio=ratio(successes, len(ordered)),
        downtime_s=downtime_s(ordered, stopped_at),
        users_served_at=first.at if first else None,
        not_served=why_not_served(ordered, successes_needed),
        started_at=started_at,
        stopped_at=stopped_at,
        phases=phase_figures(ordered),
        timeline=list(ordered),
    )


def with_users_served(
    rto: Rto, t0: datetime, probes: Sequence[ProbeReport], skipped: Sequence[str]
) -> Rto:
    """``rto`` with the users-served clock: t0 to when the last probe began serving.

    ``skipped``: why each probe the plan has does not run in this mode.
    """
    served_s, source = _users_served(t0, probes, skipped)
    return rto.model_copy(update={"users_served_s": served_s, "users_served_source": source})


def _users_served(
    t0: datetime, probes: Sequence[ProbeReport], skipped: Sequence[str]
) -> tuple[float | None, str]:
    if not probes:
        why = "; ".join(skipped) if skipped else "the plan has no probes"
        return None, f"not measured: {why}"
    never = [p for p in probes if p.users_served_at is None]
    if never:
        reasons = "; ".join(f"probe {p.name} was not serving at the end of verify: "
                            f"{p.not_served}" for p in never)  # fmt: skip
        return None, f"not measured: {reasons}"
    last = max(probes, key=lambda p: p.users_served_at or t0)
    assert last.users_served_at is not None
    served_s = round((last.users_served_at - t0).total_seconds(), 3)
    needed = last.successes_needed
    which = f"probe {last.name}" if len(probes) == 1 else f"probe {last.name}, the last served"
    return served_s, (
        f"t0 to the first of {needed} or more successes in a row that lasted to the end of "
        f"verify ({which})"
    )


def cutover_report(event: CutoverMeasured) -> ClientCutover:
    """The worst case a client meets: the new data is answered ``visible_after_s`` after the
    change, and a client that asked just before may keep the old answer for its TTL."""
    why = None
    if event.visible_after_s is None:
        why = "not measured: no verify nameservers"
    elif event.old_ttl_s is None:
        why = "not measured: the record did not exist before (negative answers are cached too)"
    worst = None if why else round((event.visible_after_s or 0.0) + (event.old_ttl_s or 0), 3)
    return ClientCutover(
        step_id=event.step_id,
        record=event.record,
        visible_after_s=event.visible_after_s,
        old_ttl_s=event.old_ttl_s,
        worst_case_s=worst,
        not_measured=why,
    )
