"""Fixtures for the Kubernetes and Velero adapter tests: an emulated cluster (a module may
override ``emulator`` with one of its own) and drill's adapter for it, over a kubeconfig."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from drill.clock import SystemClock
from drill.sandbox.kube import KubeEmulator, write_kubeconfig
from providers import kube
from tests.sandbox.helpers import FAST


@pytest.fixture
def emulator() -> Iterator[KubeEmulator]:
    started = KubeEmulator(profile=FAST)
    started.start()
    yield started
    started.stop()
    assert started.errors == []


@pytest.fixture
def adapter(emulator: KubeEmulator, tmp_path: Path) -> Iterator[kube.KubeAdapter]:
    kubeconfig = write_kubeconfig(tmp_path / "kubeconfig", {"sandbox": emulator.url})
    connected = kube.connect("sandbox", str(kubeconfig), SystemClock())
    yield connected
    connected.api_client.close()
