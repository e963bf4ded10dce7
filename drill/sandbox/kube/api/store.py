"""The object store: every object of one emulated cluster, a global resourceVersion, and events.

One lock guards everything, so each write is atomic and events leave in resourceVersion order.
Each write bumps the global counter, stamps ``metadata.resourceVersion``, bumps
``metadata.generation`` when ``spec`` changed (of an object that has one), and appends an
event to a bounded window that watches replay from. A watch asking for a resourceVersion older
than the window gets ``Expired``.

A dry run (``dry_run=True``) makes the same checks and answers what the write would store, but
stores nothing, bumps no counter and sends no event: a create's answer has no
resourceVersion, an update's keeps the one stored, as the real server's DryRunnableStorage.

Stored dicts are never mutated after they are stored (a write stores a new dict), so events and
the read-only views (``read``, ``items``) can share them without copying. Callers that want to
change an object get a copy (``mutate``, or the copies write methods return).

This module must not apply defaults, validation, selectors or any resource-specific rule
beyond generation; that is ``_api``'s job.
"""

from __future__ import annotations

import queue
import threading
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

from drill.sandbox.kube.api.errors import already_exists, gone, not_found, stale
from drill.sandbox.kube.api.objects import Obj, clone, meta, name_of, namespace_of
from drill.sandbox.kube.api.resources import ResourceType

ADDED, MODIFIED, DELETED = "ADDED", "MODIFIED", "DELETED"
_Key = tuple[str, str]  # (namespace, name); namespace is "" for cluster-scoped objects


@dataclass(frozen=True)
class Event:
    rv: int
    type: str
    rt: ResourceType
    obj: Obj
    prev: Obj | None = None


class Subscription:
    """The live feed of one watch: events for one resource type, optionally one namespace."""

    def __init__(self, rt: ResourceType, namespace: str | None) -> None:
        self.rt = rt
        self.namespace = namespace
        self._events: queue.Queue[Event] = queue.Queue()

    def wants(self, event: Event) -> bool:
        same_namespace = self.namespace is None or namespace_of(event.obj) == self.namespace
        return event.rt == self.rt and same_namespace

    def put(self, event: Event) -> None:
        self._events.put(event)

    def next(self, timeout_s: float) -> Event | None:
        try:
            return self._events.get(timeout=max(timeout_s, 0.0))
        except queue.Empty:
            return None


class Store:
    def __init__(self, event_window: int = 1000) -> None:
        self.lock = threading.RLock()
        self._objects: dict[ResourceType, dict[_Key, Obj]] = {}
        self._rv = 1
        self._events: deque[Event] = deque(maxlen=event_window)
        self._compacted_rv = 0
        self._subscriptions: list[Subscription] = []

    # -- reads ---------------------------------------------------------------------------------

    def current_rv(self) -> int:
        with self.lock:
            return self._rv

    def read(self, rt: ResourceType, namespace: str, name: str) -> Obj | None:
        """The stored object (read-only: never mutate it), or None."""
        with self.lock:
            return self._bucket(rt).get((namespace, name))

    def items(self, rt: ResourceType, namespace: str | None = None) -> list[Obj]:
        """Stored objects (read-only), sorted by namespace then name."""
        with self.lock:
            found = self._bucket(rt)
            keys = sorted(k for k in found if namespace is None or k[0] == namespace)
            return [found[k] for k in keys]

    def is_expired(self, rv: int) -> bool:
        """True when events after ``rv`` are no longer all retained."""
        with self.lock:
            return rv < self._compacted_rv

    # -- writes --------------------------------------------------------------------------------

    def insert(self, rt: ResourceType, obj: Obj, *, dry_run: bool = False) -> Obj:
        with self.lock:
            key = (namespace_of(obj), name_of(obj))
            if key in self._bucket(rt):
                raise already_exists(rt, key[1])
            if dry_run:
                return clone(obj)
            stored = self._stamp(clone(obj))
            self._bucket(rt)[key] = stored
            self._publish(ADDED, rt, stored, None)
            return clone(stored)

    def update(
        self,
        rt: ResourceType,
        obj: Obj,
        expected_rv: str | None = None,
        *,
        dry_run: bool = False,
    ) -> Obj:
        """Replace the stored object; ``expected_rv`` (if given) must be the current one."""
        with self.lock:
            key = (namespace_of(obj), name_of(obj))
            old = self._existing(rt, key)
            if expected_rv and expected_rv != old["metadata"]["resourceVersion"]:
                raise stale(rt, key[1])
            return clone(self._replace(rt, key, old, clone(obj), dry_run=dry_run))

    def mutate(
        self,
        rt: ResourceType,
        namespace: str,
        name: str,
        change: Callable[[Obj], None],
        *,
        dry_run: bool = False,
    ) -> Obj:
        """Atomic read-modify-write; no write (and no event) when ``change`` changed nothing."""
        with self.lock:
            old = self._existing(rt, (namespace, name))
            new = clone(old)
            change(new)
            if new == old:
                return clone(old)
            return clone(self._replace(rt, (namespace, name), old, new, dry_run=dry_run))

    def remove(self, rt: ResourceType, namespace: str, name: str) -> Obj:
        with self.lock:
            old = self._existing(rt, (namespace, name))
            del self._bucket(rt)[(namespace, name)]
            gone_obj = clone(old)
            self._rv += 1
            meta(gone_obj)["resourceVersion"] = str(self._rv)
            self._publish(DELETED, rt, gone_obj, old)
            return clone(gone_obj)

    # -- watches -------------------------------------------------------------------------------

    def subscribe(
        self, rt: ResourceType, namespace: str | None, since_rv: int | None
    ) -> tuple[list[Event], Subscription]:
        """Events to replay, then the live feed; ``since_rv=None`` replays objects as ADDED."""
        with self.lock:
            subscription = Subscription(rt, namespace)
            if since_rv is None:
                backlog = [Event(self._rv, ADDED, rt, o) for o in self.items(rt, namespace)]
            elif since_rv < self._compacted_rv:
                raise gone(f"too old resource version: {since_rv} ({self._compacted_rv})")
            else:
                backlog = [e for e in self._events if e.rv > since_rv and subscription.wants(e)]
            self._subscriptions.append(subscription)
            return backlog, subscription

    def unsubscribe(self, subscription: Subscription) -> None:
        with self.lock:
            if subscription in self._subscriptions:
                self._subscriptions.remove(subscription)

    def compact(self) -> None:
        """Forget every retained event, as etcd compaction does: older watches now get Gone."""
        with self.lock:
            self._events.clear()
            self._compacted_rv = self._rv

    # -- internals -----------------------------------------------------------------------------

    def _bucket(self, rt: ResourceType) -> dict[_Key, Obj]:
        return self._objects.setdefault(rt, {})

    def _existing(self, rt: ResourceType, key: _Key) -> Obj:
        found = self._bucket(rt).get(key)
        if found is None:
            raise not_found(rt, key[1])
        return found

    def _stamp(self, obj: Obj) -> Obj:
        self._rv += 1
        meta(obj)["resourceVersion"] = str(self._rv)
        return obj

    def _replace(
        self, rt: ResourceType, key: _Key, old: Obj, new: Obj, *, dry_run: bool = False
    ) -> Obj:
        metadata, old_meta = meta(new), old["metadata"]
        for kept in ("uid", "creationTimestamp", "namespace", "name"):
            if kept in old_meta:
                metadata[kept] = old_meta[kept]
        if "generation" in old_meta:  # only kinds that track one have it
            generation = int(old_meta["generation"])
            metadata["generation"] = (
                generation + 1 if new.get("spec") != old.get("spec") else generation
            )
        else:
            metadata.pop("generation", None)
        if dry_run:
            metadata["resourceVersion"] = old_meta["resourceVersion"]
            return new
        stored = self._stamp(new)
        self._bucket(rt)[key] = stored
        self._publish(MODIFIED, rt, stored, old)
        return stored

    def _publish(self, kind: str, rt: ResourceType, obj: Obj, prev: Obj | None) -> None:
        if len(self._events) == self._events.maxlen and self._events:
            self._compacted_rv = self._events[0].rv
        event = Event(self._rv, kind, rt, obj, prev)
        self._events.append(event)
        for subscription in self._subscriptions:
            if subscription.wants(event):
                subscription.put(event)
