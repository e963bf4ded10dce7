"""The Velero adapter against the emulator: what a Restore it creates asks Velero to do."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from drill.clock import SystemClock
from drill.sandbox.kube import KubeEmulator, write_kubeconfig
from providers import kube
from providers.velero import VeleroAdapter, go_duration
from tests.providers.test_kube_watches import restore_request
from tests.sandbox.helpers import FAST


@pytest.fixture
def emulator() -> Iterator[KubeEmulator]:
    started = KubeEmulator(profile=FAST)
    started.start()
    yield started
    started.stop()
    assert started.errors == []


@pytest.fixture
def velero(emulator: KubeEmulator, tmp_path: Path) -> Iterator[VeleroAdapter]:
    kubeconfig = write_kubeconfig(tmp_path / "kubeconfig", {"sandbox": emulator.url})
    connected = kube.connect("sandbox", str(kubeconfig), SystemClock())
    yield VeleroAdapter(connected, "velero")
    connected.api_client.close()


def test_excluded_namespaces_and_the_item_operation_timeout_reach_velero(
    velero: VeleroAdapter, emulator: KubeEmulator
) -> None:
    request = replace(
        restore_request("r1"),
        included_namespaces=["*"],
        excluded_namespaces=["kube-system", "velero"],
        item_operation_timeout_s=5400.0,
    )
    velero.create_restore(request)
    received = emulator.get("velero.io/v1", "Restore", "r1", "velero")
    assert received is not None
    assert received["spec"]["excludedNamespaces"] == ["kube-system", "velero"]
    assert received["spec"]["itemOperationTimeout"] == "1h30m0s"


def test_a_restore_without_them_leaves_velero_its_defaults(
    velero: VeleroAdapter, emulator: KubeEmulator
) -> None:
    velero.create_restore(restore_request("r2"))
    received = emulator.get("velero.io/v1", "Restore", "r2", "velero")
    assert received is not None
    assert "excludedNamespaces" not in received["spec"]
    assert "itemOperationTimeout" not in received["spec"]


@pytest.mark.parametrize(
    ("seconds", "text"),
    [(3600, "1h0m0s"), (90, "1m30s"), (30, "30s"), (1.5, "1.5s"), (0.25, "250ms"), (0, "0s")],
)
def test_durations_are_written_as_go_writes_them(seconds: float, text: str) -> None:
    assert go_duration(seconds) == text
