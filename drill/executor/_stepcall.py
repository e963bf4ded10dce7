"""Running one step (or one undo) with its timeout, retries and journal records."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal, TypeVar

from tenacity import RetryCallState, Retrying, retry_if_exception_type, stop_after_attempt
from tenacity.stop import stop_base
from tenacity.wait import wait_exponential

from drill.clock import Clock
from drill.errors import Interrupted, ProviderError, StepFailed, TransientError
from drill.executor._progress import NoProgress, Progress
from drill.steps import Providers, StepEnv, StepTimedOut
from drill.steps._base import Logger, Mode

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

    def count(state: RetryCallState) -> None:
        attempts.count = state.attempt_number

    def sleep(seconds: float) -> None:
        env.log.info("retrying", attempt=attempts.count, wait_s=round(seconds, 2))
        env.clock.sleep(min(seconds, max(env.remaining_s(), 0.0)), env.cancel)

    retrying = Retrying(
        stop=stop_after_attempt(retries + 1) | _NoTimeLeft(env),
        wait=wait_exponential(multiplier=1, min=1, max=30),
        retry=retry_if_exception_type(TransientError),
        sleep=sleep,
        before=count,
        reraise=True,
    )
    return retrying(call)


class _NoTimeLeft(stop_base):
    def __init__(self, env: StepEnv) -> None:
        self.env = env

    def __call__(self, retry_state: RetryCallState) -> bool:
        return self.env.remaining_s() <= 0


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
