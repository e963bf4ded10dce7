"""The Cloud DNS emulator's nameservers: a tiny authoritative DNS responder over UDP.

``DnsResponder`` binds 127.0.0.1 on an ephemeral port and answers each query from the
emulator's *served* records (``CloudDnsEmulator.answer``), so a change shows here only once it
is done and has propagated. Answers are authoritative; a name the zone lacks gets NXDOMAIN with
the zone's SOA, a query outside every zone gets REFUSED. Answers that do not fit are sent
truncated (there is no TCP listener).

dnspython is used only to read and write the wire format, and is imported when the first
query arrives. This module must not decide what a record holds: that is the emulator's job.
"""

from __future__ import annotations

import contextlib
import socket
import threading
from typing import Any

from drill.sandbox.emulator import Emulator
from drill.sandbox.gcp._dns import Answer, CloudDnsEmulator

_POLL_S = 0.05  # how quickly the serving thread notices stop()
_JOIN_TIMEOUT_S = 2.0
_MAX_QUERY_BYTES = 4096
_UDP_PAYLOAD = 512  # a reply to a query without EDNS must fit in this


class DnsResponder(Emulator):
    """Answers A, AAAA, CNAME (and any other stored type) for every zone of every project;
    as ``nameserver``, only for the zones that name no nameservers or name it."""

    def __init__(self, emulator: CloudDnsEmulator, nameserver: str | None = None) -> None:
        self.emulator = emulator
        self.nameserver = nameserver
        self._socket = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self._socket.bind(("127.0.0.1", 0))
        self._socket.settimeout(_POLL_S)
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None
        self.errors: list[str] = []  # queries that could not be answered, for tests

    @property
    def address(self) -> str:
        """``127.0.0.1:PORT``, as a nameserver entry."""
        return f"127.0.0.1:{self._socket.getsockname()[1]}"

    def start(self) -> str:
        self._thread = threading.Thread(target=self._serve, name="cloud-dns-responder", daemon=True)
        self._thread.start()
        return self.address

    def stop(self) -> None:
        self._stopping.set()
        if self._thread is not None:
            self._thread.join(_JOIN_TIMEOUT_S)
            self._thread = None
        self._socket.close()

    def _serve(self) -> None:
        while not self._stopping.is_set():
            try:
                query, client = self._socket.recvfrom(_MAX_QUERY_BYTES)
            except TimeoutError:
                continue
            except OSError:
                return  # the socket was closed under us: we are stopping
            reply = self._reply(query)
            if reply is not None:
                with contextlib.suppress(OSError):  # the client went away; nothing to do
                    self._socket.sendto(reply, client)

    def _reply(self, wire: bytes) -> bytes | None:
        import dns.exception
        import dns.message
        import dns.rcode

        try:
            query = dns.message.from_wire(wire)
        except dns.exception.DNSException:
            return None  # not a DNS query we can even answer FORMERR to
        response = dns.message.make_response(query)
        if len(query.question) != 1:
            response.set_rcode(dns.rcode.FORMERR)
        else:
            self._fill(response, query.question[0])
        limit = max(_UDP_PAYLOAD, response.request_payload)
        return bytes(response.to_wire(max_size=limit, prefer_truncation=True))

    def _fill(self, response: Any, question: Any) -> None:
        import dns.flags
        import dns.rcode
        import dns.rdatatype

        name = question.name.to_text()
        answer = self.emulator.answer(name, dns.rdatatype.to_text(question.rdtype), self.nameserver)
        response.set_rcode(dns.rcode.from_text(answer.rcode))
        if answer.rcode == "REFUSED":
            return
        response.flags |= dns.flags.AA
        try:
            _add_records(response, answer)
        except Exception as exc:  # noqa: BLE001 - a bad seeded rdata must not kill the responder
            self.errors.append(f"{name}: {exc}")
            response.answer.clear()
            response.authority.clear()
            response.set_rcode(dns.rcode.SERVFAIL)


def _add_records(response: Any, answer: Answer) -> None:
    import dns.rrset

    for record in answer.records:
        rrset = dns.rrset.from_text_list(record.name, record.ttl, "IN", record.type, record.rrdatas)
        response.answer.append(rrset)
    if answer.soa is not None:
        soa = answer.soa
        response.authority.append(
            dns.rrset.from_text_list(soa.name, soa.ttl, "IN", "SOA", soa.rrdatas)
        )
