"""What the recovery-point probes share: a time read inside the recovered data, judged against t0.

A probe (``kube.heartbeat``, ``job.recovery_point``, ``gcs.heartbeat``, ``s3.heartbeat``) reads
the newest moment the recovered data knows of: a heartbeat a writer refreshes, the newest row
of a table. That moment is a recovery point of kind "data". It can never be later than t0: data
from after the disaster cannot have been recovered, so such a reading means the probe read live
data, or a restore used a backup taken after t0. The probe then fails, naming both times: a
failed verdict, never "RPO 0 met".

A step-support module: step types import it; it never imports a step type.
"""

from __future__ import annotations

from datetime import UTC, datetime

from drill.durations import format_moment
from drill.errors import StepFailed
from drill.steps._base import RecoveryPoint, StepEnv

# How much of an unreadable value a message quotes.
_QUOTED_CHARS = 120
EXAMPLE = "2026-01-02T03:04:05Z"


def quoted(text: str, limit: int = _QUOTED_CHARS) -> str:
    """``text`` as a message quotes it: repr, cut to ``limit`` characters."""
    shown = text if len(text) <= limit else text[:limit] + "..."
    return repr(shown)


def parse_moment(text: str, where: str) -> datetime:
    """The ISO 8601 time ``text`` holds (with a time zone), in UTC; else StepFailed saying what
    ``where`` holds instead."""
    raw = text.strip()
    try:
        stamp = datetime.fromisoformat(raw)
    except ValueError:
        raise StepFailed(
            f"{where} holds {quoted(raw)}, not an ISO 8601 time (e.g. {EXAMPLE})"
        ) from None
    if stamp.tzinfo is None:
        raise StepFailed(
            f"{where} holds {quoted(raw)}, which has no time zone: "
            f"write it in UTC with Z or an offset (e.g. {EXAMPLE})"
        )
    return stamp.astimezone(UTC)


def data_point(at: datetime, source: str, env: StepEnv) -> RecoveryPoint:
    """The recovery point ``at`` read inside the recovered data; StepFailed when it is later
    than t0, naming both."""
    if at > env.t0():
        raise StepFailed(
            f"{source} says {format_moment(at)}, later than {env.t0_words()}: data from after "
            "the disaster cannot have been recovered, so this is live data or a backup taken "
            "after t0, and RPO cannot be measured from it"
        )
    return RecoveryPoint(at=at, source=source, kind="data")


def age_facts(at: datetime, env: StepEnv) -> dict[str, str | float]:
    """What a probe reports of its reading: the moment, and how long before t0 it was."""
    return {
        "recovery_point": at.isoformat(),
        "age_at_t0_s": round((env.t0() - at).total_seconds(), 3),
    }
