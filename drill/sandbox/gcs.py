"""The sandbox's Cloud Storage: gcp-storage-emulator in this process, seeded with backups.

The emulator speaks the GCS JSON API that google-cloud-storage uses. It cannot set an
object's creation time through that API, so backups are written through its own storage
layer and dated there: a backup "written an hour ago" must look an hour old.
"""

from __future__ import annotations

import contextlib
import email.message
import functools
import http.server
import logging
import re
import socket
import threading
import urllib.parse
from datetime import datetime, timedelta
from typing import Any

from drill.clock import Clock
from drill.sandbox.emulator import Emulator, send_json

_RFC3339 = "%Y-%m-%dT%H:%M:%S.%fZ"


class GcsSandbox(Emulator):
    def __init__(self, clock: Clock) -> None:
        from gcp_storage_emulator.server import create_server

        logging.getLogger("gcp_storage_emulator").setLevel(logging.WARNING)
        self.clock = clock
        self._server: Any = create_server("127.0.0.1", 0, in_memory=True)
        self._server._api = _api_thread(self._server._storage)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server._api._httpd.server_address[1]}"

    @property
    def _storage(self) -> Any:
        return self._server._storage

    def start(self) -> GcsSandbox:
        self._server.start()
        return self

    def stop(self) -> None:
        """Stops the server at once. It checks for a shutdown only between requests or every
        half second (socketserver's default poll): connections wake it until it has stopped,
        instead of every sandbox waiting up to that half second to stop."""
        httpd = self._server._api._httpd
        if httpd is None:  # never started: nothing to wake
            self._server.stop()
            return
        address = httpd.server_address
        stopping = threading.Thread(target=self._server.stop, name="sandbox-gcs-stop")
        stopping.start()
        while stopping.is_alive():
            with contextlib.suppress(OSError):  # refused once it is closed: stopped
                socket.create_connection(address, timeout=0.1).close()
            stopping.join(0.01)

    def create_bucket(self, name: str) -> None:
        from gcp_storage_emulator.handlers import buckets

        if name not in self._storage.buckets:
            buckets.create_bucket(name, self._storage)
            # Soft delete off (as ``gcloud storage buckets update --clear-soft-delete`` leaves
            # a bucket): with GCS's default of 7 days, every object the sandbox's retention
            # deletes would stay in memory for the rest of its life.
            self._storage.buckets[name]["softDeletePolicy"] = {"retentionDurationSeconds": "0"}

    def put_object(
        self,
        bucket: str,
        name: str,
        size: int,
        age_s: float,
        metadata: dict[str, str],
        content: bytes | None = None,
    ) -> None:
        """An object ``size`` bytes long (or holding ``content``) that was created ``age_s``
        seconds ago."""
        created = (self.clock.now() - timedelta(seconds=age_s)).strftime(_RFC3339)
        checksums = _zeros_checksums(size) if content is None else _checksums_of(content)
        content = b"\0" * size if content is None else content
        size = len(content)
        record = {
            "kind": "storage#object",
            "name": name,
            "bucket": bucket,
            "id": f"{bucket}/{name}/1",
            "generation": "1",
            "metageneration": "1",
            "contentType": "application/octet-stream",
            "size": str(size),
            "timeCreated": created,
            "updated": created,
            "metadata": dict(metadata),
            "storageClass": "STANDARD",
            **checksums,
        }
        self._storage.create_file(bucket, name, content, record)

    def delete_object(self, bucket: str, name: str) -> None:
        """Delete an object as a DELETE request would (a lifecycle rule's deletion)."""
        self._storage.delete_file(bucket, name)

    def objects(self, bucket: str) -> dict[str, dict[str, Any]]:
        """Ground truth: every object's record, by name."""
        return {k: dict(v) for k, v in self._storage.objects.get(bucket, {}).items()}

    def created_at(self, bucket: str, name: str) -> datetime:
        raw = self._storage.objects[bucket][name]["timeCreated"]
        return datetime.strptime(raw, _RFC3339).replace(tzinfo=self.clock.now().tzinfo)


def _checksums_of(content: bytes) -> dict[str, str]:
    """The MD5, CRC32C and etag Cloud Storage gives every object; clients rely on them (gcloud
    storage cp and mv of an object without them fail before sending anything). The
    emulator's own helper computes them, as it does for an upload."""
    from gcp_storage_emulator.handlers.objects import _checksums

    found: dict[str, str] = _checksums(content, {})
    return found


@functools.lru_cache(maxsize=8)
def _zeros_checksums(size: int) -> dict[str, str]:
    """Those of a seeded backup (``size`` zero bytes), computed once per size: a world with
    retention seeds hundreds of megabyte-sized backups."""
    return _checksums_of(b"\0" * size)


def _api_thread(storage: Any) -> Any:
    """The emulator's API thread, serving through a handler that reads multipart bodies as
    Cloud Storage does. Not a daemon thread in the emulator; marked so, a crashed test cannot
    hang the process."""
    from gcp_storage_emulator.server import APIThread, RequestHandler

    class Handler(RequestHandler):  # type: ignore[misc]  # the emulator is untyped
        def parse_request(self) -> bool:
            parsed: bool = super().parse_request()
            if parsed:
                _unquote_boundary(self.headers)
            return parsed

        def do_GET(self) -> None:  # noqa: N802 - the name http.server dispatches GET to
            layout = _STORAGE_LAYOUT.fullmatch(urllib.parse.urlsplit(self.path).path)
            if layout is None:
                super().do_GET()
                return
            send_json(self, *_storage_layout(storage, layout["bucket"]))

    class Api(APIThread):  # type: ignore[misc]
        def run(self) -> None:
            self._httpd = http.server.HTTPServer(
                (self._host, self._port), functools.partial(Handler, self._storage)
            )
            self.is_running.set()
            self._httpd.serve_forever()

    thread = Api("127.0.0.1", 0, storage)
    thread.daemon = True
    return thread


_STORAGE_LAYOUT = re.compile(r"/storage/v1/b/(?P<bucket>[^/]+)/storageLayout")


def _storage_layout(storage: Any, bucket: str) -> tuple[int, dict[str, Any]]:
    """buckets.getStorageLayout, which the emulator lacks: gcloud storage mv and rename ask it
    first (whether the bucket has a hierarchical namespace) and give up on a 404."""
    record = storage.buckets.get(bucket)
    if record is None:
        message = "The specified bucket does not exist."
        error = {"code": 404, "message": message, "errors": [{"reason": "notFound"}]}
        return 404, {"error": error}
    return 200, {
        "kind": "storage#storageLayout",
        "bucket": bucket,
        "location": record.get("location", "US"),
        "locationType": record.get("locationType", "multi-region"),
        "hierarchicalNamespace": {"enabled": False},  # a flat bucket, as the emulator keeps
    }


_SINGLE_QUOTED_BOUNDARY = re.compile(r"(;\s*boundary=)'([^']*)'")


def _unquote_boundary(headers: email.message.Message) -> None:
    """gcloud storage sends ``multipart/related; boundary='===...=='``: Cloud Storage takes
    it, Python's MIME parser (which the emulator reads uploads with) knows only double quotes
    and would read the quotes as part of the boundary, find no parts, and fail the upload."""
    content_type = headers.get("Content-Type")
    if content_type and content_type.startswith("multipart/"):
        headers.replace_header("Content-Type", _SINGLE_QUOTED_BOUNDARY.sub(r'\1"\2"', content_type))
