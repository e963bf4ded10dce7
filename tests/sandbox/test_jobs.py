"""Jobs run their commands against the cluster's Services, through the real kubernetes client:
success with the answer in the log; unknown host, wrong port, unready backend and an error
status fail the pod with curl's exit code and message; failed pods are retried after the real
back-off until ``backoffLimit``, then the Job is Failed with ``BackoffLimitExceeded``."""

from __future__ import annotations

from typing import Any

import pytest

from drill.clock import FakeClock
from drill.sandbox.kube import Profile
from tests.sandbox.helpers import Cluster, MakeCluster, deployment

SERVICE = {
    "metadata": {"name": "api"},
    "spec": {"selector": {"app": "api"}, "ports": [{"port": 80, "targetPort": 80}]},
}


def advance(cluster: Cluster, clock: FakeClock, seconds: float) -> None:
    clock.advance(seconds)
    cluster.emulator.tick()
    cluster.emulator.tick()


def curl_job(name: str, *command: str, backoff_limit: int | None = 0) -> dict[str, Any]:
    container = {"name": "smoke", "image": "curlimages/curl:8.10.1", "command": list(command)}
    spec: dict[str, Any] = {
        "template": {"spec": {"restartPolicy": "Never", "containers": [container]}}
    }
    if backoff_limit is not None:
        spec["backoffLimit"] = backoff_limit
    return {"metadata": {"name": name}, "spec": spec}


def serve_api(cluster: Cluster, clock: FakeClock) -> None:
    """A ready Deployment ``api`` (nginx on port 80) behind Service ``api``, in default."""
    cluster.apps.create_namespaced_deployment("default", deployment("api", replicas=2))
    cluster.core.create_namespaced_service("default", SERVICE)
    advance(cluster, clock, 0)
    advance(cluster, clock, 5)


def pods_of(cluster: Cluster, job: str) -> list[Any]:
    found = cluster.core.list_namespaced_pod("default", label_selector=f"job-name={job}").items
    return sorted(found, key=lambda p: p.metadata.creation_timestamp)


def log_of(cluster: Cluster, pod: Any) -> str:
    return str(cluster.core.read_namespaced_pod_log(pod.metadata.name, "default"))


def exit_code(pod: Any) -> int:
    return int(pod.status.container_statuses[0].state.terminated.exit_code)


def last_condition(cluster: Cluster, job: str) -> tuple[str, str] | None:
    conditions = cluster.batch.read_namespaced_job_status(job, "default").status.conditions
    return (conditions[-1].type, conditions[-1].reason) if conditions else None


def run_to_end(cluster: Cluster, clock: FakeClock, body: dict[str, Any]) -> Any:
    """Create the Job, let its one pod run (3 s), and return that pod."""
    cluster.batch.create_namespaced_job("default", body)
    advance(cluster, clock, 0)
    advance(cluster, clock, 3)
    (pod,) = pods_of(cluster, body["metadata"]["name"])
    return pod


def test_a_job_curling_a_service_succeeds_with_the_answer_in_its_log(
    still_cluster: Cluster, fake_clock: FakeClock
) -> None:
    serve_api(still_cluster, fake_clock)
    pod = run_to_end(
        still_cluster, fake_clock, curl_job("smoke", "curl", "-fsS", "http://api/healthz")
    )
    assert pod.status.phase == "Succeeded"
    assert exit_code(pod) == 0
    assert last_condition(still_cluster, "smoke") == ("Complete", "CompletionsReached")
    answer = log_of(still_cluster, pod)
    assert answer.startswith('{"status": "ok", "pod": "api-')
    assert '"path": "/healthz"' in answer
    finished = still_cluster.emulator.truth.job("default", "smoke")
    assert finished is not None
    assert (finished.succeeded, finished.pods) == (True, 1)


@pytest.mark.parametrize(
    ("url", "code", "message"),
    [
        ("http://nosuch/healthz", 6, "curl: (6) Could not resolve host: nosuch\n"),
        (
            "http://api:8080/healthz",
            7,
            "curl: (7) Failed to connect to api port 8080 after 0 ms: Couldn't connect to server\n",
        ),
        ("http://api.other-ns.svc/", 6, "curl: (6) Could not resolve host: api.other-ns.svc\n"),
    ],
)
def test_a_wrong_name_or_port_fails_the_pod_with_curls_code_and_message(
    still_cluster: Cluster, fake_clock: FakeClock, url: str, code: int, message: str
) -> None:
    serve_api(still_cluster, fake_clock)
    pod = run_to_end(still_cluster, fake_clock, curl_job("smoke", "curl", "-fsS", url))
    assert pod.status.phase == "Failed"
    assert exit_code(pod) == code
    assert pod.status.container_statuses[0].state.terminated.reason == "Error"
    assert log_of(still_cluster, pod) == message
    assert last_condition(still_cluster, "smoke") == ("Failed", "BackoffLimitExceeded")


def test_an_unready_backend_refuses_the_connection(
    still_cluster: Cluster, fake_clock: FakeClock
) -> None:
    still_cluster.emulator.faults.never_ready("default", "api")
    serve_api(still_cluster, fake_clock)
    pod = run_to_end(still_cluster, fake_clock, curl_job("smoke", "curl", "-fsS", "http://api/"))
    assert exit_code(pod) == 7


def test_a_smoke_target_answering_500_fails_with_f_and_not_without(
    still_cluster: Cluster, fake_clock: FakeClock
) -> None:
    serve_api(still_cluster, fake_clock)
    still_cluster.emulator.answer_http("default", "api", 500, path="/healthz")
    failing = run_to_end(
        still_cluster, fake_clock, curl_job("strict", "curl", "-fsS", "http://api/healthz")
    )
    assert exit_code(failing) == 22
    assert log_of(still_cluster, failing) == "curl: (22) The requested URL returned error: 500\n"
    lenient = run_to_end(
        still_cluster,
        fake_clock,
        curl_job(
            "lenient", "sh", "-c", "curl -s -o /dev/null -w '%{http_code}\\n' http://api/healthz"
        ),
    )
    assert (exit_code(lenient), log_of(still_cluster, lenient)) == (0, "500\n")
    other_path = run_to_end(
        still_cluster, fake_clock, curl_job("other", "curl", "-fsS", "http://api/ready")
    )
    assert exit_code(other_path) == 0


def test_failed_pods_are_retried_after_the_back_off_until_the_limit(
    still_cluster: Cluster, fake_clock: FakeClock
) -> None:
    body = curl_job("smoke", "curl", "-f", "http://nosuch", backoff_limit=2)
    still_cluster.batch.create_namespaced_job("default", body)
    advance(still_cluster, fake_clock, 0)
    advance(still_cluster, fake_clock, 3)  # the first pod fails
    status = still_cluster.batch.read_namespaced_job_status("smoke", "default").status
    assert (status.failed, status.active, status.conditions) == (1, None, None)

    advance(still_cluster, fake_clock, 9.9)  # back-off: 10 s after the first failure
    assert len(pods_of(still_cluster, "smoke")) == 1
    advance(still_cluster, fake_clock, 0.1)
    assert len(pods_of(still_cluster, "smoke")) == 2
    assert still_cluster.batch.read_namespaced_job_status("smoke", "default").status.active == 1

    advance(still_cluster, fake_clock, 3)  # the second fails
    advance(still_cluster, fake_clock, 19.9)  # then 20 s
    assert len(pods_of(still_cluster, "smoke")) == 2
    advance(still_cluster, fake_clock, 0.1)
    assert len(pods_of(still_cluster, "smoke")) == 3
    advance(still_cluster, fake_clock, 3)  # the third fails: 3 failures > backoffLimit 2

    status = still_cluster.batch.read_namespaced_job_status("smoke", "default").status
    assert status.failed == 3
    assert [(c.type, c.reason) for c in status.conditions] == [
        ("FailureTarget", "BackoffLimitExceeded"),
        ("Failed", "BackoffLimitExceeded"),
    ]
    assert status.conditions[-1].message == "Job has reached the specified backoff limit"
    pods = pods_of(still_cluster, "smoke")
    assert [p.status.phase for p in pods] == ["Failed"] * 3  # failed pods stay, with their logs
    assert {log_of(still_cluster, p) for p in pods} == {
        "  % Total    % Received % Xferd  Average Speed   Time    Time     Time  Current\n"
        "                                 Dload  Upload   Total   Spent    Left  Speed\n"
        "  0     0    0     0    0     0      0      0 --:--:-- --:--:-- --:--:--     0\n"
        "curl: (6) Could not resolve host: nosuch\n"
    }
    advance(still_cluster, fake_clock, 600)
    assert len(pods_of(still_cluster, "smoke")) == 3
    finished = still_cluster.emulator.truth.job("default", "smoke")
    assert finished is not None
    assert (finished.succeeded, finished.pods) == (False, 3)


def test_the_default_backoff_limit_is_six_and_the_back_off_is_capped(
    make_cluster: MakeCluster, fake_clock: FakeClock
) -> None:
    profile = Profile(job_duration_s=1, job_backoff_s=1, job_backoff_max_s=4)
    cluster = make_cluster(clock=fake_clock, profile=profile, auto_tick=False)
    cluster.batch.create_namespaced_job(
        "default", curl_job("smoke", "curl", "http://x", backoff_limit=None)
    )
    advance(cluster, fake_clock, 0)
    created: list[float] = []
    started = fake_clock.monotonic()
    for _ in range(80):
        advance(cluster, fake_clock, 0.5)
        pods = pods_of(cluster, "smoke")
        if len(pods) > len(created) + 1:
            created.append(fake_clock.monotonic() - started)
    assert len(pods_of(cluster, "smoke")) == 7  # 6 retries
    gaps = [round(b - a, 2) for a, b in zip([0.0, *created], created, strict=False)]
    # each gap: the pod's 1 s run, then the back-off: 1, 2, 4, then capped at 4
    assert gaps == [2.0, 3.0, 5.0, 5.0, 5.0, 5.0]
    assert last_condition(cluster, "smoke") == ("Failed", "BackoffLimitExceeded")


def test_a_job_that_succeeds_after_failing_counts_both(
    still_cluster: Cluster, fake_clock: FakeClock
) -> None:
    body = curl_job("smoke", "curl", "-fsS", "http://api/", backoff_limit=3)
    still_cluster.batch.create_namespaced_job("default", body)
    advance(still_cluster, fake_clock, 0)
    advance(still_cluster, fake_clock, 3)  # no such Service yet: the first pod fails
    serve_api(still_cluster, fake_clock)  # ...and 5 s later it answers
    advance(still_cluster, fake_clock, 5)  # the second pod starts after 10 s
    advance(still_cluster, fake_clock, 3)
    status = still_cluster.batch.read_namespaced_job_status("smoke", "default").status
    assert (status.succeeded, status.failed) == (1, 1)
    assert last_condition(still_cluster, "smoke") == ("Complete", "CompletionsReached")
