"""One watch request: replay from a resourceVersion, then follow live events until it ends.

A watch ends when its ``timeoutSeconds`` pass, when the emulator stops, or when a drop fault
says so; an expiry fault ends it the way a real server ends a watch whose history was
compacted: an ``ERROR`` event carrying a 410 ``Expired`` ``Status``. A watch from a
resourceVersion older than the retained history sends that event alone. Label and field
selectors are applied per event the way the real server does: an object that stops matching
is reported DELETED, one that starts matching ADDED.

``timeoutSeconds`` is measured in real time, not by the emulator's injected clock, because the
client on the other end of the socket waits in real time. This module yields encoded event
lines; it must not write to sockets (that is ``_server``) or parse query strings.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Generator, Iterator

from drill.clock import Clock
from drill.sandbox.kube._faults import WatchBudget
from drill.sandbox.kube.api.errors import EXPIRED, ApiError, gone
from drill.sandbox.kube.api.objects import Obj, dumps
from drill.sandbox.kube.api.selectors import FieldSelector, LabelSelector
from drill.sandbox.kube.api.store import ADDED, DELETED, MODIFIED, Event, Store, Subscription

_POLL_S = 0.05  # how often a quiet watch looks at its deadline, the stop flag and drop faults


class WatchStream:
    def __init__(
        self,
        store: Store,
        subscription: Subscription,
        backlog: list[Event],
        selectors: tuple[LabelSelector, FieldSelector],
        budget: WatchBudget,
        timing: tuple[Clock, float, threading.Event],
        idle_cut: tuple[float | None, Callable[[], None]],
        render: Callable[[Obj], Obj],
        failed: ApiError | None = None,
    ) -> None:
        self._store = store
        self._failed = failed  # the watch could not start: its one event is this error
        self._subscription = subscription
        self._backlog = backlog
        self._labels, self._fields = selectors
        self._budget = budget
        self._wall, timeout_s, self._stop = timing
        self._deadline = self._wall.monotonic() + timeout_s
        self._idle_cut_s, self._on_idle_cut = idle_cut
        self._last_sent = self._wall.monotonic()
        self.abrupt = False
        self.expired = False
        self._client_gone: Callable[[], bool] = lambda: False
        self._render = render  # each event's object as the client asked (a Table for kubectl)

    def lines(
        self, client_gone: Callable[[], bool] = lambda: False
    ) -> Generator[bytes, None, None]:
        """Encoded events, one JSON document per line. ``abrupt`` is set if a fault cut it."""
        self._client_gone = client_gone
        try:
            if self._failed is not None:
                yield dumps({"type": "ERROR", "object": self._failed.status()}) + b"\n"
                return
            yield from self._events()
            if self.expired:
                expired = gone(EXPIRED)
                yield dumps({"type": "ERROR", "object": expired.status()}) + b"\n"
        finally:
            self._store.unsubscribe(self._subscription)

    def _events(self) -> Iterator[bytes]:
        for event in self._backlog:
            if self._ended():
                return
            yield from self._encoded(event)
        while not self._ended():
            live = self._subscription.next(min(_POLL_S, self._remaining_s()))
            if live is not None:
                yield from self._encoded(live)

    def _remaining_s(self) -> float:
        return self._deadline - self._wall.monotonic()

    def _ended(self) -> bool:
        if self._budget.exhausted():
            self.abrupt, self.expired = self._budget.abrupt, self._budget.expired
            return True
        if self._idle_too_long():
            self.abrupt = True  # the balancer drops the connection: no end of stream
            self._on_idle_cut()
            return True
        return self._stop.is_set() or self._remaining_s() <= 0 or self._client_gone()

    def _idle_too_long(self) -> bool:
        cut_s = self._idle_cut_s
        return cut_s is not None and self._wall.monotonic() - self._last_sent >= cut_s

    def _encoded(self, event: Event) -> Iterator[bytes]:
        translated = self._translate(event)
        if translated is not None:
            self._budget.spend()
            kind, obj = translated
            self._last_sent = self._wall.monotonic()
            yield dumps({"type": kind, "object": self._render(obj)}) + b"\n"

    def _matches(self, obj: Obj | None) -> bool:
        return obj is not None and self._labels.matches(obj) and self._fields.matches(obj)

    def _translate(self, event: Event) -> tuple[str, Obj] | None:
        if event.type in (ADDED, DELETED):
            return (event.type, event.obj) if self._matches(event.obj) else None
        now_in, was_in = self._matches(event.obj), self._matches(event.prev)
        if now_in:
            return (MODIFIED if was_in else ADDED), event.obj
        return (DELETED, event.obj) if was_in else None
