"""What every AWS adapter shares: the botocore session and its clients, and SDK errors turned
into drill's.

Imported only by the AWS adapters, and botocore only inside functions, so no AWS library
loads until a step needs one. botocore's own retries are off: drill retries transient failures
itself, with backoff bounded by the step's deadline.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from datetime import datetime
from typing import Any

from drill.errors import Conflict, NotFound, PermanentError, TransientError
from providers._status import status_error
from providers.cloud import SANDBOX_AWS_KEY, CloudSettings

# Route53 is global and S3 answers from any region (redirecting to the bucket's own), so these
# work without a configured region; ELBv2 is regional and needs one.
GLOBAL_REGION = "us-east-1"
NO_CREDENTIALS = (
    "no AWS credentials found: set AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, AWS_PROFILE, "
    "or run with an IAM role (IRSA)"
)
NO_REGION = "no AWS region: name it in the plan (region:), or set AWS_REGION or a profile's region"
CONNECT_TIMEOUT_S = 5.0
READ_TIMEOUT_S = 30.0

_DENIED = frozenset({"AccessDenied", "AccessDeniedException", "UnauthorizedOperation"})
_REJECTED = frozenset(
    {
        "InvalidClientTokenId",
        "SignatureDoesNotMatch",
        "ExpiredToken",
        "ExpiredTokenException",
        "InvalidAccessKeyId",
        "UnrecognizedClientException",
        "AuthFailure",
    }
)
_TRANSIENT = frozenset(
    {
        "Throttling",
        "ThrottlingException",
        "RequestLimitExceeded",
        "TooManyRequestsException",
        "PriorRequestNotComplete",
        "SlowDown",
        "RequestTimeout",
        "ServiceUnavailable",
        "InternalError",
        "InternalFailure",
    }
)
_NOT_FOUND = frozenset(
    {
        "NoSuchBucket",
        "NoSuchKey",
        "NotFound",
        "404",
        "NoSuchHostedZone",
        "NoSuchChange",
        "TargetGroupNotFound",
        "ListenerNotFound",
        "LoadBalancerNotFound",
    }
)
# Route53 refuses a whole change batch, applying nothing, when a DELETE does not match the
# live record or a CREATE meets an existing one: someone changed the record meanwhile.
_STALE_CHANGE = ("not found", "do not match", "already exists")


class AwsClients:
    """One botocore session, built on first use, and one client per (service, region).

    The sandbox (``settings.anonymous``) signs with fixed keys against its endpoint; otherwise
    the standard credential chain applies: environment, AWS_PROFILE and the shared files, web
    identity (IRSA), container and instance roles. Credentials are resolved on the first call,
    so a missing one surfaces inside ``translated`` with the action that needed it.

    botocore, not boto3: drill uses clients only, never boto3's resources or transfer helpers.
    """

    def __init__(self, settings: CloudSettings) -> None:
        self.settings = settings
        self._lock = threading.Lock()  # a botocore session must not build clients concurrently
        self._session: Any = None
        self._clients: dict[tuple[str, str], Any] = {}

    def client(self, service: str, region: str | None, what: str) -> Any:
        """The client for ``service`` in ``region`` (else the chain's region, else the global
        one for Route53 and S3; ELBv2 without any region raises PermanentError)."""
        with translated(what), self._lock:
            session = self.session()
            where = region or session.get_config_variable("region")
            where = where or _fallback_region(service, what)
            if (service, where) not in self._clients:
                self._clients[(service, where)] = self._new_client(session, service, where)
            return self._clients[(service, where)]

    def session(self) -> Any:
        """The botocore session every client of these comes from."""
        if self._session is None:
            self._session = _new_session(self.settings)
        return self._session

    def _new_client(self, session: Any, service: str, region: str) -> Any:
        from botocore.config import Config

        config = Config(
            retries={"mode": "standard", "total_max_attempts": 1},
            connect_timeout=CONNECT_TIMEOUT_S,
            read_timeout=READ_TIMEOUT_S,
            user_agent_extra="drill",
        )
        return session.create_client(
            service, region_name=region, endpoint_url=self.settings.aws_endpoint, config=config
        )


def _new_session(settings: CloudSettings) -> Any:
    import botocore.session

    session = botocore.session.Session()
    data_path = session.get_config_variable("data_path")
    session.register_component("data_loader", _shared_loader(data_path))
    # Every client of this session reads the times in its responses with parse_timestamp.
    session.get_component("response_parser_factory").set_parser_defaults(
        timestamp_parser=parse_timestamp
    )
    if settings.anonymous:
        session.set_credentials(SANDBOX_AWS_KEY, SANDBOX_AWS_KEY)
        session.set_config_variable("region", GLOBAL_REGION)
    return session


def _shared_loader(data_path: str | None) -> Any:
    """The process's one botocore loader for ``data_path`` (``AWS_DATA_PATH``).

    A loader parses each service's model and the endpoint data (megabytes of JSON: a tenth of
    a second and more per session) and keeps them. They are the installed botocore's files, the
    same for every session, so every session of this process reads them once, through one.
    """
    from botocore.loaders import create_loader

    with _LOADERS_LOCK:
        if data_path not in _LOADERS:
            _LOADERS[data_path] = create_loader(data_path)
        return _LOADERS[data_path]


_LOADERS: dict[str | None, Any] = {}
_LOADERS_LOCK = threading.Lock()


def parse_timestamp(value: Any) -> datetime:
    """A time in an AWS response, as botocore's own parser reads it, but faster where it can.

    botocore reads every timestamp with dateutil, about 100 µs each: a listing of 1,000 S3
    objects spent a tenth of a second on their LastModified alone, per page. An ISO 8601 time
    that names its offset (S3's and ELBv2's XML, Route53's) means one instant however it is
    read, so the standard library reads it; anything else (epoch numbers, RFC 822 headers,
    times without an offset) goes to botocore's parser, which decides what those mean.
    """
    if isinstance(value, str):
        try:
            parsed = datetime.fromisoformat(value)
        except ValueError:
            parsed = None
        if parsed is not None and parsed.tzinfo is not None:
            return parsed
    # Only here: the common case above runs once per listed object and needs no lookup.
    from botocore.utils import parse_timestamp as botocore_parse_timestamp

    moment: datetime = botocore_parse_timestamp(value)
    return moment


@contextmanager
def translated(what: str) -> Iterator[None]:
    """botocore failures become TransientError / PermanentError naming ``what``.

    ``what`` names the service, action and resource, e.g. "Route53: change api.example.com. A
    in zone example.com."; AWS's AccessDenied messages name the refused action, so they are
    kept whole.
    """
    from botocore import exceptions as aws

    try:
        yield
    except aws.ClientError as exc:
        raise client_error(what, exc.response) from None
    except (aws.NoCredentialsError, aws.PartialCredentialsError):
        raise PermanentError(f"{what}: {NO_CREDENTIALS}") from None
    except aws.NoRegionError:
        raise PermanentError(f"{what}: {NO_REGION}") from None
    except (aws.ConnectTimeoutError, aws.ReadTimeoutError) as exc:
        raise TransientError(f"{what}: {_timeout_reason(exc)}") from None
    except aws.SSLError:
        raise TransientError(f"{what}: TLS handshake failed (check the CA and endpoint)") from None
    except (aws.EndpointConnectionError, aws.ConnectionClosedError, aws.HTTPClientError):
        raise TransientError(f"{what}: could not connect to the AWS endpoint") from None
    except aws.CredentialRetrievalError as exc:
        raise PermanentError(f"{what}: credentials could not be loaded: {exc}") from None
    except aws.BotoCoreError as exc:
        # Profile not found, bad parameters, SSO token expired...: a retry cannot help.
        raise PermanentError(f"{what}: {exc}") from None


def client_error(what: str, response: Mapping[str, Any]) -> PermanentError | TransientError:
    """The drill error for an AWS error response (``ClientError.response``).

    AWS's error codes decide first (a throttle is often a 400, a missing target group too);
    the HTTP status decides the rest, as for every other adapter."""
    error = response.get("Error") or {}
    code = str(error.get("Code") or "")
    message = str(error.get("Message") or error.get("message") or "")
    metadata = response.get("ResponseMetadata") or {}
    status = int(metadata.get("HTTPStatusCode") or 0)
    described = _code_and_message(code or f"HTTP {status}", message)
    if code in _DENIED or code == "403":  # "403": a HEAD refusal has no body, only its status
        return PermanentError(f"{what}: permission denied: {message or 'HTTP 403'}")
    if code in _REJECTED:
        return PermanentError(f"{what}: credentials were rejected ({code}): {message}")
    if code in _TRANSIENT:
        return TransientError(f"{what}: {described}")
    if code in _NOT_FOUND:
        return NotFound(f"{what}: {message or 'not found'}")
    if code == "InvalidChangeBatch" and any(s in message for s in _STALE_CHANGE):
        return Conflict(f"{what}: {message}; nothing applied")
    return status_error(what, status, described, metadata.get("HTTPHeaders"))


def _code_and_message(code: str, message: str) -> str:
    return f"{code}: {message}" if message else code


def _fallback_region(service: str, what: str) -> str:
    if service in ("route53", "s3"):
        return GLOBAL_REGION
    raise PermanentError(f"{what}: {NO_REGION}")


def _timeout_reason(exc: BaseException) -> str:
    from botocore import exceptions as aws

    if isinstance(exc, aws.ConnectTimeoutError):
        return "timed out connecting to the AWS endpoint"
    return "timed out waiting for AWS to answer"
