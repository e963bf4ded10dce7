"""Bursts of parallel connections: the listen backlog holds them, and all are answered.

A plan's parallel steps each hold a watch; 50 of them connect at once. With socketserver's
default backlog of 5 the kernel drops the SYNs that do not fit and the clients retry a second
later. These tests check the backlog itself (deterministically: connections queue while
nothing accepts) and that 50 parallel watches and 50 parallel reads through the real client
all get their answers.
"""

from __future__ import annotations

import select
import socket
import threading
import time
from collections.abc import Callable

from kubernetes import client, config, watch

from drill.sandbox.emulator import LoopbackServer, QuietHandler
from tests.sandbox.helpers import ROOT_CA, Cluster, wait_for

PARALLEL = 50


def test_a_burst_of_connections_waits_in_the_backlog_while_nothing_accepts() -> None:
    server = LoopbackServer(QuietHandler, "backlog")  # never started: nothing accepts
    sockets = [socket.socket() for _ in range(PARALLEL)]
    try:
        for sock in sockets:
            sock.setblocking(False)
            sock.connect_ex(server.server_address)
        # Handshakes of queued connections complete at once on loopback; a dropped SYN would
        # leave its socket unconnected for as long as nothing accepts, however long we wait.
        assert _connected(sockets, give_up_after_s=10) == PARALLEL
    finally:
        for sock in sockets:
            sock.close()
        server.server_close()


def _connected(sockets: list[socket.socket], give_up_after_s: float) -> int:
    pending = set(sockets)
    deadline = time.monotonic() + give_up_after_s
    while pending and time.monotonic() < deadline:
        _, writable, _ = select.select([], list(pending), [], 0.1)
        pending -= {s for s in writable if s.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR) == 0}
    return len(sockets) - len(pending)


def _client(cluster: Cluster) -> client.ApiClient:
    """A client whose pool holds a connection per parallel caller (the default keeps 10)."""
    configuration = client.Configuration()
    config.load_kube_config(
        config_file=str(cluster.kubeconfig), context="sandbox", client_configuration=configuration
    )
    configuration.connection_pool_maxsize = PARALLEL
    return client.ApiClient(configuration)


def _in_parallel(work: Callable[[int], object]) -> tuple[list[object], list[BaseException]]:
    results: list[object] = []
    errors: list[BaseException] = []
    lock = threading.Lock()

    def run(index: int) -> None:
        try:
            found = work(index)
        except BaseException as error:  # noqa: BLE001 - every failure is reported below
            with lock:
                errors.append(error)
            return
        with lock:
            results.append(found)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(PARALLEL)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert not any(t.is_alive() for t in threads), "a parallel caller never finished"
    return results, errors


def test_fifty_parallel_watches_all_see_the_change(cluster: Cluster) -> None:
    namespace = cluster.namespace("burst")
    api_client = _client(cluster)
    core = client.CoreV1Api(api_client)
    # The namespace's own CA bundle comes first (the cluster writes it): then the change is news.
    wait_for(lambda: cluster.emulator.get("v1", "ConfigMap", ROOT_CA, namespace) is not None)
    listed = core.list_namespaced_config_map(namespace).metadata.resource_version
    opened = threading.Barrier(PARALLEL + 1)

    def wait_for_signal(index: int) -> str:
        opened.wait(30)
        for event in watch.Watch().stream(
            core.list_namespaced_config_map,
            namespace,
            resource_version=listed,
            timeout_seconds=30,
        ):
            return str(event["object"].metadata.name)
        return ""

    def signal() -> None:
        opened.wait(30)  # every watcher is about to watch (or watching): the change is news
        core.create_namespaced_config_map(namespace, {"metadata": {"name": "go"}})

    signaller = threading.Thread(target=signal)
    try:
        signaller.start()
        results, errors = _in_parallel(wait_for_signal)
        signaller.join(30)
    finally:
        api_client.close()
    assert errors == []
    assert results == ["go"] * PARALLEL


def test_fifty_parallel_reads_are_all_answered(cluster: Cluster) -> None:
    api_client = _client(cluster)
    core = client.CoreV1Api(api_client)
    try:
        results, errors = _in_parallel(lambda _: core.read_namespace("default").metadata.name)
    finally:
        api_client.close()
    assert errors == []
    assert results == ["default"] * PARALLEL
