"""Where the cloud APIs are and how drill signs in to them.

Defaults reach the public clouds with their standard credentials: Application Default
Credentials (or one service-account key file) for Google Cloud, the standard credential chain
for AWS. The sandbox fills in its emulators' endpoints and signs in anonymously; nothing is
ever patched inside an SDK.
"""

from __future__ import annotations

from dataclasses import dataclass

# moto accepts any key; these only keep botocore from searching the machine for real ones.
SANDBOX_AWS_KEY = "drill-sandbox"


@dataclass(frozen=True)
class CloudSettings:
    gcs_endpoint: str | None = None  # http://127.0.0.1:PORT (GCS JSON API)
    dns_endpoint: str | None = None  # Cloud DNS REST root
    compute_endpoint: str | None = None  # Compute REST root
    aws_endpoint: str | None = None  # one endpoint for S3, Route53 and ELBv2 (moto)
    # Answers every DNS query in place of the plan's nameservers ("host:port").
    nameserver: str | None = None
    # Nameservers by name ("NAME=host:port"): a query meant for NAME goes to its stand-in; any
    # other goes to ``nameserver``.
    nameservers: tuple[str, ...] = ()
    # Receives http.check requests for ``gateway_hosts`` in place of their servers (the
    # sandbox's simulated public endpoints), with the original Host header.
    http_gateway: str | None = None
    gateway_hosts: tuple[str, ...] = ()
    anonymous: bool = False  # the sandbox: send no credentials at all
    gcp_credentials_file: str | None = None  # a service-account key; else ADC

    @property
    def emulated(self) -> bool:
        return self.anonymous
