"""A CronJob's time zone: ``spec.timeZone`` names an IANA zone (validateTimeZone, Go's
time.LoadLocation); a TZ in the schedule is refused on create and kept only as it was."""

from __future__ import annotations

import json
from typing import Any

import pytest
from kubernetes.client.exceptions import ApiException

from tests.sandbox.helpers import Cluster


def cronjob(name: str = "nightly", schedule: str = "0 3 * * *", **spec: Any) -> dict[str, Any]:
    container = {"name": "run", "image": "busybox:1.36", "command": ["true"]}
    pod = {"restartPolicy": "Never", "containers": [container]}
    return {
        "metadata": {"name": name},
        "spec": {
            "schedule": schedule,
            "jobTemplate": {"spec": {"template": {"spec": pod}}},
            **spec,
        },
    }


def refusal(cluster: Cluster, body: dict[str, Any]) -> str:
    with pytest.raises(ApiException) as refused:
        cluster.batch.create_namespaced_cron_job("default", body)
    assert refused.value.status == 422
    message: str = json.loads(refused.value.body)["message"]
    return message.removeprefix('CronJob.batch "nightly" is invalid: ')


@pytest.mark.parametrize(
    ("zone", "problem"),
    [
        ("Europe/Nowhere", 'Invalid value: "Europe/Nowhere": unknown time zone Europe/Nowhere'),
        (
            "america/new_york",
            'Invalid value: "america/new_york": unknown time zone america/new_york',
        ),
        ("../etc/passwd", 'Invalid value: "../etc/passwd": unknown time zone ../etc/passwd'),
        (" Europe/Paris", 'Invalid value: " Europe/Paris": unknown time zone  Europe/Paris'),
        ("", 'Invalid value: "": timeZone must be nil or non-empty string'),
        (
            "Local",
            'Invalid value: "Local": timeZone must be an explicit time zone as defined in '
            "https://www.iana.org/time-zones",
        ),
    ],
)
def test_a_time_zone_that_is_no_iana_zone_is_invalid(
    cluster: Cluster, zone: str, problem: str
) -> None:
    assert refusal(cluster, cronjob(timeZone=zone)) == f"spec.timeZone: {problem}"


@pytest.mark.parametrize("zone", ["Europe/Paris", "America/Argentina/Buenos_Aires", "UTC"])
def test_an_iana_time_zone_is_kept(cluster: Cluster, zone: str) -> None:
    made = cluster.batch.create_namespaced_cron_job("default", cronjob(timeZone=zone))
    assert made.spec.time_zone == zone


@pytest.mark.parametrize("schedule", ["TZ=UTC 0 3 * * *", "CRON_TZ=Europe/Paris 0 3 * * *"])
def test_a_time_zone_in_the_schedule_is_refused(cluster: Cluster, schedule: str) -> None:
    assert refusal(cluster, cronjob(schedule=schedule)) == (
        f"spec.schedule: Invalid value: {json.dumps(schedule)}: "
        "cannot use TZ or CRON_TZ in schedule, use timeZone field instead"
    )
