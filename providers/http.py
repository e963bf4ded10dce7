"""HTTP from where drill runs, over urllib3 (already a dependency of every cloud SDK we use)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from urllib.parse import urlsplit, urlunsplit

import urllib3

from drill.errors import PermanentError, TransientError
from drill.redact import redact_url
from providers._net import network_reason
from providers.protocols import HttpResponse

# Bodies are only ever searched for a substring or a JSON field; a health endpoint that
# streams megabytes should not make drill hold them all.
_MAX_BODY_BYTES = 1 << 20


class Urllib3Http:
    """``gateway`` (the sandbox's simulated public endpoints, ``http://host:port``) receives
    requests for ``gateway_hosts`` in place of their own servers, with the original ``Host``."""

    def __init__(self, gateway: str | None = None, gateway_hosts: Iterable[str] = ()) -> None:
        self._pool = urllib3.PoolManager(retries=False)
        self._gateway = gateway
        self._gateway_hosts = {host.rstrip(".").lower() for host in gateway_hosts}

    def request(
        self,
        method: str,
        url: str,
        *,
        headers: Mapping[str, str],
        body: bytes | None,
        timeout_s: float,
    ) -> HttpResponse:
        target, headers = self._route(url, headers)
        try:
            response = self._pool.request(
                method,
                target,
                headers=dict(headers),
                body=body,
                timeout=urllib3.Timeout(total=max(timeout_s, 0.001)),
                redirect=False,
                preload_content=False,
            )
        except urllib3.exceptions.LocationValueError as exc:
            raise PermanentError(f"{redact_url(url)}: {exc}") from None
        except urllib3.exceptions.HTTPError as exc:
            raise TransientError(f"{method} {redact_url(url)}: {network_reason(exc)}") from None
        try:
            payload = response.read(_MAX_BODY_BYTES)
        except urllib3.exceptions.HTTPError as exc:
            raise TransientError(f"{method} {redact_url(url)}: {network_reason(exc)}") from None
        finally:
            response.release_conn()
        return HttpResponse(status=response.status, body=payload, headers=dict(response.headers))

    def _route(self, url: str, headers: Mapping[str, str]) -> tuple[str, Mapping[str, str]]:
        parts = urlsplit(url)
        if self._gateway is None or (parts.hostname or "") not in self._gateway_hosts:
            return url, headers
        routed = urlunsplit(("", "", parts.path or "/", parts.query, ""))
        return self._gateway.rstrip("/") + routed, {**headers, "Host": parts.netloc}
