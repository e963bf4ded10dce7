"""`drill heartbeat` against the Kubernetes emulator, over the real client: it writes the time
at a fixed rate, survives transient faults, says what it cannot do, and stops on SIGTERM."""

from __future__ import annotations

import io
import signal
import threading
import time
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import TypedDict, Unpack

import pytest

from drill.clock import FakeClock
from drill.commands import Console, Settings, exit_code_of
from drill.commands.heartbeat import HeartbeatOptions, heartbeat
from drill.sandbox.kube import KubeEmulator, write_kubeconfig
from tests.cli.conftest import Drill

START = FakeClock().now()


@pytest.fixture
def cluster(tmp_path: Path) -> Iterator[tuple[KubeEmulator, Path]]:
    with KubeEmulator() as emulator:
        emulator.apply({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "prod"}})
        yield emulator, write_kubeconfig(tmp_path / "kubeconfig", {"sandbox": emulator.url})


class HeartbeatChoices(TypedDict, total=False):
    """The fields of HeartbeatOptions a test may choose."""

    namespace: str
    name: str
    key: str
    interval: str
    context: str
    count: int | None


def beat(
    kubeconfig: Path,
    clock: FakeClock | None = None,
    stop: threading.Event | None = None,
    **options: Unpack[HeartbeatChoices],
) -> tuple[int, str]:
    settings = Settings(environ={}, kubeconfig=str(kubeconfig))
    given = HeartbeatOptions(**(HeartbeatChoices(namespace="prod", context="sandbox") | options))
    stderr = io.StringIO()
    console = Console(io.StringIO(), stderr, io.StringIO())
    code = exit_code_of(lambda: heartbeat(settings, given, console, clock, stop), console)
    return code, stderr.getvalue()


def written(emulator: KubeEmulator, name: str = "drill-heartbeat") -> dict[str, str]:
    found = emulator.get("v1", "ConfigMap", name, "prod")
    assert found is not None
    data: dict[str, str] = found["data"]
    return data


def test_writes_the_time_at_a_fixed_rate_then_stops_after_count(
    cluster: tuple[KubeEmulator, Path],
) -> None:
    emulator, kubeconfig = cluster
    clock = FakeClock(START)
    code, log = beat(kubeconfig, clock, count=3, interval="10s", key="written")
    assert code == 0
    # The third write happened 20 s after the first: the rate, not the interval after a write.
    assert written(emulator) == {"written": (START + timedelta(seconds=20)).isoformat()}
    assert datetime.fromisoformat(written(emulator)["written"]).tzinfo is not None
    assert '"event": "heartbeat_stopped"' in log
    assert '"writes": 3, "missed": 0' in log
    configmap = emulator.get("v1", "ConfigMap", "drill-heartbeat", "prod")
    assert configmap is not None
    labels = configmap["metadata"]["labels"]
    assert labels["app.kubernetes.io/name"] == "drill-heartbeat"


def test_a_transient_fault_misses_one_heartbeat_and_the_next_write_goes_on(
    cluster: tuple[KubeEmulator, Path],
) -> None:
    emulator, kubeconfig = cluster
    emulator.faults.fail_requests(1, status=503, path_contains="/configmaps")
    code, log = beat(kubeconfig, FakeClock(START), count=2, interval="10s")
    assert code == 0
    assert log.count('"event": "heartbeat_missed"') == 1
    assert '"writes": 1, "missed": 1' in log
    assert written(emulator) == {"timestamp": (START + timedelta(seconds=10)).isoformat()}


def test_counted_writes_none_of_which_was_made_exit_3_saying_why(
    cluster: tuple[KubeEmulator, Path],
) -> None:
    """`--count 1` as a one-shot job: a write the API never took is a failed job, not a quiet
    success, and the last line does not count it as a write."""
    emulator, kubeconfig = cluster
    emulator.faults.fail_requests(2, status=503, path_contains="/configmaps")
    code, log = beat(kubeconfig, FakeClock(START), count=2, interval="10s")
    assert code == 3
    assert '"writes": 0, "missed": 2' in log
    assert "drill: no heartbeat written to prod/drill-heartbeat: all 2 writes missed" in log
    assert emulator.get("v1", "ConfigMap", "drill-heartbeat", "prod") is None


@pytest.mark.parametrize(
    ("options", "code", "said"),
    [
        # A write the API refuses for good: the writer ran, and failed.
        ({"namespace": "gone"}, 3, "create configmap gone/drill-heartbeat"),
        # A context the kubeconfig lacks is bad input, as to `drill run`; it ended with 3.
        (
            {"context": "prod-cluster"},
            2,
            "drill: kube context 'prod-cluster' ({kubeconfig}): no context named "
            "'prod-cluster' in it (contexts there: sandbox)\n",
        ),
    ],
)
def test_what_it_cannot_do_ends_it_with_the_reason(
    cluster: tuple[KubeEmulator, Path], options: HeartbeatChoices, code: int, said: str
) -> None:
    emulator, kubeconfig = cluster
    ended, log = beat(kubeconfig, FakeClock(START), **(HeartbeatChoices(count=1) | options))
    assert ended == code
    assert said.format(kubeconfig=kubeconfig) in log
    assert emulator.get("v1", "ConfigMap", "drill-heartbeat", "prod") is None


def test_a_kubeconfig_that_is_a_directory_is_bad_input(tmp_path: Path) -> None:
    code, log = beat(tmp_path, FakeClock(START), count=1)
    assert code == 2
    assert log == (
        f"drill: kube context 'sandbox' ({tmp_path}): {tmp_path} is a directory, not a "
        "kubeconfig file: name the file itself\n"
    )


def test_in_cluster_outside_a_pod_is_bad_input_saying_so(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """It named the kubeconfig file, which in-cluster does not read."""
    monkeypatch.delenv("KUBERNETES_SERVICE_HOST", raising=False)
    code, log = beat(tmp_path / "no-kubeconfig", FakeClock(START), context="in-cluster", count=1)
    assert code == 2
    assert log.startswith("drill: kube context 'in-cluster' (the pod's service account): ")
    assert log.endswith("; outside a pod, name a kube context with --context\n")
    assert "no-kubeconfig" not in log
    assert len(log.splitlines()) == 1


@pytest.mark.parametrize(
    ("options", "said"),
    [
        ({"interval": "0s"}, "--interval '0s': must be longer than zero"),
        ({"interval": "5"}, "--interval '5': '5' is not a duration"),
        ({"key": "a b"}, "--key 'a b': 'a b' is not a valid ConfigMap key"),
        ({"name": "Heart"}, "--name 'Heart': 'Heart' is not a valid Kubernetes object name"),
        ({"name": "beat."}, "--name 'beat.': 'beat.' is not a valid Kubernetes object name"),
        ({"name": "a..b"}, "--name 'a..b': 'a..b' is not a valid Kubernetes object name"),
        ({"name": "a_b"}, "--name 'a_b': 'a_b' is not a valid Kubernetes object name"),
        ({"name": "a" * 254}, f"--name '{'a' * 254}': '{'a' * 254}' is not a valid Kubernetes"),
        ({"count": 0}, "--count 0: give at least 1"),
    ],
)
def test_bad_options_name_their_flag_and_exit_2(
    cluster: tuple[KubeEmulator, Path], options: HeartbeatChoices, said: str
) -> None:
    emulator, kubeconfig = cluster
    code, log = beat(kubeconfig, FakeClock(START), **options)
    assert code == 2
    assert log.startswith(f"drill: {said}")
    assert emulator.get("v1", "ConfigMap", "drill-heartbeat", "prod") is None


# A ConfigMap's name is a DNS subdomain: dots between labels, at most 253 characters.
LONGEST_NAME = ".".join(["a" * 63, "b" * 63, "c" * 63, "d" * 61])


@pytest.mark.parametrize("name", ["drill.heartbeat", "api-server.heartbeat-1", LONGEST_NAME])
def test_a_configmap_name_the_api_server_takes_is_written(
    cluster: tuple[KubeEmulator, Path], name: str
) -> None:
    """--name took only a DNS label: "drill.heartbeat", a name Kubernetes gives ConfigMaps,
    was refused."""
    assert len(LONGEST_NAME) == 253
    emulator, kubeconfig = cluster
    code, log = beat(kubeconfig, FakeClock(START), name=name, count=1)
    assert code == 0, log
    assert written(emulator, name) == {"timestamp": START.isoformat()}


def test_stop_ends_it_between_writes(cluster: tuple[KubeEmulator, Path]) -> None:
    emulator, kubeconfig = cluster
    stop = threading.Event()
    finished: list[int] = []
    thread = threading.Thread(
        target=lambda: finished.append(beat(kubeconfig, stop=stop, interval="50ms")[0])
    )
    thread.start()
    deadline = time.monotonic() + 10
    while emulator.get("v1", "ConfigMap", "drill-heartbeat", "prod") is None:
        assert time.monotonic() < deadline, "no heartbeat written"
        time.sleep(0.02)
    stop.set()
    thread.join(10)
    assert finished == [0]


@pytest.mark.slow
def test_sigterm_stops_the_real_process_cleanly(
    drill: Drill, cluster: tuple[KubeEmulator, Path]
) -> None:
    emulator, kubeconfig = cluster
    process = drill.popen(
        "--kubeconfig", str(kubeconfig), "heartbeat", "--namespace", "prod",
        "--context", "sandbox", "--interval", "100ms",
    )  # fmt: skip
    deadline = time.monotonic() + 20
    while emulator.get("v1", "ConfigMap", "drill-heartbeat", "prod") is None:
        assert time.monotonic() < deadline, "no heartbeat written"
        assert process.poll() is None, process.communicate()
        time.sleep(0.05)
    process.send_signal(signal.SIGTERM)
    _, stderr = process.communicate(timeout=20)
    assert process.returncode == 0, stderr
    assert '"event": "stopping"' in stderr
    assert '"signal": "SIGTERM"' in stderr
    assert "Traceback" not in stderr
