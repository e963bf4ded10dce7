"""HTTP from where drill runs, over urllib3 (already a dependency of every cloud SDK we use)."""

from __future__ import annotations

from collections.abc import Mapping

import urllib3

from drill.errors import PermanentError, TransientError
from drill.redact import redact_url
from providers.protocols import HttpResponse

# Bodies are only ever searched for a substring or a JSON field; a health endpoint that
# streams megabytes should not make drill hold them all.
_MAX_BODY_BYTES = 1 << 20


class Urllib3Http:
    def __init__(self) -> None:
        self._pool = urllib3.PoolManager(retries=False)

    def request(
        self,
        method: str,
        url: str,
        *,
        headers: Mapping[str, str],
        body: bytes | None,
        timeout_s: float,
    ) -> HttpResponse:
        try:
            response = self._pool.request(
                method,
                url,
                headers=dict(headers),
                body=body,
                timeout=urllib3.Timeout(total=max(timeout_s, 0.001)),
                redirect=False,
                preload_content=False,
            )
        except urllib3.exceptions.LocationValueError as exc:
            raise PermanentError(f"{redact_url(url)}: {exc}") from None
        except urllib3.exceptions.HTTPError as exc:
            raise TransientError(f"{method} {redact_url(url)}: {_reason(exc)}") from None
        try:
            payload = response.read(_MAX_BODY_BYTES)
        except urllib3.exceptions.HTTPError as exc:
            raise TransientError(f"{method} {redact_url(url)}: {_reason(exc)}") from None
        finally:
            response.release_conn()
        return HttpResponse(status=response.status, body=payload, headers=dict(response.headers))


def _reason(exc: urllib3.exceptions.HTTPError) -> str:
    """The root cause in a few words, without urllib3's repr of the pool."""
    if isinstance(exc, urllib3.exceptions.MaxRetryError) and exc.reason is not None:
        exc = exc.reason  # type: ignore[assignment]
    # Most specific first: a NameResolutionError is a NewConnectionError, which urllib3 also
    # makes a kind of ConnectTimeoutError for old callers.
    if isinstance(exc, urllib3.exceptions.NameResolutionError):
        return "host name did not resolve"
    if isinstance(exc, urllib3.exceptions.NewConnectionError):
        return "connection refused or host unreachable"
    if isinstance(exc, urllib3.exceptions.TimeoutError):
        return "timed out"
    if isinstance(exc, urllib3.exceptions.SSLError):
        return "TLS handshake failed"
    return type(exc).__name__
