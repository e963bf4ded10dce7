"""The real gcloud CLI against the Compute emulator: what an operator runs to look at it.

gcloud's list commands use Compute's aggregatedList (and, for instance groups, a batch of
instanceGroupManagers lists); describe and get-health the plain get and getHealth.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from drill.clock import FakeClock
from drill.sandbox.gcp import ComputeEmulator
from tests.sandbox.gcp.gcloud import Gcloud, gcloud_for, needs_gcloud

pytestmark = [needs_gcloud, pytest.mark.slow]  # a gcloud process per command: about a second each

PROJECT = "example-prod"
REGION = "us-east1"
ROOT = "https://www.googleapis.com/compute/v1/"
PRIMARY = f"projects/{PROJECT}/zones/us-central1-a/instanceGroups/api-primary"
DR = f"projects/{PROJECT}/zones/us-east1-b/instanceGroups/api-dr"
PRIMARY_COLUMN = ["us-central1-a/instanceGroups/api-primary"]  # as gcloud's table prints it


@pytest.fixture
def compute() -> Iterator[ComputeEmulator]:
    emulator = ComputeEmulator(FakeClock(), operation_s=0.5, healthy_after_s=0.3)
    emulator.add_instance_group(DR, instances=3)
    emulator.add_backend_service(PROJECT, "web", backends=[{"group": PRIMARY}])
    emulator.add_backend_service(PROJECT, "api", region=REGION, backends=[{"group": DR}])
    with emulator:
        yield emulator
    assert emulator.errors == []


@pytest.fixture
def gcloud(tmp_path: Path, compute: ComputeEmulator) -> Gcloud:
    return gcloud_for(tmp_path, PROJECT, compute=compute.url)


def test_backend_services_list_shows_every_service_with_its_backends(gcloud: Gcloud) -> None:
    listed = gcloud.json("compute", "backend-services", "list")
    backends = {s["name"]: [b["group"] for b in s["backends"]] for s in listed}
    assert backends == {"web": [ROOT + PRIMARY], "api": [ROOT + DR]}
    regional = gcloud.json("compute", "backend-services", "list", "--regions", REGION)
    assert [s["name"] for s in regional] == ["api"]
    done = gcloud("compute", "backend-services", "list", "--global")
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""  # no "Some requests did not succeed"
    assert done.stdout.split() == ["NAME", "BACKENDS", "PROTOCOL", "web", *PRIMARY_COLUMN, "HTTP"]


def test_instance_groups_list_and_list_instances(gcloud: Gcloud) -> None:
    listed = gcloud.json("compute", "instance-groups", "list")
    assert {(g["name"], g["size"], g["isManaged"]) for g in listed} == {
        ("api-primary", 2, "No"),
        ("api-dr", 3, "No"),
    }
    instances = gcloud.json(
        "compute", "instance-groups", "list-instances", "api-dr", "--zone", "us-east1-b"
    )
    assert [i["instance"].rsplit("/", 1)[1] for i in instances] == [
        "api-dr-0",
        "api-dr-1",
        "api-dr-2",
    ]


def test_operations_list_shows_a_backend_switch(gcloud: Gcloud, compute: ComputeEmulator) -> None:
    assert gcloud.json("compute", "operations", "list") == []
    answer = requests.patch(
        f"{compute.url}/compute/v1/projects/{PROJECT}/global/backendServices/web",
        json={
            "fingerprint": compute.fingerprint(PROJECT, "web"),
            "backends": [{"group": ROOT + DR}],
        },
        timeout=5,
    )
    assert answer.status_code == 200, answer.text
    [operation] = gcloud.json("compute", "operations", "list")
    assert operation["name"] == answer.json()["name"]
    assert operation["targetLink"] == f"{ROOT}projects/{PROJECT}/global/backendServices/web"
    assert operation["status"] == "RUNNING"
    described = gcloud.json("compute", "operations", "describe", operation["name"], "--global")
    assert described["selfLink"] == operation["selfLink"]


def test_describe_and_get_health_work_beside_instance_group_describe(gcloud: Gcloud) -> None:
    group = gcloud.json("compute", "instance-groups", "describe", "api-dr", "--zone", "us-east1-b")
    assert (group["selfLink"], group["size"]) == (ROOT + DR, 3)
    service = gcloud.json("compute", "backend-services", "describe", "web", "--global")
    assert [b["group"] for b in service["backends"]] == [ROOT + PRIMARY]
    [health] = gcloud.json("compute", "backend-services", "get-health", "web", "--global")
    states = [s["healthState"] for s in health["status"]["healthStatus"]]
    assert states == ["HEALTHY", "HEALTHY"]


def test_add_backend_then_remove_backend_are_seen_by_describe(
    gcloud: Gcloud, compute: ComputeEmulator
) -> None:
    # Both read the service and send it back whole with update (PUT), then wait for it.
    added = gcloud(
        "compute", "backend-services", "add-backend", "web", "--global",
        "--instance-group", "api-dr", "--instance-group-zone", "us-east1-b",
    )  # fmt: skip
    assert added.returncode == 0, added.stderr
    service = gcloud.json("compute", "backend-services", "describe", "web", "--global")
    assert [b["group"] for b in service["backends"]] == [ROOT + PRIMARY, ROOT + DR]
    assert [b["group"] for b in compute.backends(PROJECT, "web")] == [PRIMARY, DR]

    removed = gcloud(
        "compute", "backend-services", "remove-backend", "web", "--global",
        "--instance-group", "api-primary", "--instance-group-zone", "us-central1-a",
    )  # fmt: skip
    assert removed.returncode == 0, removed.stderr
    service = gcloud.json("compute", "backend-services", "describe", "web", "--global")
    assert [b["group"] for b in service["backends"]] == [ROOT + DR]
    assert service["healthChecks"] == [f"{ROOT}projects/{PROJECT}/global/healthChecks/web"]
    assert [b["group"] for b in compute.backends(PROJECT, "web")] == [DR]
    assert compute.truth.served("PUT", "/global/backendServices/web") == 2


def test_gcloud_updates_whatever_characters_the_fingerprint_holds(
    gcloud: Gcloud, compute: ComputeEmulator
) -> None:
    # gcloud decodes the fingerprint it reads and sends it back URL-safe: a '+' or '/' in it
    # comes back as '-' or '_', and must still match.
    writes = 0
    while not {"+", "/"} & set(compute.fingerprint(PROJECT, "web")):
        answer = requests.patch(
            f"{compute.url}/compute/v1/projects/{PROJECT}/global/backendServices/web",
            json={"fingerprint": compute.fingerprint(PROJECT, "web")},
            timeout=5,
        )
        assert answer.status_code == 200, answer.text
        writes += 1
        assert writes < 64, "no fingerprint with '+' or '/' in 64 writes"
    added = gcloud(
        "compute", "backend-services", "add-backend", "web", "--global",
        "--instance-group", "api-dr", "--instance-group-zone", "us-east1-b",
    )  # fmt: skip
    assert added.returncode == 0, added.stderr
    assert [b["group"] for b in compute.backends(PROJECT, "web")] == [PRIMARY, DR]


def test_health_checks_list_and_describe_show_each_service_s_check(gcloud: Gcloud) -> None:
    listed = gcloud.json("compute", "health-checks", "list")
    assert {(c["name"], c["type"]) for c in listed} == {("web", "HTTP"), ("api", "HTTP")}
    done = gcloud("compute", "health-checks", "list", "--global")
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""  # no "Some requests did not succeed"
    described = gcloud.json("compute", "health-checks", "describe", "web", "--global")
    service = gcloud.json("compute", "backend-services", "describe", "web", "--global")
    assert service["healthChecks"] == [described["selfLink"]]
    assert described["httpHealthCheck"]["portSpecification"] == "USE_SERVING_PORT"
    regional = gcloud.json("compute", "health-checks", "describe", "api", "--region", REGION)
    assert regional["region"].endswith(f"/regions/{REGION}")
    missing = gcloud("compute", "health-checks", "describe", "nope", "--global")
    assert missing.returncode != 0
    assert f"projects/{PROJECT}/global/healthChecks/nope' was not found" in missing.stderr
