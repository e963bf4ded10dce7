"""The real gcloud against the Cloud DNS emulator: `gcloud dns record-sets ...`, as an operator
runs it to look at the sandbox or change a record underneath a drill.

The clock is a FakeClock: a change made through gcloud is seen pending, then done, by moving
time. Each gcloud call takes most of a second, so each test makes only the calls it is about.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from drill.clock import FakeClock
from drill.commands.sandbox import cloud_clients
from drill.sandbox.gcp import CloudDnsEmulator, DnsRecord
from providers.cloud import CloudSettings
from tests.sandbox.gcp.gcloud import Gcloud, gcloud_for, needs_gcloud

pytestmark = [needs_gcloud, pytest.mark.slow]  # a gcloud process per command: about a second each

PROJECT = "example-prod"
ZONE = "example-com"
NAME = "drill-api.example.com."
CHANGE_DELAY_S = 0.5
PROPAGATION_S = 2.0
API = DnsRecord(NAME, "A", 300, ("10.0.0.1",))
NEW = DnsRecord("new.example.com.", "A", 60, ("10.1.0.1",))


@pytest.fixture
def emulator(clock: FakeClock) -> Iterator[CloudDnsEmulator]:
    emulator = CloudDnsEmulator(clock, CHANGE_DELAY_S, PROPAGATION_S)
    emulator.add_zone(PROJECT, ZONE, "example.com.")
    emulator.set_record(PROJECT, ZONE, NAME, "A", 300, ["10.0.0.1"])
    with emulator:
        yield emulator
    assert emulator.errors == []


@pytest.fixture
def gcloud(tmp_path: Path, emulator: CloudDnsEmulator) -> Gcloud:
    return gcloud_for(tmp_path, PROJECT, dns=emulator.url)


def rrset(*args: str) -> tuple[str, ...]:
    """``gcloud dns record-sets ARGS... --zone ZONE``."""
    return ("dns", "record-sets", *args, "--zone", ZONE)


def test_describe_shows_one_record_set(gcloud: Gcloud) -> None:
    described = gcloud.json(*rrset("describe", NAME, "--type", "A"))
    assert described == API.resource()


def test_describe_of_a_missing_record_set_is_gcloud_not_found(gcloud: Gcloud) -> None:
    done = gcloud(*rrset("describe", "nope.example.com.", "--type", "A"))
    assert done.returncode == 1
    assert "NOT_FOUND: The 'parameters.name' resource named 'nope.example.com. (A)'" in (
        done.stderr
    )


def test_an_update_is_a_change_done_after_its_delay(
    gcloud: Gcloud, emulator: CloudDnsEmulator, clock: FakeClock
) -> None:
    updated = gcloud.json(*rrset("update", NAME, "--type", "A", "--rrdatas", "10.9.9.9"))
    new = DnsRecord(NAME, "A", 300, ("10.9.9.9",))  # no --ttl: the record's own is kept
    assert updated == new.resource()
    changes = gcloud.json("dns", "record-sets", "changes", "list", "--zone", ZONE)
    assert {c["id"]: c["status"] for c in changes} == {"0": "done", "1": "pending"}
    assert emulator.truth[0].done_at is None
    clock.advance(CHANGE_DELAY_S)
    (truth,) = emulator.truth
    assert (truth.deletions, truth.additions, truth.done_at) == ((API,), (new,), clock.now())
    assert emulator.record(PROJECT, ZONE, NAME, "A") == new
    assert emulator.served(NAME, "A")[0] == API  # the nameservers follow PROPAGATION_S later


def test_a_created_record_set_is_listed(gcloud: Gcloud, emulator: CloudDnsEmulator) -> None:
    create = rrset("create", NEW.name, "--type", "A", "--rrdatas", "10.1.0.1", "--ttl", "60")
    assert gcloud.json(*create) == NEW.resource()
    listed = gcloud.json(*rrset("list"))
    assert [(r["name"], r["type"]) for r in listed] == [
        (NAME, "A"),
        ("example.com.", "NS"),
        ("example.com.", "SOA"),
        (NEW.name, "A"),
    ]
    assert emulator.truth[0].additions == (NEW,)


def test_delete_removes_a_record_set_but_not_the_apex_ns(
    gcloud: Gcloud, emulator: CloudDnsEmulator
) -> None:
    deleted = gcloud(*rrset("delete", NAME, "--type", "A"))
    assert deleted.returncode == 0, deleted.stderr
    assert emulator.record(PROJECT, ZONE, NAME, "A") is None
    assert emulator.truth[0].deletions == (API,)
    refused = gcloud(*rrset("delete", "example.com.", "--type", "NS"))
    assert refused.returncode == 1
    assert "exactly one resource record set of type 'NS' at the apex" in refused.stderr
    assert emulator.record(PROJECT, ZONE, "example.com.", "NS") is not None


def test_the_gcloud_line_sandbox_status_prints_reaches_the_emulator(
    emulator: CloudDnsEmulator, tmp_path: Path
) -> None:
    """`drill sandbox status` tells the operator how their own gcloud reaches the sandbox: the
    settings it prints are the ones gcloud reads."""
    (line,) = [
        found
        for found in cloud_clients(CloudSettings(dns_endpoint=emulator.url))
        if found.startswith("gcloud: ")
    ]
    words = line.removeprefix("gcloud: env ").split()
    settings = dict(word.split("=", 1) for word in words if "=" in word)
    assert words[len(settings) :] == ["gcloud", "...", "--project", "PROJECT"]
    config = tmp_path / "gcloud-config"
    listed = subprocess.run(
        ["gcloud", "dns", "managed-zones", "list", "--project", PROJECT, "--format=value(name)"],
        env={**os.environ, **settings, "CLOUDSDK_CONFIG": str(config)},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert listed.returncode == 0, listed.stderr
    assert listed.stdout.split() == [ZONE]
