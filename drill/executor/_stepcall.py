"""Running one step (or one undo) with its timeout, retries and journal records."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal, TypeVar

from drill.clock import Clock
from drill.errors import Interrupted, ProviderError, StepFailed, TransientError
from drill.executor._progress import NoProgress, Progress
from drill.steps import Providers, StepEnv, StepTimedOut
from drill.steps._base import Logger, Mode

if TYPE_CHECKING:
    from tenacity import RetryCallState

T = TypeVar("T")


@dataclass(frozen=True)
class StepRuntime:
    """What every step of a run shares; ``env_for`` adds what is particular to one step."""

    run_id: str
    mode: Mode
    clock: Clock
    providers: Providers
    log: Logger
    progress: Progress = field(default_factory=NoProgress)

    def env_for(
        self, step_id: str, context: str | None, timeout_s: float, cancel: threading.Event
    ) -> StepEnv:
        return StepEnv(
            run_id=self.run_id,
            step_id=step_id,
            mode=self.mode,
            context=context,
            clock=self.clock,
            cancel=cancel,
            deadline=self.clock.monotonic() + timeout_s,
            providers=self.providers,
            log=self.log.bind(step=step_id),  # type: ignore[attr-defined]
            on_wait=lambda waiting_for: self.progress.waiting(step_id, waiting_for),
        )


@dataclass
class Attempts:
    count: int = 0


def with_retries(call: Callable[[], T], env: StepEnv, retries: int, attempts: Attempts) -> T:
    """``call`` retried on TransientError only, with backoff, never past the step's deadline."""
    # Loaded with the first step, not with the runtime a run makes before its first request.
    from tenacity import Retrying, retry_if_exception_type, stop_after_attempt, wait_exponential

    enough_attempts = stop_after_attempt(retries + 1)

    def stop(state: RetryCallState) -> bool:
        return enough_attempts(state) or env.remaining_s() <= 0

    def count(state: RetryCallState) -> None:
        attempts.count = state.attempt_number

    def sleep(seconds: float) -> None:
        env.log.info("retrying", attempt=attempts.count, wait_s=round(seconds, 2))
        env.clock.sleep(min(seconds, max(env.remaining_s(), 0.0)), env.cancel)

    retrying = Retrying(
        stop=stop,
        wait=wait_exponential(multiplier=1, min=1, max=30),
        retry=retry_if_exception_type(TransientError),
        sleep=sleep,
        before=count,
        reraise=True,
    )
    return retrying(call)


@dataclass(frozen=True)
class Failure:
    status: Literal["failed", "timed_out", "interrupted"]
    message: str


def classify(exc: BaseException) -> Failure:
    """Map what a step raised to a report status and a message for a person."""
    if isinstance(exc, StepTimedOut):
        return Failure("timed_out", str(exc))
    if isinstance(exc, Interrupted):
        return Failure("interrupted", "interrupted by signal")
    if isinstance(exc, StepFailed | ProviderError):
        return Failure("failed", str(exc))
    return Failure("failed", f"unexpected error ({type(exc).__name__}): {exc}")
