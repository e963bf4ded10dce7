"""Where run reports are kept for ``drill history``: a local directory, GCS or S3.

``open_report_store`` reads a location as the user writes it (``--history`` or
``DRILL_HISTORY``): ``gs://bucket/prefix``, ``s3://bucket/prefix``, or a directory path. Each
store keeps opaque bytes under relative, ``/``-separated names below its root or prefix; what
the bytes mean is drill.history's business.

Must not: parse reports, or import an SDK before a store is first used (the clients are built
on first call, so constructing a store does no I/O and cannot fail on credentials).
"""

from __future__ import annotations

import os
import re
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cached_property
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Any

from drill.errors import NotFound, PermanentError, UsageError
from drill.redact import redact_url
from providers import _aws, _google
from providers.cloud import CloudSettings

if TYPE_CHECKING:
    from providers.protocols import ReportStore

LOCATION_FORMS = "a directory, gs://BUCKET[/PREFIX] or s3://BUCKET[/PREFIX]"
# The rules GCS and S3 share: lowercase letters, digits, dots, dashes (GCS also underscores).
_BUCKET = re.compile(r"^[a-z0-9][a-z0-9._-]{1,220}[a-z0-9]$")
_JSON = "application/json"
# Reading and writing objects of an existing bucket bills no project; without one the client
# would insist on finding a default.
_NO_PROJECT = "<none>"


# One attempt per call, bounded: a history that cannot be reached must not hold up a run.
_TIMEOUT_S = 30.0


def open_report_store(location: str, settings: CloudSettings) -> ReportStore:
    """The store ``location`` names. Raises UsageError for a malformed location."""
    scheme, sep, rest = location.partition("://")
    if scheme in ("gs", "s3") and sep:
        bucket, prefix = _bucket_and_prefix(location, rest)
        if scheme == "gs":
            return GcsReportStore(settings, bucket, prefix)
        return S3ReportStore(settings, bucket, prefix)
    if sep or location.startswith(("gs:", "s3:")):  # another scheme, or gs:/bucket
        raise UsageError(f"history location {shown_location(location)!r}: use {LOCATION_FORMS}")
    if not location.strip():
        raise UsageError(f"history location is empty: use {LOCATION_FORMS}")
    return DirectoryReportStore(Path(location))


def _bucket_and_prefix(location: str, rest: str) -> tuple[str, str]:
    bucket, _, prefix = rest.partition("/")
    if not bucket:
        raise UsageError(
            f"history location {shown_location(location)!r} names no bucket: use {LOCATION_FORMS}"
        )
    if not _BUCKET.match(bucket):
        raise UsageError(
            f"history location {shown_location(location)!r}: that is not a bucket name "
            "(3 to 222 lowercase letters, digits, dots, dashes or underscores, the first and "
            "last a letter or digit)"
        )
    prefix = prefix.strip("/")
    return bucket, f"{prefix}/" if prefix else ""


def shown_location(location: str) -> str:
    """The location fit for a message: a URL may carry a password or token by mistake.
    (Only then is it redacted: redaction would also turn ``gs://`` into ``gs:``.)"""
    return (
        redact_url(location)
        if "://" in location and ("@" in location or "?" in location)
        else location
    )


def checked_name(name: str) -> str:
    """``name`` if it is a plain relative name; a name that could climb out of the store's
    root (``..``, absolute, empty parts) raises PermanentError."""
    parts = name.split("/")
    if not name or name.startswith("/") or "\\" in name or any(p in ("", ".", "..") for p in parts):
        raise PermanentError(f"history: {name!r} is not a report name")
    return name


# --- a local directory ------------------------------------------------------------------------


class DirectoryReportStore:
    """Reports as files below ``root``, which is created on the first write. Each file is
    written to a hidden temporary file beside it and renamed into place, so a reader never
    sees half a report; names starting with a dot are never listed."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def put(self, name: str, data: bytes) -> str:
        path = self.root / checked_name(name)
        with _os_errors(f"history: write {path}"):
            path.parent.mkdir(parents=True, exist_ok=True)
            _write_atomically(path, data)
        return str(path)

    def names(self, prefix: str) -> list[str]:
        parent = prefix.rpartition("/")[0]  # only that directory's tree can hold matches
        folder = self.root / checked_name(parent) if parent else self.root
        if not folder.is_dir():
            return []
        with _os_errors(f"history: list {folder}"):
            files = [p.relative_to(self.root).as_posix() for p in folder.rglob("*") if p.is_file()]
        return sorted(n for n in files if n.startswith(prefix) and not _hidden(n))

    def get(self, name: str) -> bytes:
        path = self.root / checked_name(name)
        try:
            return path.read_bytes()
        except FileNotFoundError:
            raise NotFound(f"history: no report {path}") from None
        except OSError as exc:
            raise PermanentError(f"history: read {path}: {exc.strerror or exc}") from None


def _write_atomically(path: Path, data: bytes) -> None:
    temporary = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
    # O_EXCL: never write through a file (or link) someone else put there; 0o666 lets the
    # umask decide who may read reports, as for any file drill writes.
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
    try:
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise


def _hidden(name: str) -> bool:
    return any(part.startswith(".") for part in PurePosixPath(name).parts)


@contextmanager
def _os_errors(what: str) -> Iterator[None]:
    try:
        yield
    except OSError as exc:
        raise PermanentError(f"{what}: {exc.strerror or exc}") from None


# --- Google Cloud Storage ---------------------------------------------------------------------


class GcsReportStore:
    """Reports as objects ``gs://bucket/<prefix><name>``, through google-cloud-storage."""

    def __init__(self, settings: CloudSettings, bucket: str, prefix: str = "") -> None:
        self.settings = settings
        self.bucket = bucket
        self.prefix = prefix  # "" or ending in "/"

    @cached_property
    def _client(self) -> Any:
        from google.cloud import storage

        endpoint = self.settings.gcs_endpoint
        with _google.translated("Cloud Storage: sign in"):
            return storage.Client(
                project=_NO_PROJECT,
                credentials=_google.credentials(self.settings),
                client_options={"api_endpoint": endpoint} if endpoint else None,
            )

    def _url(self, key: str) -> str:
        return f"gs://{self.bucket}/{key}"

    def put(self, name: str, data: bytes) -> str:
        url = self._url(self.prefix + checked_name(name))
        what = f"Cloud Storage: write {url}"
        with _missing(f"{what}: {_no_bucket(self.bucket)}"), _google.translated(what):
            blob = self._client.bucket(self.bucket).blob(self.prefix + name)
            blob.upload_from_string(data, content_type=_JSON, retry=None, timeout=_TIMEOUT_S)
        return url

    def names(self, prefix: str) -> list[str]:
        what = f"Cloud Storage: list {self._url(self.prefix + prefix)}"
        with _missing(f"{what}: {_no_bucket(self.bucket)}"), _google.translated(what):
            # The iterator follows nextPageToken itself; every page is read.
            blobs = self._client.list_blobs(
                self.bucket, prefix=self.prefix + prefix or None, retry=None, timeout=_TIMEOUT_S
            )
            keys = [str(blob.name) for blob in blobs]
        return sorted(key.removeprefix(self.prefix) for key in keys)

    def get(self, name: str) -> bytes:
        url = self._url(self.prefix + checked_name(name))
        what = f"Cloud Storage: read {url}"
        with _missing(_no_object(what, self.bucket)), _google.translated(what):
            blob = self._client.bucket(self.bucket).blob(self.prefix + name)
            data: bytes = blob.download_as_bytes(retry=None, timeout=_TIMEOUT_S)
        return data


# --- S3 ---------------------------------------------------------------------------------------


class S3ReportStore:
    """Reports as objects ``s3://bucket/<prefix><name>``, through botocore. Without a region,
    the credential chain's applies, else us-east-1 (S3 redirects to the bucket's own)."""

    def __init__(
        self, settings: CloudSettings, bucket: str, prefix: str = "", region: str | None = None
    ) -> None:
        self.bucket = bucket
        self.prefix = prefix  # "" or ending in "/"
        self.region = region
        self._clients = _aws.AwsClients(settings)

    def _s3(self, what: str) -> Any:
        return self._clients.client("s3", self.region, what)

    def _url(self, key: str) -> str:
        return f"s3://{self.bucket}/{key}"

    def put(self, name: str, data: bytes) -> str:
        key = self.prefix + checked_name(name)
        what = f"S3: write {self._url(key)}"
        s3 = self._s3(what)
        with _missing(f"{what}: {_no_bucket(self.bucket)}"), _aws.translated(what):
            s3.put_object(Bucket=self.bucket, Key=key, Body=data, ContentType=_JSON)
        return self._url(key)

    def names(self, prefix: str) -> list[str]:
        what = f"S3: list {self._url(self.prefix + prefix)}"
        paginator = self._s3(what).get_paginator("list_objects_v2")
        with _missing(f"{what}: {_no_bucket(self.bucket)}"), _aws.translated(what):
            # The paginator follows ContinuationToken itself; every page is read.
            pages = paginator.paginate(Bucket=self.bucket, Prefix=self.prefix + prefix)
            keys = [str(item["Key"]) for page in pages for item in page.get("Contents", ())]
        return sorted(key.removeprefix(self.prefix) for key in keys)

    def get(self, name: str) -> bytes:
        key = self.prefix + checked_name(name)
        what = f"S3: read {self._url(key)}"
        s3 = self._s3(what)
        with _missing(_no_object(what, self.bucket)), _aws.translated(what):
            data: bytes = s3.get_object(Bucket=self.bucket, Key=key)["Body"].read()
        return data


def _no_bucket(bucket: str) -> str:
    return f"bucket {bucket} does not exist, or these credentials cannot see it"


def _no_object(what: str, bucket: str) -> str:
    return f"{what}: no such object (or no bucket {bucket})"


@contextmanager
def _missing(message: str) -> Iterator[None]:
    """NotFound, reworded: the SDKs' own words for it name URLs and status tuples."""
    try:
        yield
    except NotFound:
        raise NotFound(message) from None


__all__ = [
    "DirectoryReportStore",
    "GcsReportStore",
    "S3ReportStore",
    "checked_name",
    "open_report_store",
    "shown_location",
]
