"""DNS answers straight from named nameservers, for ``dns.switch``'s check, through dnspython.

The check measures when the authoritative servers start answering a new record, so nothing in
between may remember an old answer: each call asks the given nameservers directly, with no cache,
one short try each. In the sandbox ``CloudSettings.nameservers`` stand in for the nameservers
they name and ``CloudSettings.nameserver`` for every other.
The system resolver is used only to turn a nameserver's host name into an address.
"""

from __future__ import annotations

import socket
from collections.abc import Sequence
from typing import Any

from drill.errors import TransientError
from providers.cloud import CloudSettings

DEFAULT_TIMEOUT_S = 2.0
_DNS_PORT = 53


class DnsPythonResolver:
    def __init__(self, settings: CloudSettings, *, timeout_s: float = DEFAULT_TIMEOUT_S) -> None:
        self.settings = settings
        self.timeout_s = timeout_s  # per nameserver; each is tried once per call

    def resolve(self, name: str, type_: str, nameservers: Sequence[str]) -> tuple[str, ...]:
        import dns.exception
        import dns.resolver

        asked = list(dict.fromkeys(self._stand_in(server) for server in nameservers))
        if not asked and self.settings.nameserver:
            asked = [self.settings.nameserver]
        if not asked:
            raise ValueError("resolve needs at least one nameserver")
        where = f"DNS: {type_} {name} from {', '.join(asked)}"
        resolver = self._resolver([_endpoint(server, where) for server in asked])
        try:
            answer = resolver.resolve(name, type_, search=False)
        except (dns.resolver.NXDOMAIN, dns.resolver.NoAnswer):
            return ()
        except dns.exception.Timeout:
            raise TransientError(f"{where}: no answer within {self.timeout_s:g} s each") from None
        except dns.resolver.NoNameservers as exc:
            raise TransientError(f"{where}: every nameserver failed: {_failures(exc)}") from None
        except (dns.exception.DNSException, OSError) as exc:
            raise TransientError(f"{where}: {exc}") from None
        return tuple(sorted(rdata.to_text() for rdata in answer))

    def _stand_in(self, server: str) -> str:
        """Where a query meant for ``server`` goes: the server itself, or in the sandbox the
        stand-in for it (its own, or the one for every other server)."""
        wanted = server.lower().rstrip(".")
        for pair in self.settings.nameservers:
            name, _, where = pair.partition("=")
            if name.lower().rstrip(".") == wanted:
                return where
        return self.settings.nameserver or server

    def _resolver(self, endpoints: list[tuple[str, int]]) -> Any:
        import dns.nameserver
        import dns.resolver

        resolver = dns.resolver.Resolver(configure=False)  # no resolv.conf, no search list
        resolver.nameservers = [dns.nameserver.Do53Nameserver(ip, port) for ip, port in endpoints]
        resolver.cache = None
        resolver.timeout = self.timeout_s
        # One round over the servers: a slow one must not hold the check past its deadline.
        resolver.lifetime = self.timeout_s * len(endpoints)
        return resolver


def _endpoint(server: str, where: str) -> tuple[str, int]:
    """``host``, ``host:port``, ``[v6]:port`` or a bare IPv6 address, as (IP, port)."""
    host, port = _split(server)
    try:
        found = socket.getaddrinfo(host, port, type=socket.SOCK_DGRAM)
    except (socket.gaierror, UnicodeError) as exc:
        raise TransientError(f"{where}: nameserver {host} did not resolve ({exc})") from None
    # IPv4 first: a nameserver's name may also carry an AAAA this machine cannot reach.
    found.sort(key=lambda entry: entry[0] != socket.AF_INET)
    return str(found[0][4][0]), port


def _split(server: str) -> tuple[str, int]:
    if server.startswith("["):
        host, _, rest = server[1:].partition("]")
        return host, _port(rest.removeprefix(":"), server)
    if server.count(":") == 1:
        host, _, port = server.partition(":")
        return host, _port(port, server)
    return server, _DNS_PORT


def _port(text: str, server: str) -> int:
    if not text:
        return _DNS_PORT
    if not text.isdigit() or not 0 < int(text) < 65536:
        raise ValueError(f"nameserver {server!r}: {text!r} is not a port")
    return int(text)


def _failures(exc: Any) -> str:
    """Each server's failure in a few words ("127.0.0.1:53 answered REFUSED")."""
    errors = exc.kwargs.get("errors") or []
    # dnspython's error entries: (server, over TCP, port, error, response)
    said = [f"{_server_text(error[0])} answered {error[3]}" for error in errors]
    return "; ".join(said) or str(exc)


def _server_text(nameserver: str) -> str:
    """dnspython writes "Do53:127.0.0.1@5353"; the plan wrote "127.0.0.1:5353"."""
    return nameserver.removeprefix("Do53:").replace("@", ":")
