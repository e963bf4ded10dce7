"""How the AWS adapters sign in and what their errors say: the credential chain, regions,
unreachable endpoints, and AWS error responses turned into drill's errors."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from drill.clock import SystemClock
from drill.errors import Conflict, NotFound, PermanentError, TransientError
from drill.sandbox.aws import AwsSandbox
from providers._aws import client_error
from providers.aws import Elbv2Backends, Route53Dns, S3ObjectStore
from providers.cloud import CloudSettings
from providers.protocols import BackendRef

AWS_VARIABLES = (
    "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN",
    "AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_REGION", "AWS_DEFAULT_REGION",
    "AWS_WEB_IDENTITY_TOKEN_FILE", "AWS_ROLE_ARN", "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
    "AWS_CONTAINER_CREDENTIALS_FULL_URI", "AWS_CONTAINER_AUTHORIZATION_TOKEN",
)  # fmt: skip


@pytest.fixture(scope="module")
def aws() -> Iterator[AwsSandbox]:
    with AwsSandbox(SystemClock()) as sandbox:
        sandbox.create_bucket("prod-backups")
        sandbox.put_object("prod-backups", "db/dump.sql.gz", 100, 60, {})
        yield sandbox


@pytest.fixture
def bare_machine(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> pytest.MonkeyPatch:
    """No AWS credentials anywhere: no variables, empty shared files, no instance metadata."""
    for name in AWS_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    for name in ("AWS_CONFIG_FILE", "AWS_SHARED_CREDENTIALS_FILE"):
        empty = tmp_path / name.lower()
        empty.write_text("")
        monkeypatch.setenv(name, str(empty))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    return monkeypatch


def signed_in(aws: AwsSandbox) -> CloudSettings:
    """The sandbox's endpoint, but credentials from the chain, as in real use."""
    return CloudSettings(aws_endpoint=aws.endpoint)


def test_no_credentials_names_every_source(
    bare_machine: pytest.MonkeyPatch, aws: AwsSandbox
) -> None:
    expected = r"no AWS credentials found: set AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, AWS_PROFILE"
    with pytest.raises(PermanentError, match=expected) as raised:
        list(S3ObjectStore(signed_in(aws), None).list_objects("prod-backups", "db/"))
    assert "IAM role (IRSA)" in str(raised.value)
    assert str(raised.value).startswith("S3: list s3://prod-backups/db/: ")
    with pytest.raises(PermanentError, match="no AWS credentials found"):
        Route53Dns(signed_in(aws)).get_record("Z123", "a.example.com.", "A")


def test_credentials_from_the_environment_are_used(
    bare_machine: pytest.MonkeyPatch, aws: AwsSandbox
) -> None:
    bare_machine.setenv("AWS_ACCESS_KEY_ID", "AKIAEXAMPLEEXAMPLE00")
    bare_machine.setenv("AWS_SECRET_ACCESS_KEY", "not-a-real-secret")
    found = list(S3ObjectStore(signed_in(aws), None).list_objects("prod-backups", "db/"))
    assert [o.name for o in found] == ["db/dump.sql.gz"]


def test_a_missing_profile_is_named(bare_machine: pytest.MonkeyPatch, aws: AwsSandbox) -> None:
    bare_machine.setenv("AWS_PROFILE", "drill-dr")
    with pytest.raises(PermanentError, match="drill-dr"):
        list(S3ObjectStore(signed_in(aws), None).list_objects("prod-backups", "db/"))


def test_elbv2_without_any_region_says_where_to_set_one(
    bare_machine: pytest.MonkeyPatch, aws: AwsSandbox
) -> None:
    bare_machine.setenv("AWS_ACCESS_KEY_ID", "AKIAEXAMPLEEXAMPLE00")
    bare_machine.setenv("AWS_SECRET_ACCESS_KEY", "not-a-real-secret")
    ref = BackendRef("aws", "target_group", "api-targets")
    with pytest.raises(PermanentError, match="no AWS region: name it in the plan"):
        Elbv2Backends(signed_in(aws)).get_backends(ref)


def test_an_unreachable_endpoint_is_transient() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed_port = probe.getsockname()[1]
    settings = CloudSettings(aws_endpoint=f"http://127.0.0.1:{closed_port}", anonymous=True)
    with pytest.raises(TransientError, match="could not connect to the AWS endpoint"):
        list(S3ObjectStore(settings, None).list_objects("prod-backups", ""))


def response(code: str, message: str, status: int) -> dict[str, Any]:
    """An AWS error response as botocore hands it over in ClientError.response."""
    return {
        "Error": {"Code": code, "Message": message},
        "ResponseMetadata": {"HTTPStatusCode": status},
    }


DENIED = (
    "User: arn:aws:sts::123456789012:assumed-role/drill/run is not authorized to perform: "
    "route53:ChangeResourceRecordSets on resource: arn:aws:route53:::hostedzone/Z123"
)


@pytest.mark.parametrize(
    ("code", "message", "status", "kind", "words"),
    [
        ("AccessDenied", DENIED, 403, PermanentError, f"permission denied: {DENIED}"),
        ("AccessDeniedException", "no", 400, PermanentError, "permission denied: no"),
        ("UnauthorizedOperation", "Not authorized", 403, PermanentError, "permission denied"),
        ("403", "Forbidden", 403, PermanentError, "permission denied: Forbidden"),
        ("InvalidClientTokenId", "The security token is invalid", 403, PermanentError,
         "credentials were rejected (InvalidClientTokenId)"),
        ("SignatureDoesNotMatch", "bad", 403, PermanentError, "credentials were rejected"),
        ("ExpiredToken", "The security token has expired", 400, PermanentError,
         "credentials were rejected (ExpiredToken): The security token has expired"),
        ("Throttling", "Rate exceeded", 400, TransientError, "Throttling: Rate exceeded"),
        ("RequestLimitExceeded", "slow down", 503, TransientError, "RequestLimitExceeded"),
        ("PriorRequestNotComplete", "busy", 400, TransientError, "PriorRequestNotComplete"),
        ("InternalError", "", 500, TransientError, "InternalError"),
        ("", "", 502, TransientError, "HTTP 502"),
        ("NoSuchBucket", "The specified bucket does not exist", 404, NotFound, "does not exist"),
        ("NoSuchHostedZone", "No hosted zone found", 404, NotFound, "No hosted zone found"),
        ("TargetGroupNotFound", "One or more target groups not found", 400, NotFound, "not found"),
        ("ListenerNotFound", "gone", 400, NotFound, "gone"),
        ("LoadBalancerNotFound", "gone", 400, NotFound, "gone"),
        ("InvalidChangeBatch",
         "[Tried to delete resource record set [name='a.example.com.', type='A'] but the values "
         "provided do not match the current values]", 400, Conflict, "nothing applied"),
        ("InvalidChangeBatch", "CNAME is not permitted at apex", 400, PermanentError,
         "InvalidChangeBatch: CNAME is not permitted at apex"),
        ("ValidationError", "Weight must be between 0 and 999", 400, PermanentError,
         "ValidationError: Weight must be between 0 and 999"),
    ],
)  # fmt: skip
def test_aws_error_responses_become_drills_errors(
    code: str, message: str, status: int, kind: type[Exception], words: str
) -> None:
    error = client_error(
        "Route53: change a.example.com. A in zone Z123", response(code, message, status)
    )
    assert type(error) is kind
    assert str(error).startswith("Route53: change a.example.com. A in zone Z123: ")
    assert words in str(error)
