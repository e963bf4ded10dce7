"""The AWS adapters, one per Protocol: S3 listings, Route53 records, ELBv2 backends.

Each lives in its own module (``aws_s3``, ``aws_route53``, ``aws_elbv2``) over the shared
session and error translation in ``_aws``; none imports boto3 until it makes its first call.
Adapters given the same ``AwsClients`` share one boto3 session and its clients: a run's
adapters do, so botocore parses its endpoint and service models once, not once per adapter.
"""

from __future__ import annotations

from providers._aws import AwsClients
from providers.aws_elbv2 import Elbv2Backends
from providers.aws_route53 import Route53Dns
from providers.aws_s3 import S3ObjectStore

__all__ = ["AwsClients", "Elbv2Backends", "Route53Dns", "S3ObjectStore"]
