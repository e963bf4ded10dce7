"""The AWS adapters, one per Protocol: S3 listings, Route53 records, ELBv2 backends.

Each lives in its own module (``aws_s3``, ``aws_route53``, ``aws_elbv2``) over the shared
session and error translation in ``_aws``; none imports botocore until it makes its first
call. Adapters given the same ``AwsClients`` share one botocore session and its clients (a
run's adapters do), and every session of the process reads botocore's endpoint and service
models through one loader, so each is parsed once.
"""

from __future__ import annotations

from providers._aws import AwsClients
from providers.aws_elbv2 import Elbv2Backends
from providers.aws_route53 import Route53Dns
from providers.aws_s3 import S3ObjectStore

__all__ = ["AwsClients", "Elbv2Backends", "Route53Dns", "S3ObjectStore"]
