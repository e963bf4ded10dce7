"""The AWS adapters, one per Protocol: S3 listings, Route53 records, ELBv2 backends.

Each lives in its own module (``aws_s3``, ``aws_route53``, ``aws_elbv2``) over the shared
session and error translation in ``_aws``; none imports boto3 until it makes its first call.
"""

from __future__ import annotations

from providers.aws_elbv2 import Elbv2Backends
from providers.aws_route53 import Route53Dns
from providers.aws_s3 import S3ObjectStore

__all__ = ["Elbv2Backends", "Route53Dns", "S3ObjectStore"]
