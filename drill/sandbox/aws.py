"""The sandbox's AWS: moto's S3, Route53 and ELBv2 served over HTTP on 127.0.0.1, seeded.

moto keeps its state in this process, per account id, in module-level backends. So each
``AwsSandbox`` serves one account of its own (the gateway stamps every request with it, so
clients need not know), seeds and reads that account's backends directly, and wipes them on
``stop``: sandboxes in one process never see each other's buckets or zones.

Seeding goes straight to moto's backends, not through its HTTP API: this module must not
import boto3 or botocore (it is a server, not a client), and S3's LastModified cannot be set
through the API anyway. A backup "written an hour ago" must look an hour old, so its key is
dated in moto's own state, which lives in this process.

The gateway in front of moto adds what moto lacks: it records every request (service and
operation, for tests that must see pagination happen), refuses chosen requests with an
AWS-shaped error (throttling bursts, AccessDenied), and gives each Route53 change an id of its
own that stays PENDING for ``change_delay_s`` (moto answers one fixed id, INSYNC at once).

It also checks a Route53 change batch against the zone as AWS documents before moto applies it
(moto checks a DELETE against any values the record ever had, and lets a CREATE of an existing
record through): the changes apply in order, all or none; a CREATE of a record set that exists,
a DELETE of one that does not, or a DELETE whose TTL or values are not exactly the current ones
refuses the whole batch with ``InvalidChangeBatch``. That is what makes a DELETE of the record
drill read plus a CREATE of the new one a compare-and-swap. An A or AAAA value that is no IPv4
or IPv6 address refuses the batch too (moto stores any text). Likewise a ModifyListener whose
port is out of range, or whose actions forward to a target group the listener's region lacks,
is refused as ELBv2 refuses it (moto takes any target group ARN).

What moto does that real AWS does not: a registered ELBv2 target reports ``healthy`` without
any instance or health check behind it (a deregistered one ``unused``).
"""

from __future__ import annotations

import copy
import fnmatch
import io
import ipaddress
import math
import os
import re
import threading
import uuid
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs
from xml.etree import ElementTree
from xml.sax.saxutils import escape

from drill.clock import Clock, SystemClock
from drill.sandbox.emulator import Emulator, ServingThread
from drill.sandbox.faults import FaultQueue
from providers.protocols import RecordSet

DEFAULT_REGION = "us-east-1"
BODY_KEPT = 64 * 1024  # what the request log keeps of each body: change batches, forms
TARGETS_PER_GROUP = 2  # what a seeded target group behind a listener serves from
_PARTITION = "aws"  # S3 and Route53 keep their global state under the partition's name
_FORM = "application/x-www-form-urlencoded"
_CHANGE_SUBMIT = re.compile(r"^POST /2013-04-01/hostedzone/(?P<zone>[^/]+)/rrset/?$")
_CHANGE_READ = re.compile(r"^GET /2013-04-01/change/(?P<id>[^/]+)$")

StartResponse = Callable[..., Any]
RecordValues = tuple[str, ...] | None  # a record's values, sorted; None: no such record
# ELBv2 actions that change where traffic goes: when each applied is ground truth.
_ELBV2_CHANGES = frozenset({"ModifyListener", "RegisterTargets", "DeregisterTargets"})
# The form fields of a listener's actions that name a target group, directly or weighted.
_ACTION_TARGET_GROUP = re.compile(
    r"DefaultActions\.member\.\d+\.(?:ForwardConfig\.TargetGroups\.member\.\d+\.)?TargetGroupArn"
)


@dataclass(frozen=True)
class AwsRequest:
    """One request the sandbox received."""

    service: str  # from the signature's scope: s3, route53, elasticloadbalancing, ec2
    operation: str  # the Query API's Action (ELBv2, EC2), else "METHOD /path" (S3, Route53)
    query: str  # the raw query string
    region: str = ""  # from the signature's scope: the region the client signed for
    body: bytes = b""  # as sent, its first BODY_KEPT bytes: a change batch, a Query API form


@dataclass
class _Fault:
    remaining: int
    status: int
    code: str
    message: str
    service: str | None
    operation: str  # fnmatch pattern over AwsRequest.operation


class AwsFaults:
    """Refusals injected before moto sees a request, consumed one per match, oldest first."""

    def __init__(self) -> None:
        self._queue: FaultQueue[_Fault] = FaultQueue()

    def fail(
        self,
        count: int,
        *,
        status: int = 503,
        code: str = "ServiceUnavailable",
        message: str = "Injected failure",
        service: str | None = None,
        operation: str = "*",
    ) -> None:
        """Refuse the next ``count`` requests to ``service`` whose operation matches."""
        self._queue.add(_Fault(count, status, code, message, service, operation))

    def clear(self) -> None:
        self._queue.clear()

    def take(self, request: AwsRequest) -> _Fault | None:
        return self._queue.take(lambda fault: _matches(fault, request))


def _matches(fault: _Fault, request: AwsRequest) -> bool:
    return (fault.service in (None, request.service)) and fnmatch.fnmatchcase(
        request.operation, fault.operation
    )


class Route53Changes:
    """Route53 changes as AWS runs them: each with an id of its own, PENDING for ``delay_s``
    after it was submitted, then INSYNC. (moto gives every change one fixed id, INSYNC at
    once.) As in AWS, the zone's records change at once; PENDING means the nameservers do not
    answer the new data yet."""

    def __init__(self, clock: Clock, delay_s: float) -> None:
        self.clock = clock
        self.delay_s = delay_s  # a test may change it; inf: a change that never finishes
        self._lock = threading.Lock()
        self._submitted: dict[str, tuple[float, datetime]] = {}  # id -> (monotonic, UTC)
        # What each record held after each change (None: deleted), by the change that did it
        # (None: seeded), oldest first: what the nameservers answer once a change is INSYNC.
        self._history: dict[tuple[str, str], list[tuple[str | None, RecordValues]]] = {}

    def seed(self, name: str, type_: str, values: RecordValues) -> None:
        with self._lock:
            self._history.setdefault((_fqdn(name).lower(), type_), []).append((None, values))

    def submit(self, batch: Sequence[RecordChange] = ()) -> str:
        """A new change's id; ``batch``: what it changed, for ``answered``."""
        change_id = f"C{uuid.uuid4().hex[:20].upper()}"
        with self._lock:
            self._submitted[change_id] = (self.clock.monotonic(), self.clock.now())
            for change in batch:
                values = None if change.action == "DELETE" else change.values
                key = (_fqdn(change.name).lower(), change.type.upper())
                self._history.setdefault(key, []).append((change_id, values))
        return change_id

    def answered(self, name: str, type_: str) -> tuple[RecordValues, float]:
        """Ground truth: the values the nameservers answer for a record now (None: nothing),
        and since when (monotonic; -inf: since it was seeded)."""
        with self._lock:
            history = list(self._history.get((_fqdn(name).lower(), type_), ()))
        shown: tuple[RecordValues, float] = (None, -math.inf)
        for change_id, values in history:
            if change_id is None:
                shown = (values, -math.inf)
            elif self.status(change_id) == "INSYNC":
                shown = (values, self._submitted[change_id][0] + self.delay_s)
        return shown

    def ids(self) -> list[str]:
        with self._lock:
            return list(self._submitted)

    def status(self, change_id: str) -> str | None:
        """PENDING or INSYNC; None for a change this sandbox never made."""
        with self._lock:
            submitted = self._submitted.get(change_id)
        if submitted is None:
            return None
        done = self.clock.monotonic() - submitted[0] >= self.delay_s
        return "INSYNC" if done else "PENDING"

    def info(self, change_id: str) -> str:
        """The change's <ChangeInfo>, as GetChange answers it."""
        with self._lock:
            submitted_at = self._submitted[change_id][1].astimezone(UTC)
        return (
            f"<ChangeInfo><Id>/change/{change_id}</Id><Status>{self.status(change_id)}</Status>"
            f"<SubmittedAt>{submitted_at:%Y-%m-%dT%H:%M:%S.000Z}</SubmittedAt></ChangeInfo>"
        )


class Elbv2Changes:
    """When a change to each ELBv2 listener or target group last applied (monotonic).

    A change is applied by moto and its moment recorded under ``lock``, which whoever reads
    the ground truth holds too: nobody sees a change in moto's state before its moment is
    known (the serving monitor would date it by an older change, or the seeding).
    """

    def __init__(self, clock: Clock) -> None:
        self.clock = clock
        self.lock = threading.RLock()
        self._changed: dict[str, float] = {}  # ARN -> when a change to it last applied

    def applied(self, arn: str) -> None:
        """A change to ``arn`` applied now; the caller holds ``lock``."""
        self._changed[arn] = self.clock.monotonic()

    def since(self, arn: str) -> float:
        """When ``arn`` last changed (-inf: never since it was seeded)."""
        return self._changed.get(arn, -math.inf)


class _Gateway:
    """WSGI in front of moto: the account stamp, the request log, faults, Route53 changes."""

    def __init__(
        self,
        app: Any,
        account_id: str,
        faults: AwsFaults,
        changes: Route53Changes,
        refusal: Callable[[str, list[RecordChange]], str | None],
        elbv2_changes: Elbv2Changes,
        listener_refusal: Callable[[dict[str, list[str]]], tuple[str, str] | None],
    ) -> None:
        self.app = app
        self.elbv2_changes = elbv2_changes
        self.listener_refusal = listener_refusal  # why ELBv2 would refuse a ModifyListener
        self.account_id = account_id
        self.faults = faults
        self.changes = changes
        self.refusal = refusal  # why AWS would refuse a change batch to a zone, if it would
        self._lock = threading.Lock()
        self.log: list[AwsRequest] = []

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Any:
        environ["HTTP_X_MOTO_ACCOUNT_ID"] = self.account_id
        request = _described(environ)
        with self._lock:
            self.log.append(request)
        fault = self.faults.take(request)
        if fault is not None:
            return _refusal(fault, request, environ, start_response)
        if request.service == "route53":
            return self._route53(request, environ, start_response)
        if request.operation in _ELBV2_CHANGES:
            return self._elbv2_change(environ, start_response)
        return self.app(environ, start_response)

    def _elbv2_change(self, environ: dict[str, Any], start_response: StartResponse) -> Any:
        """moto applies it; the moment it did is kept for the listener or target group."""
        form = _form(environ)
        refused = (
            self.listener_refusal(form) if "ModifyListener" in form.get("Action", ()) else None
        )
        if refused is not None:
            return _error(400, refused[0], refused[1], "elasticloadbalancing", start_response)
        with self.elbv2_changes.lock:
            status, headers, body = _captured(self.app, environ)
            if status.startswith("200"):
                for key in ("ListenerArn", "TargetGroupArn"):
                    for arn in form.get(key, ()):
                        self.elbv2_changes.applied(arn)
        return _answer(status, headers, body, start_response)

    def _route53(
        self, request: AwsRequest, environ: dict[str, Any], start_response: StartResponse
    ) -> Any:
        submit = _CHANGE_SUBMIT.match(request.operation)
        if submit:
            batch = _change_batch(environ)
            refused = self.refusal(submit["zone"], batch)
            if refused is not None:
                return _error(400, "InvalidChangeBatch", refused, "route53", start_response)
            _creates_as_upserts(environ)
            return self._submit_change(environ, start_response, batch)
        read = _CHANGE_READ.match(request.operation)
        if read and self.changes.status(read["id"]) is not None:
            body = f"<GetChangeResponse>{self.changes.info(read['id'])}</GetChangeResponse>"
            return _answer("200 OK", [("Content-Type", "text/xml")], body.encode(), start_response)
        return self.app(environ, start_response)

    def _submit_change(
        self, environ: dict[str, Any], start_response: StartResponse, batch: list[RecordChange]
    ) -> Any:
        """moto applies the change; its answer gets the change's own id and status."""
        status, headers, body = _captured(self.app, environ)
        if status.startswith("200"):
            change_id = self.changes.submit(batch)
            info = self.changes.info(change_id).encode()
            body = re.sub(rb"<ChangeInfo>.*</ChangeInfo>", lambda _: info, body, flags=re.S)
        return _answer(status, headers, body, start_response)

    def requests(self) -> list[AwsRequest]:
        with self._lock:
            return list(self.log)


def _described(environ: dict[str, Any]) -> AwsRequest:
    scope = str(environ.get("HTTP_AUTHORIZATION", "")).partition("Credential=")[2].split("/")
    service = scope[3] if len(scope) > 3 else ""
    region = scope[2] if len(scope) > 2 else ""
    method, path = str(environ.get("REQUEST_METHOD", "")), str(environ.get("PATH_INFO", ""))
    query = str(environ.get("QUERY_STRING", ""))
    body = _body(environ)
    action = _query_action(environ, body, query)
    operation = action or f"{method} {path}"
    return AwsRequest(service, operation, query, region, body[:BODY_KEPT])


def _body(environ: dict[str, Any]) -> bytes:
    """The request's body, read here and put back for moto (one of no stated length, left
    alone: a streamed upload is not read ahead of moto)."""
    length = int(environ.get("CONTENT_LENGTH") or 0)
    if length <= 0:
        return b""
    body: bytes = environ["wsgi.input"].read(length)
    environ["wsgi.input"] = io.BytesIO(body)
    return body


def _query_action(environ: dict[str, Any], body: bytes, query: str) -> str:
    """The Action of a Query API request: in its form body, else in its query string."""
    if not str(environ.get("CONTENT_TYPE", "")).startswith(_FORM):
        return parse_qs(query).get("Action", [""])[0]
    return parse_qs(body.decode("utf-8", errors="replace")).get("Action", [""])[0]


def _form(environ: dict[str, Any]) -> dict[str, list[str]]:
    """A Query API request's form fields; the body is put back for moto."""
    body: bytes = environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0))
    environ["wsgi.input"] = io.BytesIO(body)
    fields = parse_qs(body.decode("utf-8", errors="replace"))
    return fields or parse_qs(str(environ.get("QUERY_STRING", "")))


def _captured(app: Any, environ: dict[str, Any]) -> tuple[str, list[tuple[str, str]], bytes]:
    """Run a WSGI app to the end: its status, headers and whole body."""
    seen: dict[str, Any] = {}

    def start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
        seen.update(status=status, headers=headers)
        return lambda data: None

    chunks = app(environ, start_response)
    try:
        body = b"".join(chunks)
    finally:
        if hasattr(chunks, "close"):
            chunks.close()
    return str(seen["status"]), list(seen["headers"]), body


def _answer(
    status: str, headers: list[tuple[str, str]], body: bytes, start_response: StartResponse
) -> list[bytes]:
    kept = [(k, v) for k, v in headers if k.lower() != "content-length"]
    start_response(status, [*kept, ("Content-Length", str(len(body)))])
    return [body]


def _refusal(
    fault: _Fault, request: AwsRequest, environ: dict[str, Any], start_response: StartResponse
) -> list[bytes]:
    """The fault's error as the service would word it (nothing at all to a HEAD)."""
    head = environ.get("REQUEST_METHOD") == "HEAD"
    return _error(
        fault.status, fault.code, fault.message, request.service, start_response, body=not head
    )


def _error(
    status: int,
    code: str,
    message: str,
    service: str,
    start_response: StartResponse,
    *,
    body: bool = True,
) -> list[bytes]:
    """An AWS error answer: S3's bare <Error>, the other services' <ErrorResponse>."""
    code_text, message_text = escape(code), escape(message)
    party = "Receiver" if status >= 500 else "Sender"
    if service == "s3":
        document = f"<Error><Code>{code_text}</Code><Message>{message_text}</Message></Error>"
    else:
        document = (
            f"<ErrorResponse><Error><Type>{party}</Type><Code>{code_text}</Code>"
            f"<Message>{message_text}</Message></Error>"
            "<RequestId>drill-sandbox</RequestId></ErrorResponse>"
        )
    payload = document.encode() if body else b""
    return _answer(f"{status} {code}", [("Content-Type", "text/xml")], payload, start_response)


@dataclass(frozen=True)
class RecordChange:
    """One change of a Route53 change batch, as far as the batch check needs it."""

    action: str
    name: str
    type: str
    ttl: int | None
    values: tuple[str, ...]
    simple: bool  # no alias, no routing policy: the only kind the check covers


def _change_batch(environ: dict[str, Any]) -> list[RecordChange]:
    """The changes of a ChangeResourceRecordSets body; the body is put back for moto."""
    body: bytes = environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0))
    environ["wsgi.input"] = io.BytesIO(body)
    try:
        # A local SDK client's request on loopback; expat refuses entity expansion bombs.
        root = ElementTree.fromstring(body)  # noqa: S314
    except ElementTree.ParseError:
        return []  # moto answers a malformed request itself
    return [_record_change(change) for change in root.iterfind(".//{*}Change")]


def _record_change(change: ElementTree.Element) -> RecordChange:
    record = change.find("{*}ResourceRecordSet")
    if record is None:
        record = ElementTree.Element("ResourceRecordSet")

    def text(tag: str) -> str:
        return (record.findtext(f"{{*}}{tag}") or "").strip()

    values = (v.text or "" for v in record.iterfind(".//{*}ResourceRecord/{*}Value"))
    ttl = text("TTL")
    return RecordChange(
        action=(change.findtext("{*}Action") or "").strip(),
        name=text("Name"),
        type=text("Type"),
        ttl=int(ttl) if ttl.isdigit() else None,
        values=tuple(sorted(value.strip() for value in values)),
        simple=all(record.find(f"{{*}}{tag}") is None for tag in ("AliasTarget", "SetIdentifier")),
    )


def _creates_as_upserts(environ: dict[str, Any]) -> None:
    """Once the batch passed the check above, its CREATEs go to moto as UPSERTs: moto refuses a
    CREATE it has seen before while the record set a DELETE earlier in the batch removes still
    stands (it checks before applying anything)."""
    body: bytes = environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0))
    body = re.sub(rb"<Action>\s*CREATE\s*</Action>", b"<Action>UPSERT</Action>", body)
    environ["wsgi.input"] = io.BytesIO(body)
    environ["CONTENT_LENGTH"] = str(len(body))


HeldRecords = dict[tuple[str, str], tuple[int | None, tuple[str, ...]]]


def batch_refusal(held: HeldRecords, changes: Iterable[RecordChange]) -> str | None:
    """Why Route53 refuses this batch against the zone's simple records ``held`` (keyed by
    lower-cased fully qualified name and type), or None. Changes apply in order."""
    changes = list(changes)
    for change in changes:
        if change.action != "DELETE":
            refused = _value_refusal(change)
            if refused:
                return refused
    state = dict(held)
    for change in changes:
        if not change.simple:
            continue
        key = (_fqdn(change.name).lower(), change.type.upper())
        subject = f"resource record set [name='{_fqdn(change.name)}', type='{change.type}']"
        if change.action == "CREATE" and key in state:
            return f"Tried to create {subject} but it already exists"
        if change.action == "DELETE" and key not in state:
            return f"Tried to delete {subject} but it was not found"
        if change.action == "DELETE" and state[key] != (change.ttl, change.values):
            return (
                f"Tried to delete {subject} but the values provided do not match the current values"
            )
        if change.action == "DELETE":
            del state[key]
        else:
            state[key] = (change.ttl, change.values)
    return None


# What Route53 checks an address record's values as, and the code it names a bad one by.
_ADDRESS_TYPES = {
    "A": (ipaddress.IPv4Address, "ARRDATAIllegalIPv4Address", "IPv4"),
    "AAAA": (ipaddress.IPv6Address, "AAAARRDATAIllegalIPv6Address", "IPv6"),
}


def _value_refusal(change: RecordChange) -> str | None:
    """Why Route53 refuses a value the change writes, in its words, or None. Only A and AAAA
    values are checked: the address types drill switches, which a careless plan could get
    wrong (a CNAME's target is not)."""
    checked = _ADDRESS_TYPES.get(change.type.upper())
    if checked is None:
        return None
    parse, code, version = checked
    for value in change.values:
        try:
            parse(value)
        except ValueError:
            return (
                f"[Invalid Resource Record: 'FATAL problem: {code} (Value is not a valid "
                f"{version} address) encountered with '{value}'']"
            )
    return None


class AwsSandbox(Emulator):
    """moto on 127.0.0.1 (an ephemeral port), one account of its own, plus seeding and truth."""

    def __init__(
        self,
        clock: Clock | None = None,
        region: str = DEFAULT_REGION,
        change_delay_s: float = 0.0,
    ) -> None:
        self.clock = clock or SystemClock()
        self.region = region  # where ELBv2 seeds go when no region is named
        self.changes = Route53Changes(self.clock, change_delay_s)
        self.elbv2_changes = Elbv2Changes(self.clock)
        self._change_delay_s = change_delay_s
        # A random twelve-digit account of its own, so two sandboxes never share state.
        self.account_id = f"{uuid.uuid4().int % 10**11 + 10**11:012d}"
        self.faults = AwsFaults()
        self._gateway: _Gateway | None = None
        self._server: Any = None
        self._serving: ServingThread | None = None

    # --- lifecycle ------------------------------------------------------------------------

    @property
    def endpoint(self) -> str:
        if self._server is None:
            raise RuntimeError("the AWS sandbox is not started")
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def start(self) -> AwsSandbox:
        from moto.server import DomainDispatcherApplication, create_backend_app
        from werkzeug.serving import make_server

        if self._server is not None:
            return self
        # moto's EC2 loads ~1,300 public AMIs, each with a volume and a snapshot, for every
        # account and region it is first asked about (0.2 s of CPU apiece, at every sandbox
        # start): the sandbox asks EC2 only for the default VPC's subnets, never an AMI.
        # moto's own setting; the process is the sandbox's (or a test's).
        os.environ.setdefault("MOTO_EC2_LOAD_DEFAULT_AMIS", "false")
        moto = DomainDispatcherApplication(create_backend_app)
        self._gateway = _Gateway(
            moto,
            self.account_id,
            self.faults,
            self.changes,
            self._change_refusal,
            self.elbv2_changes,
            self._listener_refusal,
        )
        self._server = make_server(
            "127.0.0.1", 0, self._gateway, threaded=True, request_handler=_quiet_handler()
        )
        self._serving = ServingThread(self._server, "sandbox-aws")
        self._serving.start()
        return self

    def stop(self) -> None:
        if self._server is not None and self._serving is not None:
            self._serving.stop()
            self._server.server_close()
            self._server = self._serving = None
        self._forget_account()

    def requests(self, service: str | None = None) -> list[AwsRequest]:
        """Every request received so far (to ``service``), oldest first."""
        log = self._gateway.requests() if self._gateway else []
        return [r for r in log if service in (None, r.service)]

    def _forget_account(self) -> None:
        """Drop this sandbox's account from every moto backend. Not moto's own reset: that
        wipes every account, and rebuilds each backend it wipes."""
        from moto.core.base_backend import BackendDict, backend_lock

        with backend_lock:
            self._free_buckets()
            for backends in list(BackendDict._instances):
                if self.account_id in dict.keys(backends):
                    del backends[self.account_id]

    def _free_buckets(self) -> None:
        """Free the bucket names (global across accounts, as in AWS) and the objects' bytes,
        which moto also lists in a class-wide registry."""
        from moto.s3.models import FakeKey, s3_backends

        if self.account_id not in dict.keys(s3_backends):
            return
        freed: set[int] = set()
        for s3 in list(s3_backends[self.account_id].values()):
            for bucket in list(s3.buckets.values()):
                for key in bucket.keys.values():
                    key.dispose()
                    freed.add(id(key))
                s3_backends.bucket_accounts.pop(bucket.name, None)
        FakeKey.instances_tracked[:] = [k for k in FakeKey.instances_tracked if id(k) not in freed]

    def _backend(self, service: str, region: str) -> Any:
        from moto.backends import get_backend

        return get_backend(service)[self.account_id][region]

    # --- faults ---------------------------------------------------------------------------

    def stuck_changes(self, stuck: bool = True) -> None:
        """Route53 changes stay PENDING for ever (those pending now and new ones); False puts
        the sandbox's own delay back."""
        self.changes.delay_s = math.inf if stuck else self._change_delay_s

    # --- S3 -------------------------------------------------------------------------------

    def create_bucket(self, name: str, region: str | None = None) -> None:
        s3 = self._backend("s3", _PARTITION)
        if name not in s3.buckets:
            s3.create_bucket(name, region or DEFAULT_REGION)

    def put_object(
        self,
        bucket: str,
        name: str,
        size: int,
        age_s: float,
        metadata: Mapping[str, str],
        content: bytes | None = None,
    ) -> None:
        """An object ``size`` bytes long (or holding ``content``), written ``age_s`` seconds
        ago (S3 keeps whole seconds), with user metadata."""
        body = b"\0" * size if content is None else content
        key = self._backend("s3", _PARTITION).put_object(bucket, name, body)
        key.set_metadata({f"x-amz-meta-{k.lower()}": v for k, v in metadata.items()})
        written = (self.clock.now() - timedelta(seconds=age_s)).astimezone(UTC)
        key.last_modified = written.replace(microsecond=0, tzinfo=None)  # moto keeps naive UTC

    def delete_object(self, bucket: str, name: str) -> None:
        """Delete an object as a DeleteObject request would (a lifecycle rule's deletion), and
        free its bytes: moto keeps every key it made in a class-wide registry too."""
        from moto.s3.models import FakeKey

        s3 = self._backend("s3", _PARTITION)
        key = s3.get_bucket(bucket).keys.get(name)
        s3.delete_object(bucket, name)
        if key is None:
            return
        key.dispose()
        tracked = FakeKey.instances_tracked
        at = next((i for i, k in enumerate(tracked) if k is key), None)
        if at is not None:
            del tracked[at]

    def last_modified(self, bucket: str, name: str) -> datetime:
        """Ground truth: when the object was written, as S3 reports it."""
        key = self._backend("s3", _PARTITION).get_object(bucket, name)
        written: datetime = key.last_modified
        return written.replace(tzinfo=UTC)

    def object_names(self, bucket: str) -> list[str]:
        return sorted(self._backend("s3", _PARTITION).get_bucket(bucket).keys.keys())

    # --- Route53 --------------------------------------------------------------------------

    def create_zone(self, domain: str) -> str:
        """A public hosted zone for ``domain`` (once); its bare id."""
        route53 = self._backend("route53", _PARTITION)
        zone = self._zone(domain)
        if zone is None:
            zone = route53.create_hosted_zone(
                _fqdn(domain), private_zone=False, caller_reference=f"drill-sandbox-{domain}"
            )
            self._write_apex_records(zone)
        return _bare_zone_id(zone.id)

    def _write_apex_records(self, zone: Any) -> None:
        """The NS and SOA records Route53 gives a new zone, as it writes them: moto's name
        servers lack the final dot and its SOA value is the text of a Python dict."""
        name_servers = [_fqdn(server) for server in zone.delegation_set.name_servers]
        soa = f"{name_servers[0]} awsdns-hostmaster.amazon.com. 1 7200 900 1209600 86400"
        apex = [("NS", 172800, name_servers), ("SOA", 900, [soa])]
        changes = [
            {
                "Action": "UPSERT",
                "ResourceRecordSet": {
                    "Name": zone.name,
                    "Type": type_,
                    "TTL": ttl,
                    "ResourceRecords": [{"Value": value} for value in values],
                },
            }
            for type_, ttl, values in apex
        ]
        self._backend("route53", _PARTITION).change_resource_record_sets(zone.id, changes)

    def zone_id(self, domain: str) -> str:
        zone = self._zone(domain)
        if zone is None:
            raise KeyError(f"no hosted zone for {domain}")
        return _bare_zone_id(zone.id)

    def _zone(self, domain: str) -> Any:
        zones = self._backend("route53", _PARTITION).zones.values()
        return next((z for z in zones if _same_name(z.name, domain)), None)

    def set_record(
        self, zone_id: str, name: str, type_: str, ttl: int, rrdatas: Sequence[str]
    ) -> None:
        record = {
            "Name": _fqdn(name),
            "Type": type_,
            "TTL": ttl,
            "ResourceRecords": [{"Value": value} for value in rrdatas],
        }
        self._backend("route53", _PARTITION).change_resource_record_sets(
            zone_id, [{"Action": "UPSERT", "ResourceRecordSet": record}]
        )
        self.changes.seed(name, type_, tuple(sorted(rrdatas)))

    def _change_refusal(self, zone_id: str, changes: list[RecordChange]) -> str | None:
        try:
            zone = self._backend("route53", _PARTITION).get_hosted_zone(zone_id)
        except Exception:  # noqa: BLE001 - moto answers an unknown zone in its own words
            return None
        held: HeldRecords = {
            (_fqdn(r.name).lower(), str(r.type).upper()): (
                int(r.ttl) if r.ttl is not None else None,
                tuple(sorted(str(v) for v in r.records)),
            )
            for r in zone.rrsets
            if not r.set_identifier and not getattr(r, "alias_target", None)
        }
        return batch_refusal(held, changes)

    def _listener_refusal(self, form: dict[str, list[str]]) -> tuple[str, str] | None:
        """Why ELBv2 refuses this ModifyListener (error code, message), or None: a port out of
        range, or an action forwarding to a target group the listener's region does not have
        (moto takes any ARN, and the listener would forward to nothing)."""
        for port in form.get("Port", ()):
            bound = _port_bound(port)
            if bound is not None:
                return "ValidationError", (
                    f"1 validation error detected: Value '{port}' at 'port' failed to satisfy "
                    f"constraint: Member must have value {bound}"
                )
        listener = next(iter(form.get("ListenerArn", ())), "")
        region = listener.split(":")[3] if listener.count(":") >= 5 else self.region
        known = self._backend("elbv2", region).target_groups
        forwarded_to = [
            arn
            for key, values in form.items()
            if _ACTION_TARGET_GROUP.fullmatch(key)
            for arn in values
        ]
        if any(arn not in known for arn in forwarded_to):
            return "TargetGroupNotFound", "One or more target groups not found"
        return None

    def record(self, zone_id: str, name: str, type_: str) -> RecordSet | None:
        """Ground truth: the simple record as Route53 holds it, or None."""
        zone = self._backend("route53", _PARTITION).get_hosted_zone(zone_id)
        for held in zone.rrsets:
            if _same_name(held.name, name) and held.type == type_ and not held.set_identifier:
                return RecordSet(_fqdn(name), type_, int(held.ttl or 0), tuple(held.records))
        return None

    def answered(self, name: str, type_: str) -> tuple[RecordValues, float]:
        """Ground truth: what Route53's nameservers answer for a simple record now, and since
        when (monotonic; -inf: since it was seeded). Changes show once INSYNC."""
        return self.changes.answered(name, type_)

    # --- ELBv2 ----------------------------------------------------------------------------

    def forwarding_since(self, listener: str, groups: Iterable[str]) -> float | None:
        """Ground truth: since when (monotonic; -inf: since it was seeded) the listener has
        forwarded to one of ``groups`` (names) with weight, if it does now."""
        with self.elbv2_changes.lock:
            weights = self.listener_weights(listener)
            if not any(weights.get(group, 0) > 0 for group in groups):
                return None
            return self.elbv2_changes.since(self.listener_arn(listener))

    def registered_since(self, target_group: str, targets: Iterable[str]) -> float | None:
        """Ground truth: since when (monotonic; -inf: since it was seeded) one of ``targets``
        has been registered in the target group (moto reports registered targets healthy)."""
        with self.elbv2_changes.lock:
            registered = {target for target, _ in self.targets(target_group)}
            if not registered & set(targets):
                return None
            return self.elbv2_changes.since(self.target_group_arn(target_group))

    def create_target_group(
        self,
        name: str,
        port: int,
        targets: Iterable[str | tuple[str, int]] = (),
        region: str | None = None,
    ) -> str:
        """A target group (once) with these targets registered; its ARN. Targets are
        instance ids ("i-...") or IP addresses, with or without their own port."""
        region = region or self.region
        elbv2 = self._backend("elbv2", region)
        registered = [_target_param(t) for t in targets]
        group = self._target_group(name, region)
        if group is None:
            target_type = "instance" if all(t["Id"].startswith("i-") for t in registered) else "ip"
            group = elbv2.create_target_group(
                name,
                protocol="HTTP",
                port=port,
                vpc_id=self._vpc_id(region),
                target_type=target_type if registered else "ip",
            )
        if registered:
            elbv2.register_targets(group.arn, registered)
        return str(group.arn)

    def create_load_balancer_with_listener(
        self,
        lb_name: str,
        port: int,
        weights: Mapping[str, int],
        region: str | None = None,
        stickiness_s: int | None = None,
    ) -> str:
        """An application load balancer (once) with a listener on ``port`` forwarding to
        these target groups (by name, created with healthy targets when new) at these
        weights; the listener's ARN."""
        region = region or self.region
        elbv2 = self._backend("elbv2", region)
        balancer = self._balancer(lb_name, region) or elbv2.create_load_balancer(
            lb_name, security_groups=[], subnet_ids=self._subnet_ids(region)
        )
        forward = [
            {"TargetGroupArn": self._seeded_group(group, index, region), "Weight": weight}
            for index, (group, weight) in enumerate(sorted(weights.items()))
        ]
        stickiness: dict[str, Any] = {"Enabled": stickiness_s is not None}
        if stickiness_s is not None:
            stickiness["DurationSeconds"] = stickiness_s
        action = {
            "Type": "forward",
            "ForwardConfig": {"TargetGroups": forward, "TargetGroupStickinessConfig": stickiness},
        }
        listener = elbv2.create_listener(
            balancer.arn, "HTTP", port, ssl_policy="", certificate=None, actions=[action]
        )
        return str(listener.arn)

    def _seeded_group(self, name: str, index: int, region: str) -> str:
        existing = self._target_group(name, region)
        if existing is not None:
            return str(existing.arn)
        addresses = [f"172.31.{index + 1}.{10 + n}" for n in range(TARGETS_PER_GROUP)]
        return self.create_target_group(name, 80, addresses, region)

    def targets(self, target_group: str) -> list[tuple[str, int]]:
        """Ground truth: the registered targets (id, port) of a target group (name or ARN)."""
        group = self._find(lambda elbv2: _by_name_or_arn(elbv2.target_groups, target_group))
        return sorted((str(t["Id"]), int(t["Port"])) for t in group.targets.values())

    def listener_weights(self, listener: str) -> dict[str, int]:
        """Ground truth: target group name -> weight of a listener's default forward action
        (listener ARN or load-balancer-name:port)."""
        weights: dict[str, int] = {}
        for action in self.listener_actions(listener):
            for group in (action.get("ForwardConfig") or {}).get("TargetGroups", ()):
                weights[_group_name(group["TargetGroupArn"])] = int(group.get("Weight", 1))
        return weights

    def target_group_arn(self, name: str) -> str:
        return str(self._find(lambda elbv2: _by_name_or_arn(elbv2.target_groups, name)).arn)

    def listener_arn(self, listener: str) -> str:
        """The ARN of ``load-balancer-name:port`` (KeyError when there is none)."""
        return str(self._find(lambda elbv2: _listener_in(elbv2, listener)).arn)

    def listener_actions(self, listener: str) -> list[dict[str, Any]]:
        """Ground truth: a listener's default actions, whole (stickiness included)."""
        found = self._find(lambda elbv2: _listener_in(elbv2, listener))
        return [copy.deepcopy(action.data) for action in found.default_actions]

    def _target_group(self, name: str, region: str) -> Any:
        return _by_name_or_arn(self._backend("elbv2", region).target_groups, name)

    def _balancer(self, name: str, region: str) -> Any:
        return _by_name_or_arn(self._backend("elbv2", region).load_balancers, name)

    def _find(self, look: Callable[[Any], Any]) -> Any:
        """The first thing ``look`` finds in any region this sandbox's ELBv2 has used."""
        from moto.backends import get_backend

        for elbv2 in _regional(get_backend("elbv2"), self.account_id):
            found = look(elbv2)
            if found is not None:
                return found
        raise KeyError("not found in the sandbox's ELBv2")

    def _vpc_id(self, region: str) -> str:
        ec2 = self._backend("ec2", region)
        vpc = ec2.get_default_vpc() or ec2.create_default_vpc()
        return str(vpc.id)

    def _subnet_ids(self, region: str) -> list[str]:
        ec2 = self._backend("ec2", region)
        subnets = ec2.describe_subnets(filters={"vpc-id": [self._vpc_id(region)]})
        return [str(s.id) for s in subnets]


def _quiet_handler() -> type:
    """moto's request handler, minus a log line per request on stderr."""
    from moto.server import MotoRequestHandler

    class QuietHandler(MotoRequestHandler):  # type: ignore[misc]
        def log_request(self, *args: object, **kwargs: object) -> None:
            return

    return QuietHandler


def _port_bound(port: str) -> str | None:
    """The bound a listener port breaks, in the words of AWS's validation, or None."""
    try:
        number = int(port)
    except ValueError:
        return "that is a whole number"
    if number < 1:
        return "greater than or equal to 1"
    if number > 65535:
        return "less than or equal to 65535"
    return None


def _regional(backends: Any, account_id: str) -> Iterator[Any]:
    if account_id in dict.keys(backends):
        yield from list(backends[account_id].values())


def _by_name_or_arn(things: Mapping[str, Any], name: str) -> Any:
    if name in things:
        return things[name]
    return next((t for t in things.values() if t.name == name), None)


def _listener_in(elbv2: Any, listener: str) -> Any:
    balancer_name, _, port = listener.rpartition(":")
    for balancer in elbv2.load_balancers.values():
        for arn, found in balancer.listeners.items():
            by_port = balancer.name == balancer_name and str(found.port) == port
            if arn == listener or by_port:
                return found
    return None


def _target_param(target: str | tuple[str, int]) -> dict[str, Any]:
    if isinstance(target, tuple):
        return {"Id": target[0], "Port": target[1]}
    return {"Id": target}


def _group_name(arn: str) -> str:
    return arn.split(":", 5)[-1].split("/")[1]


def _bare_zone_id(zone_id: str) -> str:
    return zone_id.rsplit("/", 1)[-1]  # "/hostedzone/Z123" -> "Z123", as the console shows it


def _fqdn(name: str) -> str:
    return name if name.endswith(".") else f"{name}."


def _same_name(a: str, b: str) -> bool:
    return _fqdn(a).lower() == _fqdn(b).lower()
