"""Route53 records for ``dns.switch``, through botocore.

A zone is named by its id ("Z0123...", with or without "/hostedzone/") or by its domain
("example.com."), which is looked up once. A change reads the live record and applies nothing
unless it is what drill expects; then it is one change batch whose first change is the
precondition: a DELETE of the record set exactly as read, then a CREATE of the new one (a CREATE
alone when there was none, a DELETE alone to remove it). Route53 applies a batch whole or not at
all, and refuses a DELETE that does not match the current record exactly or a CREATE of one that
exists, so a change someone makes between the read and the batch is refused (InvalidChangeBatch,
a Conflict), never overwritten as an UPSERT would. Route53 reports the change PENDING until
INSYNC.

Only simple records are handled: alias records and records with a routing policy (weighted,
latency, failover, geolocation: anything with a SetIdentifier) are refused, never rewritten.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from drill.errors import Conflict, NotFound, PermanentError
from providers._aws import AwsClients, translated
from providers.cloud import CloudSettings
from providers.protocols import PendingChange, RecordSet

_ZONE_ID = re.compile(r"^(?:/hostedzone/)?([A-Z0-9]{1,32})$")
_ESCAPE = re.compile(r"\\(\d{3})")  # Route53 writes "*" and other odd characters as \052
# Types whose values are domain names: Route53 keeps what was sent, with or without the dot.
_NAME_VALUED = frozenset({"CNAME", "NS", "PTR"})
_INSYNC = "INSYNC"
_ZONE_PAGE = "100"


class Route53Dns:
    def __init__(self, settings: CloudSettings, *, clients: AwsClients | None = None) -> None:
        self._clients = clients or AwsClients(settings)
        self._zone_ids: dict[str, str] = {}

    def _route53(self, what: str) -> Any:
        return self._clients.client("route53", None, what)

    # --- zones ----------------------------------------------------------------------------

    def _zone_id(self, zone: str) -> str:
        matched = _ZONE_ID.match(zone)
        if matched:
            return matched.group(1)
        if zone not in self._zone_ids:
            self._zone_ids[zone] = self._zone_by_name(zone)
        return self._zone_ids[zone]

    def _zone_by_name(self, zone: str) -> str:
        what = f"Route53: find hosted zone {zone}"
        route53 = self._route53(what)
        with translated(what):
            page = route53.list_hosted_zones_by_name(DNSName=_canonical(zone), MaxItems=_ZONE_PAGE)
        # The listing starts at the name and goes on in name order: keep the exact matches.
        found = [z for z in page.get("HostedZones", ()) if same_name(z["Name"], zone)]
        if not found:
            raise NotFound(f"{what}: no hosted zone is named {fqdn(zone)}")
        if len(found) > 1:
            ids = ", ".join(f"{_bare_id(z['Id'])} ({_visibility(z)})" for z in found)
            raise PermanentError(
                f"{what}: {len(found)} hosted zones are named {fqdn(zone)} ({ids}); "
                "name the zone by its id"
            )
        return _bare_id(found[0]["Id"])

    def nameservers(self, zone: str) -> tuple[str, ...]:
        """The nameservers of the hosted zone's delegation set."""
        what = f"Route53: read hosted zone {zone}"
        zone_id = self._zone_id(zone)
        route53 = self._route53(what)
        with translated(what):
            found = route53.get_hosted_zone(Id=zone_id)
        return tuple((found.get("DelegationSet") or {}).get("NameServers") or ())

    # --- records --------------------------------------------------------------------------

    def get_record(self, zone: str, name: str, type_: str) -> RecordSet | None:
        live = self._live(zone, name, type_)
        return _record(name, type_, live) if live is not None else None

    def _live(self, zone: str, name: str, type_: str) -> Mapping[str, Any] | None:
        """The live record set exactly as Route53 holds it, or None."""
        what = f"Route53: read {type_} {fqdn(name)} in zone {zone}"
        zone_id = self._zone_id(zone)
        route53 = self._route53(what)
        with translated(what):
            page = route53.list_resource_record_sets(
                HostedZoneId=zone_id, StartRecordName=name, StartRecordType=type_, MaxItems="1"
            )
        # The listing starts at (name, type): its first entry is the record, or the next one.
        for listed in page.get("ResourceRecordSets", ())[:1]:
            if same_name(listed["Name"], name) and listed["Type"] == type_.upper():
                _require_simple(listed, what)
                return dict(listed)
        return None

    def change_record(
        self, zone: str, current: RecordSet | None, new: RecordSet | None
    ) -> PendingChange:
        subject = current or new
        if subject is None:
            raise PermanentError(f"Route53: zone {zone}: a change needs a record to set or remove")
        what = f"Route53: change {subject.type} {subject.name} in zone {zone}"
        live = self._live(zone, subject.name, subject.type)
        seen = _record(subject.name, subject.type, live) if live is not None else None
        _require_unchanged(what, current, seen)
        changes = _changes(live, new)
        route53 = self._route53(what)
        with translated(what):
            answer = route53.change_resource_record_sets(
                HostedZoneId=self._zone_id(zone),
                ChangeBatch={"Comment": "drill dns.switch", "Changes": changes},
            )
        return _pending(answer["ChangeInfo"])

    def change_status(self, zone: str, change_id: str) -> PendingChange:
        what = f"Route53: status of change {change_id} (zone {zone})"
        route53 = self._route53(what)
        with translated(what):
            answer = route53.get_change(Id=change_id)
        return _pending(answer["ChangeInfo"])


def _require_simple(listed: Mapping[str, Any], what: str) -> None:
    if "AliasTarget" in listed:
        kind = "an alias record"
    elif "SetIdentifier" in listed:
        kind = f"a record with a routing policy (SetIdentifier {listed['SetIdentifier']!r})"
    else:
        return
    raise PermanentError(
        f"{what}: it is {kind}; dns.switch handles simple records only (name, type, TTL, values)"
    )


def _require_unchanged(what: str, current: RecordSet | None, live: RecordSet | None) -> None:
    if (current is None and live is None) or (current is not None and current.same_as(live)):
        return
    raise Conflict(
        f"{what}: the record changed since drill read it (drill read {_show(current)}, "
        f"now {_show(live)}); nothing applied"
    )


def _changes(live: Mapping[str, Any] | None, new: RecordSet | None) -> list[dict[str, Any]]:
    """The batch: the live record set deleted exactly as Route53 gave it (the precondition),
    then the new one created."""
    changes = []
    if live is not None:
        changes.append({"Action": "DELETE", "ResourceRecordSet": dict(live)})
    if new is not None:
        changes.append({"Action": "CREATE", "ResourceRecordSet": _record_set(new)})
    return changes


def _record_set(record: RecordSet) -> dict[str, Any]:
    return {
        "Name": record.name,
        "Type": record.type,
        "TTL": record.ttl,
        "ResourceRecords": [{"Value": value} for value in record.rrdatas],
    }


def _record(name: str, type_: str, listed: Mapping[str, Any]) -> RecordSet:
    """drill's record under the caller's own spelling of the name (Route53 lower-cases and
    escapes it), with domain-name values fully qualified."""
    kind = str(listed["Type"])
    values = tuple(str(r["Value"]) for r in listed.get("ResourceRecords", ()))
    if kind in _NAME_VALUED:
        values = tuple(fqdn(v) for v in values)
    return RecordSet(name=fqdn(name), type=type_, ttl=int(listed.get("TTL", 0)), rrdatas=values)


def _pending(info: Mapping[str, Any]) -> PendingChange:
    status = str(info.get("Status", ""))
    return PendingChange(id=_bare_id(str(info["Id"])), done=status == _INSYNC, status=status)


def _show(record: RecordSet | None) -> str:
    return f"{', '.join(record.rrdatas)} ttl {record.ttl}" if record else "no record"


def same_name(a: str, b: str) -> bool:
    """Equal as DNS names: case, a trailing dot and Route53's octal escapes do not matter."""
    return _canonical(a) == _canonical(b)


def _canonical(name: str) -> str:
    return fqdn(_ESCAPE.sub(lambda m: chr(int(m.group(1), 8)), name)).lower()


def fqdn(name: str) -> str:
    return name if name.endswith(".") else f"{name}."


def _bare_id(route53_id: str) -> str:
    """ "/hostedzone/Z123" and "/change/C456" as the bare ids the API also accepts."""
    return route53_id.rsplit("/", 1)[-1]


def _visibility(zone: Mapping[str, Any]) -> str:
    return "private" if (zone.get("Config") or {}).get("PrivateZone") else "public"
