"""Google Cloud Storage for ``gcs.backup_fresh`` and ``gcs.heartbeat``, through
google-cloud-storage: listings, and the first bytes of small objects."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from functools import cached_property
from typing import Any

from providers._google import credentials, translated
from providers.cloud import CloudSettings
from providers.protocols import StoredObject

# Listing objects bills no project; without one the client would insist on finding a default.
_NO_PROJECT = "<none>"
REQUEST_TIMEOUT_S = 30.0


class GcsObjectStore:
    """Lists objects and reads the head of one. The storage client is built on first use."""

    def __init__(self, settings: CloudSettings, project: str | None) -> None:
        self.settings = settings
        self.project = project

    @cached_property
    def _client(self) -> Any:
        from google.cloud import storage

        options = (
            {"api_endpoint": self.settings.gcs_endpoint} if self.settings.gcs_endpoint else None
        )
        with translated("Cloud Storage: sign in"):
            return storage.Client(
                project=self.project or _NO_PROJECT,
                credentials=credentials(self.settings),
                client_options=options,
            )

    def list_objects(self, bucket: str, prefix: str) -> Iterator[StoredObject]:
        with translated(f"Cloud Storage: list gs://{bucket}/{prefix}"):
            # The iterator follows nextPageToken itself; every page is read. drill retries
            # transient errors itself, within the step's deadline: the SDK must not.
            blobs = self._client.list_blobs(
                bucket, prefix=prefix or None, retry=None, timeout=REQUEST_TIMEOUT_S
            )
            for blob in blobs:
                yield _stored(bucket, blob)

    def read_object(self, bucket: str, name: str, max_bytes: int) -> bytes:
        with translated(f"Cloud Storage: read gs://{bucket}/{name}"):
            blob = self._client.bucket(bucket).blob(name)
            # A ranged read: however big the object, no more than max_bytes travel.
            data: bytes = blob.download_as_bytes(
                start=0, end=max_bytes - 1, retry=None, timeout=REQUEST_TIMEOUT_S
            )
            return data[:max_bytes]


def _stored(bucket: str, blob: Any) -> StoredObject:
    created: datetime = blob.time_created or blob.updated or datetime.fromtimestamp(0, UTC)
    return StoredObject(
        bucket=bucket,
        name=str(blob.name),
        size=int(blob.size or 0),
        created_at=created,
        metadata={str(k): str(v) for k, v in (blob.metadata or {}).items()},
    )
