"""The one fault queue every emulator injects request faults from.

A test (or a sandbox world file) adds a fault good for N matching requests; each request that
matches takes one, oldest fault first, and a fault is gone once spent. What "matching" means
and what a fault does are each emulator's own (a Kubernetes ``Status``, a Google error
document, an AWS XML error): the queue only counts. Thread-safe: tests add faults while
request threads take them.

Must not: know any API's request or error shape.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Generic, Protocol, TypeVar


class Countdown(Protocol):
    """A fault that knows how many more requests it applies to."""

    remaining: int


F = TypeVar("F", bound=Countdown)


class FaultQueue(Generic[F]):
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._faults: list[F] = []

    def add(self, fault: F) -> None:
        with self._lock:
            self._faults.append(fault)

    def clear(self) -> None:
        """Forget every fault, including ones not yet spent."""
        with self._lock:
            self._faults.clear()

    def take(self, matches: Callable[[F], bool]) -> F | None:
        """The oldest fault ``matches`` accepts, with one use spent; None when there is none."""
        with self._lock:
            for fault in self._faults:
                if fault.remaining > 0 and matches(fault):
                    fault.remaining -= 1
                    if fault.remaining <= 0:
                        self._faults.remove(fault)
                    return fault
        return None
