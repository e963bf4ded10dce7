"""How long a sandbox keeps the backups and heartbeats its schedules and writers make.

Real backups do not pile up: a Velero Backup expires ``spec.ttl`` after it starts (a
Schedule's ``spec.template.ttl``) and Velero's garbage collection deletes it, and a bucket's
lifecycle rule deletes old exports. A sandbox stays up for hours (8 by default) while its
schedules make a backup every few minutes, each held in memory, so it bounds them the same way:
what a schedule or writer made is kept for ``PERIODS_KEPT`` of its periods, and never less
than ``KEPT_AT_LEAST_S``, and its newest ``PERIODS_KEPT`` are kept whatever their age.

The floor is there because a run reads what existed at its start (or at ``--disaster-at``) and
may read it late, after a long restore: a heartbeat written every 30 s would otherwise be gone
five minutes later. So a point-in-time drill in the sandbox reaches back at least an hour.
"""

from __future__ import annotations

PERIODS_KEPT = 10
KEPT_AT_LEAST_S = 3600.0


def kept_for_s(period_s: float) -> float:
    """How long what a schedule making one every ``period_s`` made is kept."""
    return max(PERIODS_KEPT * period_s, KEPT_AT_LEAST_S)
