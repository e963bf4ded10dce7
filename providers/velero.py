"""Velero's CRs (velero.io/v1) in one context's Velero namespace, over the kube client.

Restores are created with a spec only (never a status: Velero CRs have no status subresource, and
a client-written status would be trusted). Waiting on a restore is a watch, restarted from a fresh
list when the API server ends it or its history expires, so a stuck restore is seen in the phase
it is stuck in.
"""

from __future__ import annotations

import base64
import gzip
import threading
import uuid
import zlib
from collections.abc import Iterator
from datetime import datetime
from typing import Any

import urllib3

from drill.errors import NotFound, PermanentError, TransientError
from drill.fieldtypes import label_selector_object
from drill.redact import redact_url
from providers._net import network_reason
from providers.kube import KubeAdapter
from providers.protocols import BackupInfo, RestoreRequest, RestoreStatus, StorageLocationInfo

GROUP, VERSION = "velero.io", "v1"
SCHEDULE_LABEL = "velero.io/schedule-name"
# Velero's custom resources, as CustomObjectsApi would address them.
COLLECTION = "/apis/{group}/{version}/namespaces/{namespace}/{plural}"
_QUERY = {"label_selector": "labelSelector", "field_selector": "fieldSelector"}
_DOWNLOAD_POLL_S = 0.2
_MAX_DOWNLOAD_BYTES = 64 << 20  # a resource list of a very large backup, unzipped


class VeleroAdapter:
    def __init__(self, kube: KubeAdapter, namespace: str) -> None:
        self.kube = kube
        self.namespace = namespace

    def _list(self, plural: str, **selectors: str) -> dict[str, Any]:
        result: dict[str, Any] = self.kube.request(
            f"list {plural} in {self.namespace}",
            "GET",
            COLLECTION,
            params=self._where(plural),
            query=[(_QUERY[key], value or None) for key, value in selectors.items()],
        )
        return result

    def _get(self, plural: str, name: str) -> dict[str, Any] | None:
        try:
            found: dict[str, Any] = self.kube.request(
                f"read {plural} {self.namespace}/{name}",
                "GET",
                COLLECTION + "/{name}",
                params={**self._where(plural), "name": name},
            )
        except NotFound:
            return None
        return found

    def _where(self, plural: str) -> dict[str, str]:
        return {"group": GROUP, "version": VERSION, "namespace": self.namespace, "plural": plural}

    def backups(self, *, schedule: str | None, selector: str | None) -> list[BackupInfo]:
        label_selector = f"{SCHEDULE_LABEL}={schedule}" if schedule else (selector or "")
        listed = self._list("backups", label_selector=label_selector)
        return [backup_info(item) for item in listed.get("items", [])]

    def backup(self, name: str) -> BackupInfo | None:
        found = self._get("backups", name)
        return backup_info(found) if found else None

    def storage_location(self, name: str) -> StorageLocationInfo | None:
        found = self._get("backupstoragelocations", name)
        if found is None:
            return None
        status = found.get("status") or {}
        return StorageLocationInfo(
            name=name,
            phase=str(status.get("phase", "Unknown")),
            last_validated_at=parse_time(status.get("lastValidationTime")),
        )

    def create_restore(self, request: RestoreRequest) -> None:
        self.kube.request(
            f"create restore {self.namespace}/{request.name}",
            "POST",
            COLLECTION,
            params=self._where("restores"),
            body=restore_manifest(request, self.namespace),
        )

    def watch_restore(self, name: str, timeout_s: float) -> Iterator[RestoreStatus]:
        where = f"restore {self.namespace}/{name}"
        for found in self.kube.follow(where, COLLECTION, self._where("restores"), name, timeout_s):
            if found is None:
                raise NotFound(f"{self.kube.context}: {where} is gone")
            yield restore_status(found)

    def restore(self, name: str) -> RestoreStatus | None:
        # Listed by name rather than read: drill's role may list restores, not get them.
        listed = self._list("restores", field_selector=f"metadata.name={name}")
        items = listed.get("items") or []
        return restore_status(items[0]) if items else None

    def delete_restore(self, name: str) -> None:
        try:
            self.kube.request(
                f"delete restore {self.namespace}/{name}",
                "DELETE",
                COLLECTION + "/{name}",
                params={**self._where("restores"), "name": name},
            )
        except NotFound:
            return

    def download(self, kind: str, name: str, timeout_s: float) -> bytes:
        """As ``velero describe --details`` reads it: a DownloadRequest, its pre-signed URL
        once Velero processed it, the gzipped file from there. The request is deleted after."""
        request = f"{name[:200]}-{uuid.uuid4().hex[:10]}"
        self.kube.request(
            f"create downloadrequest {self.namespace}/{request}",
            "POST",
            COLLECTION,
            params=self._where("downloadrequests"),
            body={
                "apiVersion": f"{GROUP}/{VERSION}",
                "kind": "DownloadRequest",
                "metadata": {"name": request, "namespace": self.namespace},
                "spec": {"target": {"kind": kind, "name": name}},
            },
        )
        try:
            url = self._download_url(request, kind, name, timeout_s)
            return _fetch(url, kind, name, timeout_s, self._bucket_ca(kind, name))
        finally:
            self._delete_quietly("downloadrequests", request)

    def _bucket_ca(self, kind: str, name: str) -> str | None:
        """The CA the file's bucket serves under when its storage location names one
        (``objectStorage.caCert``, as for MinIO or another private store); None: the system's.
        The location is the backup's: for a restore's files, the backup it restored."""
        backup = name
        if kind.startswith("Restore"):
            listed = self._list("restores", field_selector=f"metadata.name={name}")
            items = listed.get("items") or []
            backup = str((items[0].get("spec") or {}).get("backupName") or "") if items else ""
        found = self.backup(backup) if backup else None
        if found is None:
            return None
        location = self._get("backupstoragelocations", found.storage_location) or {}
        encoded = ((location.get("spec") or {}).get("objectStorage") or {}).get("caCert")
        if not encoded:
            return None
        try:
            return base64.b64decode(str(encoded), validate=True).decode("ascii")
        except (ValueError, UnicodeDecodeError):
            raise PermanentError(
                f"{self.kube.context}: backup storage location {found.storage_location}: "
                "objectStorage.caCert is not base64-encoded PEM"
            ) from None

    def _download_url(self, request: str, kind: str, name: str, timeout_s: float) -> str:
        deadline = self.kube.clock.monotonic() + timeout_s
        while True:
            found = self._get("downloadrequests", request) or {}
            status = found.get("status") or {}
            if status.get("phase") == "Processed" and status.get("downloadURL"):
                return str(status["downloadURL"])
            if self.kube.clock.monotonic() >= deadline:
                raise TransientError(
                    f"{self.kube.context}: Velero did not process a DownloadRequest for {kind} "
                    f"{name} within {timeout_s:g}s (is {name} there, with its storage location?)"
                )
            self.kube.clock.sleep(_DOWNLOAD_POLL_S, threading.Event())

    def _delete_quietly(self, plural: str, name: str) -> None:
        try:
            self.kube.request(
                f"delete {plural} {self.namespace}/{name}",
                "DELETE",
                COLLECTION + "/{name}",
                params={**self._where(plural), "name": name},
            )
        except (NotFound, TransientError, PermanentError):
            return  # it expires on its own: Velero deletes expired requests


def _fetch(url: str, kind: str, name: str, timeout_s: float, ca_pem: str | None) -> bytes:
    what = f"{kind} of {name} from {redact_url(url)}"
    pool = urllib3.PoolManager(retries=False, ca_cert_data=ca_pem)
    try:
        response = pool.request(
            "GET", url, timeout=urllib3.Timeout(total=max(timeout_s, 1.0)), preload_content=False
        )
        body = response.read(_MAX_DOWNLOAD_BYTES + 1)
        response.release_conn()
    except urllib3.exceptions.HTTPError as exc:
        raise TransientError(f"{what}: {network_reason(exc)}") from None
    if response.status != 200:
        raise PermanentError(f"{what}: HTTP {response.status} (the file is not in the bucket)")
    try:
        unzipped = gzip.decompress(body)
    except (OSError, EOFError, zlib.error):
        raise PermanentError(f"{what}: not a gzip file") from None
    if len(unzipped) > _MAX_DOWNLOAD_BYTES:
        raise PermanentError(f"{what}: larger than {_MAX_DOWNLOAD_BYTES >> 20} MiB")
    return unzipped


def restore_manifest(request: RestoreRequest, namespace: str) -> dict[str, Any]:
    spec: dict[str, Any] = {
        "includedNamespaces": list(request.included_namespaces) or ["*"],
        "namespaceMapping": dict(request.namespace_mapping),
        "restorePVs": request.restore_pvs,
        "includeClusterResources": request.include_cluster_resources,
        "existingResourcePolicy": request.existing_resource_policy,
    }
    if request.backup_name:
        spec["backupName"] = request.backup_name
    else:
        spec["scheduleName"] = request.schedule_name
    optional = {
        "includedResources": list(request.included_resources),
        "excludedNamespaces": list(request.excluded_namespaces),
        "excludedResources": list(request.excluded_resources),
        "labelSelector": _label_selector(request.label_selector),
        "itemOperationTimeout": go_duration(request.item_operation_timeout_s),
    }
    spec.update({key: value for key, value in optional.items() if value})
    return {
        "apiVersion": f"{GROUP}/{VERSION}",
        "kind": "Restore",
        "metadata": {"name": request.name, "namespace": namespace, "labels": dict(request.labels)},
        "spec": spec,
    }


def go_duration(seconds: float | None) -> str | None:
    """Seconds as Go's time.Duration prints them (``1h0m0s``, ``1m30s``, ``500ms``), the form
    Velero's duration fields take; whole milliseconds."""
    if seconds is None:
        return None
    millis = round(seconds * 1000)
    if millis < 1000:
        return f"{millis}ms" if millis else "0s"
    hours, rest = divmod(millis, 3_600_000)
    minutes, rest = divmod(rest, 60_000)
    whole, fraction = divmod(rest, 1000)
    secs = f"{whole}.{fraction:03d}".rstrip("0").rstrip(".") + "s"
    if hours:
        return f"{hours}h{minutes}m{secs}"
    return f"{minutes}m{secs}" if minutes else secs


def _label_selector(selector: str | None) -> dict[str, Any] | None:
    """Velero takes a LabelSelector object; plans write the selector's text (validated)."""
    return label_selector_object(selector) if selector else None


def backup_info(item: dict[str, Any]) -> BackupInfo:
    metadata, spec, status = (
        item.get("metadata", {}),
        item.get("spec", {}),
        item.get("status") or {},
    )
    return BackupInfo(
        name=str(metadata.get("name", "")),
        phase=str(status.get("phase", "New")),
        storage_location=str(spec.get("storageLocation") or "default"),
        started_at=parse_time(status.get("startTimestamp")),
        completed_at=parse_time(status.get("completionTimestamp")),
        schedule=(metadata.get("labels") or {}).get(SCHEDULE_LABEL),
        included_namespaces=tuple(spec.get("includedNamespaces") or ()),
    )


def restore_status(item: dict[str, Any]) -> RestoreStatus:
    status = item.get("status") or {}
    progress = status.get("progress") or {}
    return RestoreStatus(
        name=str(item.get("metadata", {}).get("name", "")),
        phase=str(status.get("phase") or "New"),
        warnings=int(status.get("warnings") or 0),
        errors=int(status.get("errors") or 0),
        items_restored=int(progress.get("itemsRestored") or 0),
        total_items=int(progress.get("totalItems") or 0),
        failure_reason=str(status.get("failureReason") or ""),
        validation_errors=tuple(status.get("validationErrors") or ()),
        started_at=parse_time(status.get("startTimestamp")),
        completed_at=parse_time(status.get("completionTimestamp")),
    )


def parse_time(value: object) -> datetime | None:
    if not isinstance(value, str) or not value:
        return None
    return datetime.fromisoformat(value.replace("Z", "+00:00"))
