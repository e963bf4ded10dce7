"""When drill calls a workload rolled out: as `kubectl rollout status` does, ready besides.

The rules are pure logic on WorkloadStatus; the adapter's reading of a real rollout (the
sandbox's, through the kubernetes client over HTTP) is checked at the end."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace

import pytest

from drill.clock import FakeClock
from drill.sandbox.kube import KubeEmulator, Profile
from providers import kube
from providers.protocols import WorkloadStatus
from tests.sandbox.helpers import deployment

SETTLED = WorkloadStatus(
    "Deployment", "shop", "api", desired=3, ready=3, updated=3, available=3, pods=3
)


def test_a_settled_deployment_is_rolled_out() -> None:
    assert SETTLED.rollout_pending is None
    assert SETTLED.rolled_out


@pytest.mark.parametrize(
    ("status", "pending"),
    [
        (replace(SETTLED, generation=4, observed_generation=3), "not yet acted on the latest"),
        (replace(SETTLED, updated=2), "2 of 3 replicas run the current template"),
        (replace(SETTLED, pods=4), "1 old replicas pending termination"),
        (replace(SETTLED, available=2), "2 of 3 updated replicas available"),
    ],
)
def test_a_deployment_mid_rollout_is_not_rolled_out_though_every_replica_is_ready(
    status: WorkloadStatus, pending: str
) -> None:
    assert status.ready == status.desired
    assert pending in (status.rollout_pending or "")
    assert not status.rolled_out


def test_ready_replicas_are_needed_besides_a_done_rollout() -> None:
    status = replace(SETTLED, ready=2)
    assert status.rollout_pending is None
    assert not status.rolled_out


STATEFULSET = WorkloadStatus(
    "StatefulSet", "shop", "db", desired=3, ready=3, updated=3, available=3, pods=3
)


def test_a_statefulset_whose_status_was_never_written_is_not_rolled_out() -> None:
    never = replace(STATEFULSET, generation=1, observed_generation=0)
    assert never.rollout_pending == "the controller has not yet acted on the latest spec"


def test_a_statefulset_partition_needs_only_the_ordinals_at_or_above_it_updated() -> None:
    partitioned = replace(STATEFULSET, updated=1, partition=2)
    assert partitioned.rolled_out
    assert replace(partitioned, updated=0).rollout_pending == (
        "0 of 1 replicas run the current template"
    )


def test_an_on_delete_statefulset_needs_every_pod_replaced() -> None:
    on_delete = replace(STATEFULSET, updated=2, partition=None)
    assert on_delete.rollout_pending == "2 of 3 replicas run the current template"


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def emulator(clock: FakeClock) -> Iterator[KubeEmulator]:
    """An emulated cluster whose controllers move only on ``tick()`` (the ``adapter``
    fixture's, in place of the one that moves by itself)."""
    started = KubeEmulator(clock=clock, profile=Profile(ready_after_s=5))
    started.start(auto_tick=False)
    yield started
    started.stop()
    assert started.errors == []


def settle(emulator: KubeEmulator, clock: FakeClock, seconds: float) -> None:
    clock.advance(seconds)
    emulator.tick()
    emulator.tick()


def test_the_adapter_reads_a_rollout_in_progress_as_not_rolled_out(
    emulator: KubeEmulator, adapter: kube.KubeAdapter, clock: FakeClock
) -> None:
    manifest = deployment("api", replicas=2)
    manifest["metadata"]["namespace"] = "default"
    manifest["spec"]["strategy"] = {"rollingUpdate": {"maxSurge": 1, "maxUnavailable": 0}}
    emulator.apply(manifest)
    settle(emulator, clock, 0)
    settle(emulator, clock, 5)
    [settled] = adapter.workloads("default", "app=api")
    assert settled.rolled_out

    manifest["spec"]["template"]["metadata"]["annotations"] = {"version": "2"}
    emulator.apply(manifest)
    [unseen] = adapter.workloads("default", "app=api")
    assert unseen.ready == unseen.desired == 2
    assert unseen.rollout_pending == "the controller has not yet acted on the latest spec"

    settle(emulator, clock, 0)
    [surged] = adapter.workloads("default", "app=api")
    assert (surged.ready, surged.updated, surged.pods) == (2, 1, 3)
    assert surged.rollout_pending == "1 of 2 replicas run the current template"

    rounds = 0
    while not adapter.workloads("default", "app=api")[0].rolled_out:
        [now] = adapter.workloads("default", "app=api")
        assert now.ready >= 2
        settle(emulator, clock, 5)
        rounds += 1
        assert rounds < 10, now
    [done] = adapter.workloads("default", "app=api")
    assert (done.ready, done.updated, done.pods, done.available) == (2, 2, 2, 2)


def test_the_adapter_reads_that_a_deployment_is_paused(
    emulator: KubeEmulator, adapter: kube.KubeAdapter, clock: FakeClock
) -> None:
    manifest = deployment("api", replicas=2)
    manifest["metadata"]["namespace"] = "default"
    manifest["spec"]["paused"] = True
    emulator.apply(manifest)
    settle(emulator, clock, 5)
    [paused] = adapter.workloads("default", "app=api")
    assert paused.paused
    assert (paused.ready, paused.pods) == (0, 0)
    assert not paused.rolled_out
