"""Fixtures: started emulators (stopped at teardown) and real kubernetes clients for them.

Every test talks to an emulator over real HTTP through a kubeconfig, exactly as drill's
providers will. Teardown fails the test if an emulator recorded an internal error or left a
thread running.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from kubernetes import client

from drill.clock import FakeClock
from drill.sandbox.kube import KubeEmulator, Profile, write_kubeconfig
from tests.sandbox.helpers import FAST, Cluster, MakeCluster, client_with_token
from tests.threads import wait_threads_gone


@pytest.fixture
def make_cluster(tmp_path: Path) -> Iterator[MakeCluster]:
    """Start an emulator built from the keyword arguments; everything started is stopped after."""
    started: list[Cluster] = []

    def make(*, auto_tick: bool = True, **options: object) -> Cluster:
        emulator = KubeEmulator(**options)  # type: ignore[arg-type]
        url = emulator.start(auto_tick=auto_tick)
        kubeconfig = write_kubeconfig(tmp_path / f"kubeconfig-{len(started)}", {"sandbox": url})
        started.append(Cluster(emulator, kubeconfig))
        return started[-1]

    yield make
    for cluster in started:
        cluster.api_client.close()
        cluster.emulator.stop()
    errors = [e for c in started for e in c.emulator.errors]
    assert errors == [], "an emulator hit an internal error:\n" + "\n".join(errors)


@pytest.fixture
def cluster(make_cluster: MakeCluster) -> Cluster:
    """A running emulator with fast timings, driven by the system clock."""
    return make_cluster(profile=FAST)


@pytest.fixture
def fake_clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def still_cluster(make_cluster: MakeCluster, fake_clock: FakeClock) -> Cluster:
    """A running emulator on a FakeClock whose controllers move only on ``emulator.tick()``."""
    profile = Profile(
        ready_after_s=5, job_duration_s=3, restore_duration_s=10, namespace_delete_s=1
    )
    return make_cluster(clock=fake_clock, profile=profile, auto_tick=False)


@pytest.fixture
def token_client(tmp_path: Path) -> Iterator[Callable[[Cluster, str], client.ApiClient]]:
    """Real clients that authenticate with a given token (closed after the test)."""
    made: list[client.ApiClient] = []

    def make(cluster: Cluster, token: str) -> client.ApiClient:
        made.append(client_with_token(cluster, token, tmp_path / f"kubeconfig-token-{len(made)}"))
        return made[-1]

    yield make
    for api_client in made:
        api_client.close()


@pytest.fixture(autouse=True)
def _no_thread_leaks() -> Iterator[None]:
    """Every emulator thread a test started has ended once its fixtures are torn down."""
    yield
    wait_threads_gone("kube-emulator")
