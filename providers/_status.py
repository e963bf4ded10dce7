"""HTTP statuses turned into drill's errors: one table for every adapter.

Kubernetes, the Google APIs and AWS all answer over HTTP; whatever else an adapter knows about
its SDK's errors (AWS error codes, Google's token failures), the status decides the rest here,
so a 412 or a 408 means the same thing whichever cloud sent it:

- 408, 429, 500, 502, 503, 504 and other 5xx: transient, worth retrying. One that says how
  long to wait (``Retry-After`` in seconds, as 429 and 503 answers do) carries it as the
  error's ``retry_after_s``: waits resume after that long.
- 501 and 505: permanent, the server will never do this request.
- 401: credentials rejected; 403: permission denied, with the cloud's message, which names the
  refused permission.
- 404: ``NotFound``. 409 and 412 (a precondition such as a fingerprint or resourceVersion no
  longer holds): ``Conflict``, someone changed the object since it was read.
- Any other 4xx: permanent.
- 0 (the SDK saw no status: a dropped stream, a cut connection): transient.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

from drill.errors import Conflict, NotFound, PermanentError, TransientError

TRANSIENT_STATUSES = frozenset({0, 408, 429, 500, 502, 503, 504})
# 5xx that no retry can fix: the server does not implement the method or the HTTP version.
NEVER_SERVED = frozenset({501, 505})
CONFLICT_STATUSES = frozenset({409, 412})
# A server that asks for an hour is not asking drill to wait inside one step.
MAX_RETRY_AFTER_S = 300.0


def is_transient(status: int) -> bool:
    return status in TRANSIENT_STATUSES or (status >= 500 and status not in NEVER_SERVED)


def status_error(
    what: str, status: int, message: str, headers: Mapping[str, str] | None = None
) -> PermanentError | TransientError:
    """The drill error for an HTTP error answer to the request ``what`` describes.

    ``message`` is the server's own wording (kept whole: a 403 names the refused permission);
    ``headers`` are the answer's, for ``Retry-After``."""
    text = f"{what}: {message or f'HTTP {status}'}"
    if is_transient(status):
        wait_s = retry_after_s(headers or {})
        return TransientError(text, retry_after_s=wait_s)
    if status == 401:
        return PermanentError(f"{what}: credentials were rejected (401)" + _colon(message))
    if status == 403:
        return PermanentError(f"{what}: permission denied: {message or 'HTTP 403'}")
    if status == 404:
        return NotFound(text)
    if status in CONFLICT_STATUSES:
        return Conflict(text)
    return PermanentError(text)


def retry_after_s(headers: Mapping[str, str]) -> float | None:
    """Seconds from a ``Retry-After: N`` header, capped; None when absent or an HTTP date."""
    value = next((v for k, v in headers.items() if k.lower() == "retry-after"), None)
    if value is None:
        return None
    try:
        seconds = float(value)
    except ValueError:  # an HTTP date: drill's own backoff will do
        return None
    return min(max(seconds, 0.0), MAX_RETRY_AFTER_S) if math.isfinite(seconds) else None


def _colon(message: str) -> str:
    return f": {message}" if message else ""
