"""One HTTP delivery with a few retries, described without its URL.

The URL of a notification is a secret in full (Slack's token is its path), so a ``Delivery``
names the target kind, the HTTP status or the network reason, and never the URL. Remote
failures end as ``ok=False``; nothing here raises.
"""

from __future__ import annotations

import math
import re
import threading
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any, Literal, Protocol
from urllib.parse import urlsplit

from drill.clock import Clock
from drill.errors import ProviderError, TransientError
from drill.redact import redact_url
from providers.protocols import HttpClient, HttpResponse

TargetKind = Literal["slack", "webhook", "pushgateway"]

TIMEOUT_S = 10.0
MAX_ATTEMPTS = 3
_BACKOFF_S = (1.0, 3.0)
_MAX_RETRY_AFTER_S = 30.0
# Slack answers a refused post with a short code (no_service, invalid_payload, ...): worth
# showing. Anything longer or freer could echo the request back, so it is left out.
_ERROR_CODE = re.compile(r"[a-z][a-z0-9_]{1,60}")
_URL_SHOWN_AS = "<url>"


class Log(Protocol):
    """The two levels a delivery is logged at (structlog's bound logger has them)."""

    def info(self, event: str, **kw: Any) -> Any: ...

    def warning(self, event: str, **kw: Any) -> Any: ...


@dataclass(frozen=True)
class Delivery:
    """What became of one notification or push. ``detail`` is fit for a log line."""

    target: TargetKind
    ok: bool
    detail: str
    attempts: int = 1


@dataclass(frozen=True)
class Request:
    method: str
    url: str
    headers: Mapping[str, str]
    body: bytes
    # Anything else no message may show, such as credentials moved into a header.
    secrets: tuple[str, ...] = ()


@dataclass(frozen=True)
class _Attempt:
    ok: bool
    retryable: bool
    reason: str
    retry_after_s: float | None = None


def deliver(
    kind: TargetKind, request: Request, http: HttpClient, clock: Clock, label: str | None = None
) -> Delivery:
    """Send ``request``; retry 5xx, 429 and network failures, up to MAX_ATTEMPTS in all.

    The detail starts with ``label`` (default: the kind), which must hold nothing secret.
    """
    never_cancelled = threading.Event()
    attempt = _send(request, http)
    count = 1
    while not attempt.ok and attempt.retryable and count < MAX_ATTEMPTS:
        clock.sleep(_wait_s(attempt, count), never_cancelled)
        attempt = _send(request, http)
        count += 1
    detail = f"{label or kind}: {_outcome_text(attempt, count)}"
    return Delivery(kind, attempt.ok, detail, count)


def _wait_s(attempt: _Attempt, count: int) -> float:
    backoff_s = _BACKOFF_S[min(count, len(_BACKOFF_S)) - 1]
    return attempt.retry_after_s if attempt.retry_after_s is not None else backoff_s


def _outcome_text(attempt: _Attempt, count: int) -> str:
    tries = f" after {count} attempts" if count > 1 else ""
    if attempt.ok:
        return f"{attempt.reason}{tries}"
    if attempt.retryable:
        return f"{attempt.reason} (gave up{tries})"
    return f"{attempt.reason} (not retried)"


def _send(request: Request, http: HttpClient) -> _Attempt:
    try:
        response = http.request(
            request.method,
            request.url,
            headers=request.headers,
            body=request.body,
            timeout_s=TIMEOUT_S,
        )
    except ProviderError as exc:
        reason = _without_url(str(exc), request)
        return _Attempt(ok=False, retryable=isinstance(exc, TransientError), reason=reason)
    except Exception as exc:  # noqa: BLE001 - a notification must never end the run
        # Its message may quote the URL; the type is enough to go on.
        return _Attempt(ok=False, retryable=False, reason=f"client error {type(exc).__name__}")
    judged = _judge(response)
    # The body's error code could, however unlikely, be a piece of the URL echoed back.
    return replace(judged, reason=scrub(judged.reason, request.url, request.secrets))


def _judge(response: HttpResponse) -> _Attempt:
    status = response.status
    if 200 <= status < 300:
        return _Attempt(ok=True, retryable=False, reason=f"HTTP {status}")
    code = response.body.decode("utf-8", "replace").strip()
    reason = f"HTTP {status} {code}" if _ERROR_CODE.fullmatch(code) else f"HTTP {status}"
    retryable = status >= 500 or status == 429
    return _Attempt(
        ok=False, retryable=retryable, reason=reason, retry_after_s=_retry_after(response)
    )


def _retry_after(response: HttpResponse) -> float | None:
    """Seconds the server asked us to wait (429, 503), capped; None if it did not say."""
    value = next((v for k, v in response.headers.items() if k.lower() == "retry-after"), None)
    try:
        seconds = float(value) if value is not None else math.nan
    except ValueError:  # an HTTP date: the usual backoff will do
        return None
    return min(max(seconds, 0.0), _MAX_RETRY_AFTER_S) if math.isfinite(seconds) else None


def _without_url(message: str, request: Request) -> str:
    """The client's message with every form of the URL taken out, and its "POST url:" prefix."""
    cleaned = scrub(message, request.url, request.secrets)
    return cleaned.removeprefix(f"{request.method} {_URL_SHOWN_AS}: ").strip() or "failed"


def scrub(text: str, url: str, extra: tuple[str, ...] = ()) -> str:
    """``text`` with ``url`` (as given or redacted), its path, its credentials and ``extra``
    replaced."""
    parts = urlsplit(url)
    secrets = [url, redact_url(url), *(secret for secret in extra if secret)]
    if len(parts.path) > 1:
        secrets.append(parts.path)
    if parts.query:
        secrets.append(parts.query)
    if parts.password:
        secrets.append(parts.password)
    for secret in sorted(secrets, key=len, reverse=True):
        text = text.replace(secret, _URL_SHOWN_AS)
    return text
