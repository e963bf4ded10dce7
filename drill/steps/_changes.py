"""Waiting for a change the cloud accepted (DNS change, Compute operation) to take effect."""

from __future__ import annotations

from collections.abc import Callable, Iterator

from drill.durations import format_duration
from drill.errors import StepFailed
from drill.steps._base import StepEnv
from providers.protocols import PendingChange

FIRST_POLL_S = 0.25
MAX_POLL_S = 2.0


def wait_until_done(
    change: PendingChange, status: Callable[[str], PendingChange], what: str, env: StepEnv
) -> PendingChange:
    """Poll ``status`` with a growing interval until the change is done or the step's time ends.

    Short first polls keep a fast change from adding seconds to the measured RTO.
    """
    intervals = poll_intervals()
    while not change.done:
        env.wait(next(intervals), f"{what} {change.id} to be done (still {change.status})")
        change = status(change.id)
    return change


def poll_until(
    probe: Callable[[], tuple[str, str] | None], within_s: float, waiting_for: str, env: StepEnv
) -> float:
    """Seconds until ``probe`` returns None (done). Until then it says what is still wrong, as
    (what, detail); after ``within_s`` the step fails with "what after 5m00s: detail"."""
    started = env.clock.monotonic()
    intervals = poll_intervals()
    while True:
        still_wrong = probe()
        elapsed_s = env.clock.monotonic() - started
        if still_wrong is None:
            return elapsed_s
        if elapsed_s >= within_s:
            what, detail = still_wrong
            after = f"{what} after {format_duration(within_s)}"
            raise StepFailed(f"{after}: {detail}" if detail else after)
        env.wait(min(next(intervals), within_s - elapsed_s), waiting_for)


def poll_intervals() -> Iterator[float]:
    """0.25 s, growing by half each time, up to 2 s: quick for fast clouds, gentle for slow."""
    interval_s = FIRST_POLL_S
    while True:
        yield interval_s
        interval_s = min(interval_s * 1.5, MAX_POLL_S)
