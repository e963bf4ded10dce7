"""LiveProviders: which adapters a run shares."""

from __future__ import annotations

from drill.clock import FakeClock
from providers.aws import Elbv2Backends, Route53Dns, S3ObjectStore
from providers.cloud import CloudSettings
from providers.live import LiveProviders


def test_the_aws_adapters_of_a_run_share_one_session() -> None:
    # One botocore session for the run: credentials resolved once, each client built once.
    # Nothing is sent: sessions and clients are built on the first call.
    providers = LiveProviders(FakeClock(), cloud=CloudSettings())
    east = providers.object_store("aws", None, "us-east-1")
    west = providers.object_store("aws", None, "us-west-2")
    dns = providers.dns("aws", None)
    backends = providers.backends("aws")
    assert isinstance(east, S3ObjectStore)
    assert isinstance(west, S3ObjectStore)
    assert isinstance(dns, Route53Dns)
    assert isinstance(backends, Elbv2Backends)
    shared = {id(adapter._clients) for adapter in (east, west, dns, backends)}
    assert len(shared) == 1
    assert providers.object_store("aws", None, "us-east-1") is east
