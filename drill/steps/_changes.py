"""Waiting for what a step started to take effect: a change the cloud accepted (DNS change,
Compute operation), or an object a controller works on (a Restore, a Job, a rollout).

Waits resume after transient API faults for as long as the step's deadline allows: a 5xx, a
429 (after its Retry-After), a reset or an expired watch never restarts the step's work.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, TypeVar

from drill.clock import Clock
from drill.durations import format_duration
from drill.errors import StepFailed, TransientError
from drill.steps._base import ReadBack, StepEnv, StepTimedOut

if TYPE_CHECKING:
    # Annotations only (or built inside the function that needs one): checking a plan
    # builds none of the providers' result types.
    from providers.protocols import PendingChange

FIRST_POLL_S = 0.25
# How long a rollback's read-back waits for a deletion under way (a namespace terminating).
GONE_WITHIN_S = 120.0
MAX_POLL_S = 2.0
# How long one watch may block: the most a signal waits before the step notices it.
WATCH_WINDOW_S = 5.0

T = TypeVar("T")


def watch_until(
    watch: Callable[[float], Iterable[T]],
    done: Callable[[T], bool],
    waiting_for: str,
    timed_out: Callable[[T | None], str],
    env: StepEnv,
    progress: Callable[[T], str] | None = None,
) -> T:
    """Follow ``watch`` (one window of at most ``WATCH_WINDOW_S`` at a time) until an item is
    ``done``, and return it. A transient fault pauses (Retry-After, else a growing interval)
    and watches again; when the deadline passes, fails with ``timed_out(last item seen)``.
    ``progress`` says, in a few words, where an item not done yet stands (the terminal view
    shows it in the step's line)."""
    last: T | None = None
    pauses = poll_intervals()
    env.on_wait(waiting_for)
    while env.remaining_s() > 0:
        try:
            for item in watch(min(WATCH_WINDOW_S, env.remaining_s())):
                last = item
                if done(item):
                    return item
                if progress is not None:
                    env.on_wait(progress(item))
            pauses = poll_intervals()
        except TransientError as exc:
            env.log.info("wait_resumes_after_fault", waiting_for=waiting_for, error=str(exc))
            pause = exc.retry_after_s if exc.retry_after_s is not None else next(pauses)
            env.wait(pause, f"{waiting_for} (resuming after: {exc})")
            continue
        if env.cancel.is_set():
            env.wait(0, waiting_for)  # raises Interrupted
    raise StepTimedOut(timed_out(last))


def wait_until_done(
    change: PendingChange, status: Callable[[str], PendingChange], what: str, env: StepEnv
) -> PendingChange:
    """Poll ``status`` with a growing interval until the change is done or the step's time ends.

    Short first polls keep a fast change from adding seconds to the measured RTO.
    """
    intervals = poll_intervals()
    while not change.done:
        env.wait(next(intervals), f"{what} {change.id} to be done (still {change.status})")
        try:
            change = status(change.id)
        except TransientError as exc:
            # The change is accepted: asking again about it is all a fault can cost.
            env.log.info("wait_resumes_after_fault", waiting_for=what, error=str(exc))
            if exc.retry_after_s is not None:
                env.wait(exc.retry_after_s, f"{what} {change.id} (resuming after: {exc})")
    return change


CHANGE_NOTE = "change"  # the note naming the change (DNS change, operation) a try submitted


def submitted(change: PendingChange, env: StepEnv) -> PendingChange:
    """Note a change the cloud accepted, before waiting on it: a retry or undo finds it."""
    env.note(CHANGE_NOTE, change.id)
    return change


def await_noted_change(
    status: Callable[[str], PendingChange], what: str, env: StepEnv
) -> str | None:
    """Wait for the change an earlier try of this step submitted, if it noted one; its id."""
    noted = (env.notes or {}).get(CHANGE_NOTE)
    if not isinstance(noted, str):
        return None
    from providers.protocols import PendingChange

    wait_until_done(PendingChange(noted, done=False, status="submitted"), status, what, env)
    return noted


def never_changed(env: StepEnv) -> bool:
    """True when this step's notes are known and hold no submitted change. Undo still reads
    what is live (a crash can fall between a change and its note); this only tells someone
    else's later change (left alone, nothing of drill's to undo) from a change over drill's."""
    return env.notes is not None and CHANGE_NOTE not in env.notes


def await_namespace_gone(name: str, env: StepEnv) -> None:
    """A namespace still terminating (an earlier run's, as its rollback deleted it) goes by
    itself: wait for it, within the step's time, rather than fail or restore into it."""
    kube = env.providers.kube(env.cluster())

    def still_there() -> tuple[str, str] | None:
        found = kube.get_namespace(name)
        return None if found is None else (f"namespace {name} still {found.phase}", "")

    waiting_for = f"namespace {name} to finish terminating"
    gone_after_s = poll_until(still_there, env.remaining_s(), waiting_for, env)
    env.log.info("namespace_gone", namespace=name, after_s=round(gone_after_s, 3))


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
        what, detail = still_wrong
        if elapsed_s >= within_s:
            after = f"{what} after {format_duration(within_s)}"
            raise StepFailed(f"{after}: {detail}" if detail else after)
        now = f"{what}: {detail}" if detail else what
        env.wait(min(next(intervals), within_s - elapsed_s), waiting_for, now)


def poll_intervals() -> Iterator[float]:
    """0.25 s, growing by half each time, up to 2 s: quick for fast clouds, gentle for slow."""
    interval_s = FIRST_POLL_S
    while True:
        yield interval_s
        interval_s = min(interval_s * 1.5, MAX_POLL_S)


def patiently(
    call: Callable[[], T],
    clock: Clock,
    patience_s: float,
    stop: threading.Event,
    on_retry: Callable[[TransientError], None],
) -> T:
    """``call``, retried after transient faults (Retry-After, else a growing interval) for up
    to ``patience_s``; the last fault is raised when the next pause would pass it. Outside a
    step: a step waits through ``StepEnv`` and its own deadline instead."""
    give_up_at = clock.monotonic() + patience_s
    pauses = poll_intervals()
    while True:
        try:
            return call()
        except TransientError as exc:
            pause = exc.retry_after_s if exc.retry_after_s is not None else next(pauses)
            if clock.monotonic() + pause > give_up_at:
                raise
            on_retry(exc)
            clock.sleep(pause, stop)


@dataclass(frozen=True)
class StillThere:
    """What a read-back found where it expects nothing: in words, and whether it is going
    (a deletion under way, worth waiting for) or staying (someone's, or never deleted)."""

    what: str
    going: bool


def read_back_gone(
    target: str,
    still_there: Callable[[], StillThere | None],
    env: StepEnv,
    before: str = "absent",
) -> ReadBack:
    """An object a rollback deleted (or that never existed before the run) must be gone.

    A deletion under way is waited for, at most ``GONE_WITHIN_S`` (and never past the step's
    deadline); one that has not finished by then is "not verified": it may still go. Something
    that stays is "differs" at once."""
    within_s = max(min(GONE_WITHIN_S, env.remaining_s()), 0.0)
    started = env.clock.monotonic()
    intervals = poll_intervals()
    while True:
        found = still_there()
        if found is None:
            return ReadBack(target, "equal", f"gone, {before} as drill found it")
        if not found.going:
            return ReadBack(target, "differs", f"{found.what}, not {before} as drill found it")
        elapsed_s = env.clock.monotonic() - started
        if elapsed_s >= within_s:
            after = format_duration(elapsed_s)
            return ReadBack(target, "not verified", f"{found.what} after {after}: not yet gone")
        env.wait(min(next(intervals), within_s - elapsed_s), f"{target} to be gone")
