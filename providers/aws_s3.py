"""S3 for ``s3.backup_fresh`` and ``s3.heartbeat``, through botocore: listings, metadata, and the
first bytes of small objects.

ListObjectsV2 gives each object's key, size and LastModified but not its user metadata; that
takes one HeadObject per object. So ``StoredObject.metadata`` here is a lazy mapping: it asks
S3 only when first read, which a freshness check does only when the plan names a timestamp
metadata key. A check by creation time costs one request per 1,000 objects; a check by
metadata adds one HeadObject per object listed.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from datetime import UTC, datetime
from typing import Any

from drill.errors import NotFound
from providers._aws import AwsClients, translated
from providers.cloud import CloudSettings
from providers.protocols import StoredObject


class S3ObjectStore:
    """Lists objects; reads their metadata, or the head of one, only when asked."""

    def __init__(
        self,
        settings: CloudSettings,
        region: str | None,
        *,
        page_size: int | None = None,
        clients: AwsClients | None = None,
    ) -> None:
        self.region = region
        self.page_size = page_size  # None: S3's own (1,000 keys a page)
        self._clients = clients or AwsClients(settings)

    def _s3(self, what: str) -> Any:
        return self._clients.client("s3", self.region, what)

    def list_objects(self, bucket: str, prefix: str) -> Iterator[StoredObject]:
        what = f"S3: list s3://{bucket}/{prefix}"
        paginator = self._s3(what).get_paginator("list_objects_v2")
        pagination = {"PageSize": self.page_size} if self.page_size else {}
        with translated(what):
            # The paginator follows ContinuationToken itself; every page is read.
            pages = paginator.paginate(Bucket=bucket, Prefix=prefix, PaginationConfig=pagination)
            for page in pages:
                for listed in page.get("Contents", ()):
                    yield self._stored(bucket, listed)

    def read_object(self, bucket: str, name: str, max_bytes: int) -> bytes:
        what = f"S3: read s3://{bucket}/{name}"
        s3 = self._s3(what)
        with translated(what):
            # A ranged GET: however big the object, no more than max_bytes travel.
            answer = s3.get_object(Bucket=bucket, Key=name, Range=f"bytes=0-{max_bytes - 1}")
            data: bytes = answer["Body"].read(max_bytes)
            return data

    def _stored(self, bucket: str, listed: Mapping[str, Any]) -> StoredObject:
        key = str(listed["Key"])
        modified: datetime = listed["LastModified"]
        return StoredObject(
            bucket=bucket,
            name=key,
            size=int(listed.get("Size", 0)),
            created_at=modified.astimezone(UTC),
            metadata=ObjectMetadata(lambda: self._head_metadata(bucket, key)),
        )

    def _head_metadata(self, bucket: str, key: str) -> dict[str, str]:
        what = f"S3: read metadata of s3://{bucket}/{key}"
        s3 = self._s3(what)
        try:
            with translated(what):
                head = s3.head_object(Bucket=bucket, Key=key)
        except NotFound:
            return {}  # deleted since the listing: it holds no backup's timestamp any more
        return {str(k).lower(): str(v) for k, v in (head.get("Metadata") or {}).items()}


class ObjectMetadata(Mapping[str, str]):
    """An object's user metadata, fetched on first read. Keys are case-insensitive, as S3's
    are (it returns them lower-cased). Fetch failures raise drill's errors, like a listing."""

    def __init__(self, fetch: Callable[[], dict[str, str]]) -> None:
        self._fetch = fetch
        self._loaded: dict[str, str] | None = None

    def _items(self) -> dict[str, str]:
        if self._loaded is None:
            self._loaded = self._fetch()
        return self._loaded

    def __getitem__(self, key: str) -> str:
        return self._items()[key.lower()]

    def __iter__(self) -> Iterator[str]:
        return iter(self._items())

    def __len__(self) -> int:
        return len(self._items())

    def __repr__(self) -> str:
        return repr(self._loaded) if self._loaded is not None else "ObjectMetadata(<not read>)"
