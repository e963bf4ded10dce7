"""Watches whose history expired, seen through the kubernetes client against the emulator.

A real API server tells a watch that its resourceVersion predates compaction either by
answering the watch request 410 Gone or, more often, by an ERROR event carrying a 410 Status in
the stream. Either way the adapter lists again and watches from there, inside the caller's
timeout: restore, job and workload waits end in the state the cluster reached, never in an
error.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from typing import TypeVar

import pytest

from drill.clock import FakeClock
from drill.errors import NotFound
from drill.sandbox.kube import KubeEmulator, Profile
from providers import kube
from providers.protocols import JobSpec, RestoreRequest
from providers.velero import VeleroAdapter
from tests.sandbox.helpers import deployment

T = TypeVar("T")
EXPIRIES = 3
FORMS = pytest.mark.parametrize("in_stream", [True, False], ids=["error-event", "http-410"])


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def emulator(clock: FakeClock) -> Iterator[KubeEmulator]:
    """A cluster whose controllers move only when the test lets them (overrides the
    conftest's, so the ``adapter`` fixture connects to this one)."""
    profile = Profile(ready_after_s=2, job_duration_s=2, restore_duration_s=2)
    started = KubeEmulator(clock=clock, profile=profile)
    started.start(auto_tick=False)
    yield started
    started.stop()
    assert started.errors == []


def expire_then_move(
    emulator: KubeEmulator, clock: FakeClock, in_stream: bool
) -> Callable[[], None]:
    """Expire the next watches; once the adapter spent every expiry, let the world move (one
    second of its clock every few milliseconds). Returns what joins the mover."""
    emulator.faults.expire_watches(EXPIRIES, in_stream=in_stream)
    stop = threading.Event()

    def move() -> None:
        while emulator.faults.watch_faults_left() and not stop.wait(0.01):
            pass
        while not stop.wait(0.02):
            clock.advance(1)
            emulator.tick()

    mover = threading.Thread(target=move, daemon=True)
    mover.start()

    def join() -> None:
        stop.set()
        mover.join(5)

    return join


def first(items: Iterator[T], done: Callable[[T], bool]) -> T:
    for item in items:
        if done(item):
            return item
    pytest.fail("the watch ended before the state was reached")


@FORMS
def test_a_restore_wait_lists_again_after_its_watch_expired(
    adapter: kube.KubeAdapter, emulator: KubeEmulator, clock: FakeClock, in_stream: bool
) -> None:
    config = {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": "c", "namespace": "shop"},
    }
    emulator.velero.register_backup("nightly-1", [config])
    velero = VeleroAdapter(adapter, "velero")
    velero.create_restore(restore_request("r1"))
    join = expire_then_move(emulator, clock, in_stream)
    try:
        final = first(velero.watch_restore("r1", timeout_s=20), lambda status: status.terminal)
    finally:
        join()
    assert final.phase == "Completed"
    assert emulator.faults.watch_faults_left() == 0


@FORMS
def test_a_job_wait_lists_again_after_its_watch_expired(
    adapter: kube.KubeAdapter, emulator: KubeEmulator, clock: FakeClock, in_stream: bool
) -> None:
    adapter.create_job(
        JobSpec("default", "smoke", "busybox:1.36", ("true",), {}, {"drill.dev/run-id": "r1"}, 60)
    )
    join = expire_then_move(emulator, clock, in_stream)
    try:
        final = first(adapter.watch_job("default", "smoke", 20), lambda s: s.state != "running")
    finally:
        join()
    assert final.state == "succeeded"
    assert emulator.faults.watch_faults_left() == 0


@FORMS
def test_a_readiness_wait_lists_again_after_its_watch_expired(
    adapter: kube.KubeAdapter, emulator: KubeEmulator, clock: FakeClock, in_stream: bool
) -> None:
    manifest = deployment("api", replicas=2)
    manifest["metadata"]["namespace"] = "default"
    emulator.apply(manifest)
    join = expire_then_move(emulator, clock, in_stream)
    try:
        [ready] = first(
            adapter.watch_workloads("default", "app=api", 20),
            lambda listed: bool(listed) and all(w.rolled_out for w in listed),
        )
    finally:
        join()
    assert (ready.name, ready.ready) == ("api", 2)
    assert emulator.faults.watch_faults_left() == 0


def test_a_job_deleted_while_watched_is_not_found(
    adapter: kube.KubeAdapter, emulator: KubeEmulator
) -> None:
    with pytest.raises(NotFound, match="sandbox: job default/ghost is gone"):
        list(adapter.watch_job("default", "ghost", 5))


def restore_request(name: str) -> RestoreRequest:
    return RestoreRequest(
        name=name,
        backup_name="nightly-1",
        schedule_name=None,
        included_namespaces=["shop"],
        excluded_namespaces=[],
        namespace_mapping={"shop": "dr-test"},
        included_resources=[],
        excluded_resources=[],
        label_selector=None,
        restore_pvs=True,
        include_cluster_resources=False,
        existing_resource_policy="none",
        labels={},
    )
