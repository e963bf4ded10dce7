"""What every AWS adapter shares: the boto3 session and its clients, and SDK errors turned
into drill's.

Imported only by the AWS adapters, and boto3/botocore only inside functions, so no AWS library
loads until a step needs one. botocore's own retries are off: drill retries transient failures
itself, with backoff bounded by the step's deadline.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
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
    """One boto3 session, built on first use, and one client per (service, region).

    The sandbox (``settings.anonymous``) signs with fixed keys against its endpoint; otherwise
    the standard credential chain applies: environment, AWS_PROFILE and the shared files, web
    identity (IRSA), container and instance roles. Credentials are resolved on the first call,
    so a missing one surfaces inside ``translated`` with the action that needed it.
    """

    def __init__(self, settings: CloudSettings) -> None:
        self.settings = settings
        self._lock = threading.Lock()  # a boto3 session must not build clients concurrently
        self._session: Any = None
        self._clients: dict[tuple[str, str], Any] = {}

    def client(self, service: str, region: str | None, what: str) -> Any:
        """The client for ``service`` in ``region`` (else the chain's region, else the global
        one for Route53 and S3; ELBv2 without any region raises PermanentError)."""
        with translated(what), self._lock:
            session = self._session_once()
            where = region or session.region_name or _fallback_region(service, what)
            if (service, where) not in self._clients:
                self._clients[(service, where)] = self._new_client(session, service, where)
            return self._clients[(service, where)]

    def _session_once(self) -> Any:
        if self._session is None:
            import boto3

            if self.settings.anonymous:
                self._session = boto3.Session(
                    aws_access_key_id=SANDBOX_AWS_KEY,
                    aws_secret_access_key=SANDBOX_AWS_KEY,
                    region_name=GLOBAL_REGION,
                )
            else:
                self._session = boto3.Session()
        return self._session

    def _new_client(self, session: Any, service: str, region: str) -> Any:
        from botocore.config import Config

        config = Config(
            retries={"mode": "standard", "total_max_attempts": 1},
            connect_timeout=CONNECT_TIMEOUT_S,
            read_timeout=READ_TIMEOUT_S,
            user_agent_extra="drill",
        )
        return session.client(
            service, region_name=region, endpoint_url=self.settings.aws_endpoint, config=config
        )


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
