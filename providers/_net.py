"""Network failures described in a few words a person can act on."""

from __future__ import annotations


def network_reason(exc: BaseException) -> str:
    """Root cause of a urllib3 failure: DNS, refused, TLS or timeout."""
    # Imported here: the adapters that import this module are imported by commands that send
    # no request (`drill history --help`), and a failure to describe means urllib3 is loaded.
    import urllib3

    if isinstance(exc, urllib3.exceptions.MaxRetryError) and exc.reason is not None:
        exc = exc.reason
    # Most specific first: a NameResolutionError is a NewConnectionError, which urllib3 also
    # makes a kind of ConnectTimeoutError for old callers.
    if isinstance(exc, urllib3.exceptions.NameResolutionError):
        return "host name did not resolve"
    if isinstance(exc, urllib3.exceptions.NewConnectionError):
        return "connection refused or host unreachable"
    if isinstance(exc, urllib3.exceptions.SSLError):
        return "TLS handshake failed (check the CA and server name)"
    if isinstance(exc, urllib3.exceptions.TimeoutError):
        return "timed out"
    if isinstance(exc, urllib3.exceptions.ProtocolError):
        return "connection reset"
    return type(exc).__name__
