"""A Cloud DNS (v1 REST) emulator: managed zones, record sets and changes, over real HTTP.

It serves what google-cloud-dns and gcloud send (``/dns/v1/projects/{p}/managedZones/...``): get
and list zones, list rrsets (``maxResults``/``pageToken`` paging, ``name``/``type`` filters),
get, create, patch and delete one rrset (``rrsets/{name}/{type}``), create, get and list
changes. A change is validated and applied atomically when it is submitted, as the real service
does: every deletion must be the current record exactly (name, type, TTL and the set of
rrdatas), else 412 ``conditionNotMet`` (404 when the record is gone) and nothing is applied; an
addition over a record that stays is 409 ``alreadyExists``; the apex SOA and NS stay (400
``invalidZoneApex``). The rrsets methods are changes too (create adds, patch replaces, delete
removes the current record), listed among the zone's changes and timed like them. A change
reads ``pending`` for ``change_delay_s`` (by the injected clock) and ``done`` after; the
nameservers (``answer``, served over UDP by ``DnsResponder``) see it ``propagation_delay_s``
later still.

The sandbox seeds zones and records in Python (``add_zone``, ``set_record``), reads ground truth
(``record``, ``truth``) and injects faults (``stuck_changes``, ``fail_requests``, ``deny``).
This module must not import a DNS or Google client library: it is the server side.
"""

from __future__ import annotations

import ipaddress
import math
import threading
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

from drill.clock import Clock
from drill.sandbox.emulator import Emulator
from drill.sandbox.gcp._http import GoogleApiError, JsonHttpServer, Request

_ZONE = r"/dns/v1/projects/(?P<project>[^/]+)/managedZones/(?P<zone>[^/]+)"
_RRSET = _ZONE + r"/rrsets/(?P<name>[^/]+)/(?P<type>[^/]+)"
# The rrsets methods' body is this one entity, and their errors name it.
_RRSET_ENTITY = "entity.resourceRecordSet"
_APEX_ONLY = frozenset({"SOA", "NS"})  # a zone holds exactly one of each, at its apex
_NAME_SERVERS = tuple(f"ns-cloud-a{n}.googledomains.com." for n in range(1, 5))
_SOA_TTL_S = 21600
_MAX_PAGE_SIZE = 1000
_TYPES = frozenset({
    "A", "AAAA", "ALIAS", "CAA", "CNAME", "DNSKEY", "DS", "HTTPS", "IPSECKEY", "MX", "NAPTR",
    "NS", "PTR", "SOA", "SPF", "SRV", "SSHFP", "SVCB", "TLSA", "TXT",
})  # fmt: skip
_CNAME_HOPS = 8

Rcode = Literal["NOERROR", "NXDOMAIN", "REFUSED"]


@dataclass(frozen=True)
class DnsRecord:
    """One resource record set, as Cloud DNS stores it."""

    name: str
    type: str
    ttl: int
    rrdatas: tuple[str, ...]

    @property
    def key(self) -> tuple[str, str]:
        return (self.name.lower(), self.type)

    def matches(self, other: DnsRecord) -> bool:
        """Equal as Cloud DNS compares a deletion: rrdatas as a set."""
        return (self.key, self.ttl, set(self.rrdatas)) == (other.key, other.ttl, set(other.rrdatas))

    def resource(self) -> dict[str, Any]:
        return {
            "kind": "dns#resourceRecordSet",
            "name": self.name,
            "type": self.type,
            "ttl": self.ttl,  # the API answers a number, whatever the request sent
            "rrdatas": list(self.rrdatas),
        }


@dataclass(frozen=True)
class ChangeTruth:
    """When a change submitted through the API really happened. ``None``: not (yet)."""

    project: str
    zone: str
    id: str
    submitted_at: datetime
    done_at: datetime | None
    visible_at: datetime | None  # when the nameservers began to answer it
    additions: tuple[DnsRecord, ...]
    deletions: tuple[DnsRecord, ...]


@dataclass(frozen=True)
class Answer:
    """What the zone's nameservers answer for one question."""

    rcode: Rcode
    records: tuple[DnsRecord, ...] = ()
    soa: DnsRecord | None = None  # the authority section of a negative answer


@dataclass
class _Change:
    id: str
    submitted_mono: float
    submitted_at: datetime
    additions: tuple[DnsRecord, ...]
    deletions: tuple[DnsRecord, ...]
    stuck: bool = False


@dataclass
class _Zone:
    project: str
    name: str
    dns_name: str
    id: str
    created_at: datetime
    records: dict[tuple[str, str], DnsRecord] = field(default_factory=dict)
    changes: list[_Change] = field(default_factory=list)
    # The nameservers that serve it (lower case, final dot); None: any nameserver asked does.
    nameservers: tuple[str, ...] | None = None
    # What the nameservers answer, per record: (visible from, value), in the order applied.
    served: dict[tuple[str, str], list[tuple[float, DnsRecord | None]]] = field(
        default_factory=dict
    )

    def contains(self, name: str) -> bool:
        lowered, apex = name.lower(), self.dns_name.lower()
        return lowered == apex or lowered.endswith("." + apex)


class CloudDnsEmulator(Emulator):
    """Cloud DNS for any number of projects. ``start()`` returns the REST root URL."""

    def __init__(
        self,
        clock: Clock,
        change_delay_s: float = 0.5,
        propagation_delay_s: float = 0.0,
        *,
        page_size: int = 100,
    ) -> None:
        self.clock = clock
        self.change_delay_s = change_delay_s
        self.propagation_delay_s = propagation_delay_s
        self.page_size = page_size  # rrsets per page when the request names no maxResults
        self._lock = threading.RLock()
        self._zones: dict[tuple[str, str], _Zone] = {}
        self._stuck = False
        self._server = JsonHttpServer("cloud-dns-emulator")
        self._add_routes()

    # --- lifecycle ----------------------------------------------------------------------------

    @property
    def url(self) -> str:
        """The endpoint for ``client_options={"api_endpoint": url}``."""
        return self._server.url

    @property
    def errors(self) -> list[str]:
        """Emulator bugs met while serving (answered as 500); tests assert this stays empty."""
        return self._server.errors

    def start(self) -> str:
        self._server.start()
        return self.url

    def stop(self) -> None:
        self._server.stop()

    # --- seeding and ground truth --------------------------------------------------------------

    def add_zone(
        self, project: str, name: str, dns_name: str, nameservers: Sequence[str] | None = None
    ) -> None:
        """A public zone with its SOA and NS records, as zone creation makes them.
        ``nameservers``: the only servers that answer for it (None: any server asked does;
        its NS records then name Cloud DNS's first set)."""
        apex = dns_name if dns_name.endswith(".") else f"{dns_name}."
        with self._lock:
            zone = _Zone(project, name, apex, _zone_id(len(self._zones)), self.clock.now())
            if nameservers is not None:
                zone.nameservers = tuple(nameserver_name(n) for n in nameservers)
            self._zones[(project, name)] = zone
            listed = zone.nameservers or _NAME_SERVERS
            initial = (_soa(apex), DnsRecord(apex, "NS", _SOA_TTL_S, listed))
            for record in initial:
                self._seed(zone, record)
            mono = self.clock.monotonic() - self.change_delay_s
            zone.changes.append(_Change("0", mono, zone.created_at, initial, ()))

    def set_record(
        self, project: str, zone: str, name: str, type: str, ttl: int, rrdatas: Sequence[str]
    ) -> None:
        """Set a record directly (no change, no delay): visible to the API and the nameservers."""
        fqdn = name if name.endswith(".") else f"{name}."
        with self._lock:
            managed = self._zone(project, zone)
            if not managed.contains(fqdn):
                raise ValueError(f"{fqdn} is not inside zone {zone} ({managed.dns_name})")
            self._seed(managed, DnsRecord(fqdn, type, ttl, tuple(rrdatas)))

    def record(self, project: str, zone: str, name: str, type: str) -> DnsRecord | None:
        """The record as the API holds it now, or None."""
        with self._lock:
            return self._zone(project, zone).records.get((name.lower(), type))

    @property
    def truth(self) -> list[ChangeTruth]:
        """Every change submitted through the API, oldest first, across zones."""
        with self._lock:
            changes = [(z, c) for z in self._zones.values() for c in z.changes if c.id != "0"]
            return sorted(
                (self._truth(z, c) for z, c in changes), key=lambda t: (t.submitted_at, t.id)
            )

    def served(self, name: str, type: str) -> tuple[DnsRecord | None, float]:
        """Ground truth: the record the nameservers answer now, and since when (monotonic, at
        full precision; -inf: since it was seeded)."""
        with self._lock:
            zone = self._zone_for(name)
            now = self.clock.monotonic()
            history = zone.served.get((name.lower(), type), []) if zone else []
            visible = [(since, value) for since, value in history if since <= now]
            return (visible[-1][1], visible[-1][0]) if visible else (None, -math.inf)

    def answer(self, name: str, type: str, nameserver: str | None = None) -> Answer:
        """What the nameservers answer now: the served records, not the API's view. Asked as
        ``nameserver`` (None: a server that serves every zone), a zone that names its
        nameservers and not this one is refused, as a server not authoritative for it does."""
        with self._lock:
            zone = self._zone_for(name)
            if zone is None or not _serves(zone, nameserver):
                return Answer("REFUSED")
            return self._answer_in(zone, name, type)

    # --- faults -------------------------------------------------------------------------------

    def stuck_changes(self, stuck: bool = True) -> None:
        """Changes submitted while this is on stay ``pending`` for ever (and are never served)."""
        with self._lock:
            self._stuck = stuck

    def fail_requests(
        self,
        count: int,
        status: int = 503,
        path_pattern: str = "*",
        *,
        method: str | None = None,
        message: str | None = None,
    ) -> None:
        """The next ``count`` requests whose path matches ``path_pattern`` (fnmatch) fail."""
        text = message or {503: "Backend Error"}.get(status)
        self._server.faults.fail(count, status, path_pattern, method=method, message=text)

    def deny(
        self,
        permission: str,
        resource: str,
        count: int = 1,
        path_pattern: str = "*",
        *,
        method: str | None = None,
    ) -> None:
        """The next ``count`` matching requests are refused with 403, naming ``permission``."""
        message = (
            f"Forbidden: Permission '{permission}' denied on resource '{resource}' "
            "(or it may not exist)."
        )
        self._server.faults.fail(
            count, 403, path_pattern, method=method, message=message, reason="forbidden"
        )

    # --- HTTP ---------------------------------------------------------------------------------

    def _add_routes(self) -> None:
        route = self._server.route
        route("GET", r"/dns/v1/projects/(?P<project>[^/]+)/managedZones", self._list_zones)
        route("GET", _ZONE, self._get_zone)
        route("GET", _ZONE + "/rrsets", self._list_rrsets)
        route("POST", _ZONE + "/rrsets", self._create_rrset)
        route("GET", _RRSET, self._get_rrset)
        route("PATCH", _RRSET, self._patch_rrset)
        route("DELETE", _RRSET, self._delete_rrset)
        route("POST", _ZONE + "/changes", self._create_change)
        route("GET", _ZONE + "/changes", self._list_changes)
        route("GET", _ZONE + "/changes/(?P<change>[^/]+)", self._get_change)

    def _list_zones(self, request: Request) -> tuple[int, Any]:
        project = request.params["project"]
        with self._lock:
            zones = [z for z in self._zones.values() if z.project == project]
            if not zones:
                raise _missing("parameters.project", project)
            listing = _Listing("dns#managedZonesListResponse", "managedZones", self._zone_resource)
            return 200, listing.page(zones, request.query, self.page_size)

    def _get_zone(self, request: Request) -> tuple[int, Any]:
        with self._lock:
            return 200, self._zone_resource(self._requested_zone(request))

    def _list_rrsets(self, request: Request) -> tuple[int, Any]:
        with self._lock:
            zone = self._requested_zone(request)
            records = _filtered(zone.records.values(), request.query)
            listing = _Listing("dns#resourceRecordSetsListResponse", "rrsets", DnsRecord.resource)
            return 200, listing.page(records, request.query, self.page_size)

    def _create_change(self, request: Request) -> tuple[int, Any]:
        body = request.body if isinstance(request.body, dict) else {}
        with self._lock:
            zone = self._requested_zone(request)
            deletions = _parse_all(body.get("deletions"), "deletions", zone)
            additions = _parse_all(body.get("additions"), "additions", zone)
            if not deletions and not additions:
                raise _required("entity.change")
            change = self._submit(zone, deletions, additions, _change_field)
            return 200, self._change_resource(change)

    # The rrsets methods answer the record set, not the change they make; the change is listed
    # and timed like any other, so a client polling changes sees them as it sees its own.

    def _get_rrset(self, request: Request) -> tuple[int, Any]:
        with self._lock:
            return 200, self._requested_rrset(request)[1].resource()

    def _create_rrset(self, request: Request) -> tuple[int, Any]:
        with self._lock:
            zone = self._requested_zone(request)
            record = _parse_rrset(request.body, _RRSET_ENTITY, zone)
            self._submit(zone, (), (record,), _rrset_field)
            return 200, record.resource()

    def _patch_rrset(self, request: Request) -> tuple[int, Any]:
        body = request.body
        if not isinstance(body, dict):
            raise _invalid(_RRSET_ENTITY, "must be a resource record set")
        with self._lock:
            zone, current = self._requested_rrset(request)
            patched = _patched(current, body, zone)
            self._submit(zone, (current,), (patched,), _rrset_field)
            return 200, patched.resource()

    def _delete_rrset(self, request: Request) -> tuple[int, Any]:
        with self._lock:
            zone, current = self._requested_rrset(request)
            self._submit(zone, (current,), (), _rrset_field)
            return 200, {}  # the API's ResourceRecordSetsDeleteResponse has no fields

    def _list_changes(self, request: Request) -> tuple[int, Any]:
        with self._lock:
            zone = self._requested_zone(request)
            descending = request.query.get("sortOrder", "ascending") == "descending"
            changes = list(reversed(zone.changes)) if descending else list(zone.changes)
            listing = _Listing("dns#changesListResponse", "changes", self._change_resource)
            return 200, listing.page(changes, request.query, self.page_size)

    def _get_change(self, request: Request) -> tuple[int, Any]:
        with self._lock:
            zone = self._requested_zone(request)
            wanted = request.params["change"]
            for change in zone.changes:
                if change.id == wanted:
                    return 200, self._change_resource(change)
            raise _missing("parameters.changeId", wanted)

    # --- state --------------------------------------------------------------------------------

    def _zone(self, project: str, name: str) -> _Zone:
        zone = self._zones.get((project, name))
        if zone is None:
            raise KeyError(f"no zone {name} in project {project}; add_zone() it first")
        return zone

    def _requested_zone(self, request: Request) -> _Zone:
        project, wanted = request.params["project"], request.params["zone"]
        if not any(z.project == project for z in self._zones.values()):
            raise _missing("parameters.project", project)
        for zone in self._zones.values():
            if zone.project == project and wanted in (zone.name, zone.id):
                return zone
        raise _missing("parameters.managedZone", wanted)

    def _requested_rrset(self, request: Request) -> tuple[_Zone, DnsRecord]:
        zone = self._requested_zone(request)
        name, type_ = request.params["name"], request.params["type"]
        record = zone.records.get((name.lower(), type_))
        if record is None:
            raise _missing("parameters.name", _named(name, type_))
        return zone, record

    def _seed(self, zone: _Zone, record: DnsRecord) -> None:
        zone.records[record.key] = record
        zone.served.setdefault(record.key, []).append((-math.inf, record))

    def _submit(
        self,
        zone: _Zone,
        deletions: tuple[DnsRecord, ...],
        additions: tuple[DnsRecord, ...],
        field: _Field,
    ) -> _Change:
        """Every write through the API: validated and applied at once, then logged as a change."""
        zone.records = _applied(zone, deletions, additions, field)
        return self._record_change(zone, additions, deletions)

    def _record_change(
        self, zone: _Zone, additions: tuple[DnsRecord, ...], deletions: tuple[DnsRecord, ...]
    ) -> _Change:
        """Log an applied change; the nameservers serve its records once it is done and spread."""
        change = _Change(
            str(len(zone.changes)),
            self.clock.monotonic(),
            self.clock.now(),
            additions,
            deletions,
            stuck=self._stuck,
        )
        zone.changes.append(change)
        visible_from = self._done_mono(change) + self.propagation_delay_s
        for key in {r.key for r in (*deletions, *additions)}:
            zone.served.setdefault(key, []).append((visible_from, zone.records.get(key)))
        return change

    def _done_mono(self, change: _Change) -> float:
        return math.inf if change.stuck else change.submitted_mono + self.change_delay_s

    def _happened_at(self, change: _Change, after_done_s: float) -> datetime | None:
        due = self._done_mono(change) + after_done_s
        if due > self.clock.monotonic():
            return None
        return change.submitted_at + timedelta(seconds=due - change.submitted_mono)

    def _truth(self, zone: _Zone, change: _Change) -> ChangeTruth:
        return ChangeTruth(
            zone.project,
            zone.name,
            change.id,
            change.submitted_at,
            self._happened_at(change, 0.0),
            self._happened_at(change, self.propagation_delay_s),
            change.additions,
            change.deletions,
        )

    def _zone_for(self, name: str) -> _Zone | None:
        """The zone with the longest dns_name that contains ``name``, in any project."""
        containing = [z for z in self._zones.values() if z.contains(name)]
        return max(containing, key=lambda z: len(z.dns_name), default=None)

    def _served(self, zone: _Zone, key: tuple[str, str]) -> DnsRecord | None:
        now = self.clock.monotonic()
        visible = [value for since, value in zone.served.get(key, []) if since <= now]
        return visible[-1] if visible else None

    def _answer_in(self, zone: _Zone, name: str, type: str) -> Answer:
        aliases: list[DnsRecord] = []
        while (alias := self._alias(zone, name, type)) and len(aliases) < _CNAME_HOPS:
            aliases.append(alias)
            name = alias.rrdatas[0]
            target = self._zone_for(name)
            if target is None:  # the target lives elsewhere: the asking resolver follows it
                return Answer("NOERROR", tuple(aliases))
            zone = target
        found = self._served(zone, (name.lower(), type))
        if found is not None:
            return Answer("NOERROR", (*aliases, found))
        exists = bool(aliases) or self._name_exists(zone, name)
        soa = self._served(zone, (zone.dns_name.lower(), "SOA"))
        return Answer("NOERROR" if exists else "NXDOMAIN", tuple(aliases), soa)

    def _alias(self, zone: _Zone, name: str, type: str) -> DnsRecord | None:
        """The CNAME served at ``name`` when the name has no ``type`` record of its own."""
        if type == "CNAME" or self._served(zone, (name.lower(), type)) is not None:
            return None
        return self._served(zone, (name.lower(), "CNAME"))

    def _name_exists(self, zone: _Zone, name: str) -> bool:
        """True when the name holds a record or is an empty non-terminal above one."""
        lowered = name.lower()
        return any(
            (key[0] == lowered or key[0].endswith("." + lowered)) and self._served(zone, key)
            for key in zone.served
        )

    # --- resources ----------------------------------------------------------------------------

    def _zone_resource(self, zone: _Zone) -> dict[str, Any]:
        return {
            "kind": "dns#managedZone",
            "name": zone.name,
            "dnsName": zone.dns_name,
            "description": "",
            "id": zone.id,
            "nameServers": list(zone.nameservers or _NAME_SERVERS),
            "creationTime": _rfc3339(zone.created_at),
            "visibility": "public",
        }

    def _change_resource(self, change: _Change) -> dict[str, Any]:
        done = self._done_mono(change) <= self.clock.monotonic()
        resource: dict[str, Any] = {
            "kind": "dns#change",
            "id": change.id,
            "startTime": _rfc3339(change.submitted_at),
            "status": "done" if done else "pending",
        }
        if change.additions:
            resource["additions"] = [r.resource() for r in change.additions]
        if change.deletions:
            resource["deletions"] = [r.resource() for r in change.deletions]
        return resource


# --- applying a change ------------------------------------------------------------------------


def nameserver_name(name: str) -> str:
    """A nameserver's host name as compared: lower case, with the final dot."""
    lowered = name.lower()
    return lowered if lowered.endswith(".") else f"{lowered}."


def _serves(zone: _Zone, nameserver: str | None) -> bool:
    if zone.nameservers is None:
        return True
    return nameserver is not None and nameserver_name(nameserver) in zone.nameservers


# Where in the request a deletion or addition came from, as errors name it: ("deletions", 0).
_Field = Callable[[str, int], str]


def _change_field(part: str, index: int) -> str:
    return f"entity.change.{part}[{index}]"


def _rrset_field(part: str, index: int) -> str:
    """An rrsets method's change holds the request's one record set (or the one it replaces)."""
    return _RRSET_ENTITY


def _applied(
    zone: _Zone,
    deletions: tuple[DnsRecord, ...],
    additions: tuple[DnsRecord, ...],
    field: _Field,
) -> dict[tuple[str, str], DnsRecord]:
    """The zone's records after the change, or an error; the zone itself is never touched."""
    after = dict(zone.records)
    for index, deletion in enumerate(deletions):
        where = field("deletions", index)
        current = after.get(deletion.key)
        if current is None:
            raise _missing(where, _label(deletion))
        if not current.matches(deletion):
            raise GoogleApiError(412, f"Precondition not met for '{where}'")
        del after[deletion.key]
    for index, addition in enumerate(additions):
        where = field("additions", index)
        if addition.key in after:
            raise GoogleApiError(
                409, f"The resource '{where}' named '{_label(addition)}' already exists"
            )
        _check_soa_at_apex(zone, addition, where)
        after[addition.key] = addition
        _check_cname_alone(after, addition, where)
    _check_apex_kept(zone, after, deletions, field)
    return after


def _check_soa_at_apex(zone: _Zone, addition: DnsRecord, where: str) -> None:
    if addition.type == "SOA" and addition.key[0] != zone.dns_name.lower():
        raise _apex_error(where, "SOA")


def _check_apex_kept(
    zone: _Zone,
    after: dict[tuple[str, str], DnsRecord],
    deletions: tuple[DnsRecord, ...],
    field: _Field,
) -> None:
    """The apex SOA and NS may be replaced (deleted and added in one change), never removed."""
    for index, deletion in enumerate(deletions):
        at_apex = deletion.key[0] == zone.dns_name.lower()
        if at_apex and deletion.type in _APEX_ONLY and deletion.key not in after:
            raise _apex_error(field("deletions", index), deletion.type)


def _apex_error(where: str, type_: str) -> GoogleApiError:
    return GoogleApiError(
        400,
        f"The resource record set '{where}' is invalid because a zone must contain exactly one "
        f"resource record set of type '{type_}' at the apex.",
        "invalidZoneApex",
    )


def _check_cname_alone(
    records: dict[tuple[str, str], DnsRecord], addition: DnsRecord, where: str
) -> None:
    types = {key[1] for key in records if key[0] == addition.key[0]}
    if "CNAME" in types and len(types) > 1:
        raise GoogleApiError(
            400,
            f"The resource '{where}' named '{_label(addition)}' is "
            "invalid because a CNAME record set cannot coexist with other record sets",
            "cnameResourceRecordSetConflict",
        )


# --- parsing requests -------------------------------------------------------------------------


def _parse_all(raw: Any, field_name: str, zone: _Zone) -> tuple[DnsRecord, ...]:
    if raw is None:
        return ()
    if not isinstance(raw, list):
        raise _invalid(f"entity.change.{field_name}", "must be a list")
    return tuple(
        _parse_rrset(item, f"entity.change.{field_name}[{index}]", zone)
        for index, item in enumerate(raw)
    )


def _parse_rrset(raw: Any, where: str, zone: _Zone) -> DnsRecord:
    if not isinstance(raw, dict):
        raise _invalid(where, "must be a resource record set")
    name, type_ = _text(raw, "name", where), _text(raw, "type", where)
    record = DnsRecord(name, type_, _ttl(raw.get("ttl"), where), _rrdatas(raw, where))
    if not name.endswith(".") or not zone.contains(name):
        raise _invalid(f"{where}.name", f"'{name}' is not within the zone '{zone.dns_name}'")
    if type_ not in _TYPES:
        raise _invalid(f"{where}.type", f"'{type_}' is not a supported record type")
    _check_rrdatas(record, where)
    return record


def _patched(current: DnsRecord, body: dict[str, Any], zone: _Zone) -> DnsRecord:
    """Patch semantics: what the body leaves out keeps its value. The name and type are the
    record set's identity, given by the URL; moving it is a delete and a create instead."""
    for key, value in (("name", current.name), ("type", current.type)):
        sent = body.get(key)
        if sent is not None and not _same(key, sent, value):
            raise _invalid(f"{_RRSET_ENTITY}.{key}", f"'{sent}' is not the record set's {key}")
    kept = current.resource()
    changed = {key: body[key] for key in ("ttl", "rrdatas") if body.get(key) is not None}
    return _parse_rrset({**kept, **changed}, _RRSET_ENTITY, zone)


def _same(key: str, sent: Any, value: str) -> bool:
    if not isinstance(sent, str):
        return False
    if key == "name":  # DNS names compare without regard to case
        return sent.lower() == value.lower()
    return sent == value


def _text(raw: dict[str, Any], key: str, where: str) -> str:
    value = raw.get(key)
    if not isinstance(value, str) or not value:
        raise _required(f"{where}.{key}")
    return value


def _ttl(raw: Any, where: str) -> int:
    """Clients send the TTL as a string (the API's int32-in-JSON) or as a number."""
    if raw is None:
        raise _required(f"{where}.ttl")
    if isinstance(raw, bool) or not isinstance(raw, int | str) or not str(raw).isdigit():
        raise _invalid(f"{where}.ttl", f"'{raw}' is not a valid TTL")
    return int(raw)


def _rrdatas(raw: dict[str, Any], where: str) -> tuple[str, ...]:
    rrdatas = raw.get("rrdatas")
    if not isinstance(rrdatas, list) or not rrdatas:
        raise _required(f"{where}.rrdata")
    if not all(isinstance(item, str) and item for item in rrdatas):
        raise _invalid(f"{where}.rrdata", "every rrdata must be a non-empty string")
    return tuple(rrdatas)


def _check_rrdatas(record: DnsRecord, where: str) -> None:
    version = {"A": 4, "AAAA": 6}.get(record.type)
    for index, value in enumerate(record.rrdatas if version else ()):
        if not _is_ip(value, version):
            raise _invalid(f"{where}.rrdata[{index}]", f"'{value}' is not an IPv{version} address")
    if record.type == "CNAME" and len(record.rrdatas) != 1:
        raise _invalid(f"{where}.rrdata", "a CNAME record set holds exactly one rrdata")


def _is_ip(value: str, version: int | None) -> bool:
    try:
        return ipaddress.ip_address(value).version == version
    except ValueError:
        return False


def _filtered(records: Iterable[DnsRecord], query: dict[str, str]) -> list[DnsRecord]:
    """The list call's own filters: ``name`` (exact), and ``type``, which needs ``name``."""
    name, type_ = query.get("name"), query.get("type")
    if type_ and not name:
        raise _invalid("parameters.name", "is required when 'parameters.type' is given")
    chosen = [
        r
        for r in records
        if (name is None or r.name.lower() == name.lower()) and (type_ is None or r.type == type_)
    ]
    return sorted(chosen, key=lambda r: (r.name.lower(), r.type))


# --- paging -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Listing:
    """A list response: one page of rendered items and the token for the next page, if any."""

    kind: str
    items_key: str
    render: Callable[[Any], dict[str, Any]]

    def page(
        self, items: Sequence[Any], query: dict[str, str], default_size: int
    ) -> dict[str, Any]:
        start = _offset(query.get("pageToken"))
        end = start + _page_size(query.get("maxResults"), default_size)
        document = {"kind": self.kind, self.items_key: [self.render(i) for i in items[start:end]]}
        if end < len(items):
            document["nextPageToken"] = str(end)
        return document


def _offset(token: str | None) -> int:
    if not token:
        return 0
    if not token.isdigit():
        raise _invalid("parameters.pageToken", f"'{token}' is not a valid page token")
    return int(token)


def _page_size(raw: str | None, default_size: int) -> int:
    if raw is None:
        return default_size
    if not raw.isdigit() or int(raw) == 0:
        raise _invalid("parameters.maxResults", f"'{raw}' must be a positive number")
    return min(int(raw), _MAX_PAGE_SIZE)


# --- small helpers ----------------------------------------------------------------------------


def _soa(apex: str) -> DnsRecord:
    rdata = (
        "ns-cloud-a1.googledomains.com. cloud-dns-hostmaster.google.com. 1 21600 3600 259200 300"
    )
    return DnsRecord(apex, "SOA", _SOA_TTL_S, (rdata,))


def _zone_id(index: int) -> str:
    return str(4_128_907_261_355_100_000 + 7919 * index)


def _label(record: DnsRecord) -> str:
    return _named(record.name, record.type)


def _named(name: str, type_: str) -> str:
    return f"{name} ({type_})"


def _rfc3339(moment: datetime) -> str:
    """Milliseconds and ``Z``, as the API writes them (and the client parses them)."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def _missing(what: str, name: str) -> GoogleApiError:
    return GoogleApiError(404, f"The '{what}' resource named '{name}' does not exist.")


def _required(what: str) -> GoogleApiError:
    return GoogleApiError(400, f"The '{what}' parameter is required but was missing.", "required")


def _invalid(what: str, why: str) -> GoogleApiError:
    return GoogleApiError(400, f"Invalid value for '{what}': {why}", "invalid")
