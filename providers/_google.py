"""What every Google Cloud adapter shares: credentials, and SDK errors turned into drill's.

Imported only by the Google adapters, so no Google library loads until a step needs one.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any

from drill.errors import PermanentError, TransientError
from providers._net import network_reason
from providers._status import status_error
from providers.cloud import CloudSettings

CLOUD_PLATFORM = "https://www.googleapis.com/auth/cloud-platform"
NO_CREDENTIALS = (
    "no Google Cloud credentials found: set GOOGLE_APPLICATION_CREDENTIALS to a "
    "service-account key file, run `gcloud auth application-default login`, or run where a "
    "service account is attached (GKE Workload Identity)"
)


def credentials(settings: CloudSettings, scopes: Sequence[str] = (CLOUD_PLATFORM,)) -> Any:
    """Anonymous for the sandbox, the named key file, else Application Default Credentials."""
    import google.auth
    from google.auth.credentials import AnonymousCredentials
    from google.auth.exceptions import DefaultCredentialsError

    if settings.anonymous:
        return AnonymousCredentials()
    if settings.gcp_credentials_file:
        return _key_file(settings.gcp_credentials_file, scopes)
    try:
        found, _project = google.auth.default(scopes=list(scopes))
    except DefaultCredentialsError as exc:
        raise PermanentError(f"{NO_CREDENTIALS} ({_first_line(exc)})") from None
    return found


def _key_file(path: str, scopes: Sequence[str]) -> Any:
    from google.auth.exceptions import GoogleAuthError
    from google.oauth2 import service_account

    try:
        return service_account.Credentials.from_service_account_file(path, scopes=list(scopes))
    except (OSError, ValueError, GoogleAuthError) as exc:
        raise PermanentError(f"service-account key file {path}: {_first_line(exc)}") from None


@contextmanager
def translated(what: str) -> Iterator[None]:
    """Google SDK and transport failures become TransientError / PermanentError naming ``what``.

    ``what`` names the action and resource, e.g. "Cloud DNS: change api.example.com. in zone
    prod"; 403 messages from Google name the refused permission, so they are kept whole.
    """
    from google.api_core import exceptions as api
    from google.auth import exceptions as auth

    try:
        yield
    except api.GoogleAPICallError as exc:
        raise status_error(what, exc.code or 0, exc.message, _headers(exc)) from None
    except auth.DefaultCredentialsError as exc:
        raise PermanentError(f"{what}: {NO_CREDENTIALS} ({_first_line(exc)})") from None
    except auth.RefreshError as exc:
        raise PermanentError(
            f"{what}: credentials could not be refreshed: {_first_line(exc)}"
        ) from None
    except auth.TransportError as exc:
        raise TransientError(
            f"{what}: could not reach the token server: {_first_line(exc)}"
        ) from None
    except _network_errors() as exc:
        raise TransientError(f"{what}: {_network_reason(exc)}") from None


def error_message(response: Any) -> str:
    """The message of Google's error document (``{"error": {"message": ...}}``), else ""."""
    try:
        document = response.json()
    except ValueError:
        return ""
    error = document.get("error") if isinstance(document, dict) else None
    return str(error.get("message") or "") if isinstance(error, dict) else ""


def _headers(exc: Any) -> Mapping[str, str] | None:
    """The answer's headers, when the SDK kept the HTTP response (Retry-After)."""
    headers = getattr(getattr(exc, "response", None), "headers", None)
    return headers if isinstance(headers, Mapping) else None


def _network_errors() -> tuple[type[BaseException], ...]:
    import requests

    return (requests.ConnectionError, requests.Timeout)


def _network_reason(exc: BaseException) -> str:
    """requests wraps the urllib3 failure; the kube and HTTP adapters already word those."""
    import requests
    import urllib3

    if isinstance(exc, requests.Timeout):
        return "timed out"
    cause = exc.args[0] if exc.args else None
    if isinstance(cause, urllib3.exceptions.HTTPError):
        return network_reason(cause)
    return "connection failed"


def _first_line(exc: BaseException) -> str:
    return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
