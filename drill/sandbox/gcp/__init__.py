"""The sandbox's Google Cloud emulators: servers that the real google-cloud SDK clients talk to.

``JsonHttpServer`` is the shared JSON-over-HTTP endpoint (routing, Google-shaped errors, request
faults); each emulator registers its routes on one. ``CloudDnsEmulator`` serves Cloud DNS v1
(zones, record sets, changes that stay pending for a while) and ``DnsResponder`` answers DNS
queries over UDP from what its zones serve. ``ComputeEmulator`` serves Compute backend services
(get, patch, getHealth) and the operations a patch returns, and lists them and its instance
groups as Compute does (list, aggregatedList, with paging and filters), for gcloud and other
tools; ``JsonHttpServer`` also takes Google's HTTP batches, which gcloud sends some reads in.
The package must not import any Google client SDK: it is a server, not a client.
"""

from drill.sandbox.gcp._compute import ComputeEmulator, ComputeTruth, OperationRecord
from drill.sandbox.gcp._dns import Answer, ChangeTruth, CloudDnsEmulator, DnsRecord
from drill.sandbox.gcp._dns_server import DnsResponder
from drill.sandbox.gcp._http import GoogleApiError, JsonHttpServer, Request, RequestFaults

__all__ = [
    "Answer",
    "ChangeTruth",
    "CloudDnsEmulator",
    "ComputeEmulator",
    "ComputeTruth",
    "DnsRecord",
    "DnsResponder",
    "GoogleApiError",
    "JsonHttpServer",
    "OperationRecord",
    "Request",
    "RequestFaults",
]
