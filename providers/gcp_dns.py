"""Cloud DNS records for ``dns.switch``, through google-cloud-dns.

One adapter per project. Reads ask the API for one name and type; a switch is one change that
deletes exactly the record drill read and adds the new one, so Cloud DNS itself refuses (412,
nothing applied) when someone changed the record in between. The adapter submits and reports
status; waiting for ``done`` is the caller's job, so nothing here sleeps.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from functools import cached_property
from typing import Any

from drill.errors import Conflict
from providers._google import credentials, translated
from providers.cloud import CloudSettings
from providers.protocols import PendingChange, RecordSet

_DONE = "done"


class CloudDnsAdapter:
    """Cloud DNS in one project. The client is built on first use."""

    def __init__(self, settings: CloudSettings, project: str) -> None:
        self.settings = settings
        self.project = project

    @cached_property
    def _client(self) -> Any:
        from google.cloud import dns

        options = (
            {"api_endpoint": self.settings.dns_endpoint} if self.settings.dns_endpoint else None
        )
        with translated(f"Cloud DNS: sign in (project {self.project})"):
            return dns.Client(
                project=self.project, credentials=credentials(self.settings), client_options=options
            )

    def get_record(self, zone: str, name: str, type_: str) -> RecordSet | None:
        fqdn = _fully_qualified(name)
        with translated(self._doing(f"read {type_} {fqdn}", zone)):
            found = [
                _record_set(rrset)
                for rrset in self._rrsets(zone, fqdn, type_)  # every page
                if rrset.name.lower() == fqdn.lower() and rrset.record_type == type_
            ]
        return found[0] if found else None

    def nameservers(self, zone: str) -> tuple[str, ...]:
        """The nameservers Cloud DNS serves the managed zone from."""
        with translated(self._doing("read the zone", zone)):
            managed = self._managed_zone(zone)
            managed.reload()
        return tuple(managed.name_servers or ())

    def change_record(
        self, zone: str, current: RecordSet | None, new: RecordSet | None
    ) -> PendingChange:
        shown = new or current
        if shown is None:
            raise ValueError("a DNS change needs a record to delete, to add, or both")
        doing = self._doing(f"change {shown.type} {shown.name}", zone)
        with translated(doing):
            change = self._managed_zone(zone).changes()
            if current is not None:
                change.delete_record_set(self._rrset(zone, current))
            if new is not None:
                change.add_record_set(self._rrset(zone, new))
            with _refused_as_conflict(doing):
                change.create()
        return _pending(change)

    def change_status(self, zone: str, change_id: str) -> PendingChange:
        with translated(self._doing(f"read change {change_id}", zone)):
            change = self._managed_zone(zone).changes()
            change.name = change_id  # the library's way to address an existing change
            change.reload()
        return _pending(change)

    def _managed_zone(self, zone: str) -> Any:
        return self._client.zone(zone)

    def _rrsets(self, zone: str, name: str, type_: str) -> Any:
        iterator = self._managed_zone(zone).list_resource_record_sets()
        # google-cloud-dns has no argument for the API's name/type filters; the page iterator's
        # public ``extra_params`` carries them, so the answer is one record, not the whole zone.
        iterator.extra_params.update({"name": name, "type": type_})
        return iterator

    def _rrset(self, zone: str, record: RecordSet) -> Any:
        managed_zone = self._managed_zone(zone)
        return managed_zone.resource_record_set(
            _fully_qualified(record.name), record.type, record.ttl, list(record.rrdatas)
        )

    def _doing(self, action: str, zone: str) -> str:
        return f"Cloud DNS: {action} in zone {zone} (project {self.project})"


@contextmanager
def _refused_as_conflict(doing: str) -> Iterator[None]:
    """The refusals that mean "the record is not what drill read"; Cloud DNS applied nothing."""
    from google.api_core import exceptions as api

    try:
        yield
    except api.PreconditionFailed as exc:
        raise Conflict(
            f"{doing}: the record no longer matches what drill read (changed since); "
            f"nothing was applied ({_cloud_words(exc)})"
        ) from None
    except api.Conflict as exc:
        raise Conflict(
            f"{doing}: a record exists where drill read none (created since); "
            f"nothing was applied ({_cloud_words(exc)})"
        ) from None
    except api.NotFound as exc:
        if "entity.change.deletions" not in exc.message:
            raise  # the zone or project is missing: translated() says NotFound
        raise Conflict(
            f"{doing}: the record drill read no longer exists (deleted since); "
            f"nothing was applied ({_cloud_words(exc)})"
        ) from None


def _cloud_words(exc: Any) -> str:
    """The API's own message, without the "POST https://...: " the client puts before it."""
    method, _, rest = str(exc.message).partition(" ")
    return rest.split(": ", 1)[-1] if method.isupper() and ": " in rest else str(exc.message)


def _pending(change: Any) -> PendingChange:
    status = str(change.status or "")
    return PendingChange(id=str(change.name), done=status == _DONE, status=status)


def _record_set(rrset: Any) -> RecordSet:
    return RecordSet(
        name=str(rrset.name),
        type=str(rrset.record_type),
        ttl=int(rrset.ttl),
        rrdatas=tuple(str(value) for value in rrset.rrdatas),
    )


def _fully_qualified(name: str) -> str:
    return name if name.endswith(".") else f"{name}."
