"""The request handler behind the socket: an HTTP request in, a response or a watch stream out.

It authenticates the caller, applies impersonation, then request faults (latency, injected
error statuses), then authorization (``guard``); routes the path (discovery and OpenAPI
documents are answered here, from ``api/discovery`` and ``api/openapi``), parses the query
string and body, calls the matching ``Api`` verb (or answers a review or TokenRequest) and turns
``ApiError`` into a ``Status`` response. A GET or watch whose Accept header prefers a
``meta.k8s.io`` ``Table`` (``kubectl get``) is answered with one (``api/tables``); every other
client gets the plain objects and lists. Anything unexpected becomes a 500 ``InternalError``
and is kept in ``errors`` so a test can fail loudly on an emulator bug instead of seeing a
confusing 500.

It must not touch sockets or HTTP framing (that is ``_server``) nor implement verb semantics
(that is ``_api``).
"""

from __future__ import annotations

import json
import threading
import traceback
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any
from urllib.parse import urlencode

import yaml

from drill.clock import Clock
from drill.sandbox.kube._faults import Faults
from drill.sandbox.kube.api import discovery, openapi, reviews, tables
from drill.sandbox.kube.api.authn import UserInfo
from drill.sandbox.kube.api.errors import ApiError, bad_request, invalid_options
from drill.sandbox.kube.api.objects import Obj, dig, dumps
from drill.sandbox.kube.api.rbac import Asked
from drill.sandbox.kube.api.resources import SERVER_VERSION, ResourceType
from drill.sandbox.kube.api.selectors import parse_field_selector, parse_label_selector
from drill.sandbox.kube.api.store import Subscription
from drill.sandbox.kube.api.validation import dry_run_causes, not_supported
from drill.sandbox.kube.api.verbs import (
    Api,
    DeleteOptions,
    ListOptions,
    PartWrite,
    WriteOptions,
)
from drill.sandbox.kube.transport import protobuf
from drill.sandbox.kube.transport.guard import Guard, request_attributes
from drill.sandbox.kube.transport.routing import (
    Discovery,
    OpenApiRoute,
    ResourceRoute,
    not_found_path,
    route,
)
from drill.sandbox.kube.transport.watch import WatchStream

JSON = "application/json"


@dataclass(frozen=True)
class Request:
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]  # names in lower case
    body: bytes
    host: str = "127.0.0.1"
    # Every header as sent, names in lower case: some (Impersonate-Group) may come twice.
    header_pairs: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class Response:
    status: int
    body: bytes
    content_type: str = JSON
    headers: tuple[tuple[str, str], ...] = ()


# How many requests a cluster keeps in its record: the last ones only, so a long-lived sandbox
# (`drill sandbox up`, thousands of watch and poll requests) holds a bounded amount.
RECEIVED_KEPT = 2000


@dataclass(frozen=True)
class Received:
    """One request the API server answered, as the client sent it: for tests that check what
    drill asked for (a Restore's spec, a Job's, a list's label selector), not only what is
    stored, since some objects are gone by the time a test looks."""

    method: str
    path: str
    query: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body) if self.body else None


class RequestRecord:
    """The last ``RECEIVED_KEPT`` requests answered, appended from the server's threads."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._kept: deque[Received] = deque(maxlen=RECEIVED_KEPT)

    def add(self, request: Received) -> None:
        with self._lock:
            self._kept.append(request)

    def all(self) -> list[Received]:
        with self._lock:
            return list(self._kept)


def json_response(status: int, document: object, warnings: list[str] | None = None) -> Response:
    """``warnings`` become ``Warning: 299 - "text"`` headers, as the API server sends them."""
    headers = tuple(("Warning", f"299 - {json.dumps(text)}") for text in warnings or ())
    return Response(status, dumps(document), headers=headers)


def error_response(error: ApiError) -> Response:
    return Response(error.code, dumps(error.status()), headers=error.headers)


@dataclass
class AppConfig:
    wall: Clock
    stop: threading.Event
    watch_timeout_s: float
    pod_log: Callable[[Obj], str]
    errors: list[str] = field(default_factory=list)
    received: RequestRecord = field(default_factory=lambda: RequestRecord())
    # The backup bucket's files by key, served under ``bucket_path`` as pre-signed URLs are.
    bucket: Callable[[str], bytes | None] = lambda key: None
    bucket_path: str = "/velero-bucket/"
    # services/proxy: (namespace, "[scheme:]name[:port]", method, path) -> status and body.
    proxy: Callable[[str, str, str, str], tuple[int, str]] = lambda *_: _no_proxy()
    # A balancer in front cuts a watch idle this long (None: never); told each time it does.
    watch_idle_cut_s: float | None = None
    on_idle_cut: Callable[[], None] = lambda: None


# The kinds that are asked, answered and never stored, by (group, plural).
_REVIEWS = {
    ("authorization.k8s.io", "selfsubjectaccessreviews"),
    ("authorization.k8s.io", "selfsubjectrulesreviews"),
    ("authentication.k8s.io", "selfsubjectreviews"),
}


class App:
    def __init__(self, api: Api, faults: Faults, config: AppConfig, guard: Guard) -> None:
        self._api = api
        self._faults = faults
        self._config = config
        self._guard = guard
        self._openapi = openapi.OpenApi(api.registry)

    def handle(self, request: Request) -> Response | WatchStream:
        try:
            if request.path.startswith(self._config.bucket_path):
                # A download URL is pre-signed into the bucket: no API server credentials.
                return self._bucket_file(request)
            user = self._guard.authenticate(request.headers)
            user = self._guard.impersonate(user, list(request.header_pairs))
            self._apply_request_faults(request)
            asked = request_attributes(request.method, request.path, request.query)
            self._guard.authorize(asked, user)
            self._config.received.add(
                Received(request.method, request.path, dict(request.query), request.body)
            )
            target = route(request.path, self._api.registry)
            if isinstance(target, Discovery):
                return self._discovery(target, request)
            if isinstance(target, OpenApiRoute):
                return self._openapi_document(target, request)
            return self._resource(target, request, asked, user)
        except ApiError as error:
            return error_response(error)
        except Exception:  # noqa: BLE001 - an emulator bug must reach the client as a 500
            self._config.errors.append(traceback.format_exc())
            return error_response(
                ApiError(500, "Internal error occurred: emulator bug, see errors")
            )

    def _apply_request_faults(self, request: Request) -> None:
        delay_s = self._faults.latency_for(request.path)
        if delay_s > 0:
            self._config.stop.wait(delay_s)
        failure = self._faults.take_request_failure(request.method, request.path)
        if failure is not None:
            raise failure

    def _bucket_file(self, request: Request) -> Response:
        """GET of a pre-signed URL: the object's bytes, or the store's 404 NoSuchKey."""
        found = self._config.bucket(request.path.removeprefix(self._config.bucket_path))
        if request.method != "GET" or found is None:
            missing = b"<Error><Code>NoSuchKey</Code></Error>"
            return Response(404, missing, "application/xml")
        return Response(200, found, "application/octet-stream")

    # -- discovery -----------------------------------------------------------------------------

    def _discovery(self, target: Discovery, request: Request) -> Response:
        if request.method != "GET":
            raise ApiError(405, "the server does not allow this method on the requested resource")
        document = self._discovery_document(target, request.host)
        if document is None:
            raise not_found_path()
        return json_response(200, document)

    def _discovery_document(self, target: Discovery, host: str) -> Obj | None:
        registry = self._api.registry
        if target.what == "version":
            return SERVER_VERSION
        if target.what == "api":
            return discovery.api_versions(host)
        if target.what == "apis":
            return discovery.api_group_list(registry)
        if target.what == "group":
            return discovery.api_group(registry, target.group)
        return discovery.resource_list(registry, target.group, target.version)

    def _openapi_document(self, target: OpenApiRoute, request: Request) -> Response:
        """As kube-openapi's handler answers: the index always as JSON; a document as JSON when
        the Accept header allows it (406 otherwise: the sandbox encodes no protobuf), moved
        (301) to its current URL when asked by an older hash, cacheable for good when asked by
        the current one."""
        if request.method != "GET":
            raise ApiError(405, "the server does not allow this method on the requested resource")
        if not target.key:
            index = self._openapi.index()
            return Response(200, index.body, headers=(_etag(index),))
        document = self._openapi.document(target.key)
        if document is None:
            raise not_found_path()
        if not _accepts_json(request.headers.get("accept", "")):
            return Response(406, b"", "text/plain", (("Vary", "Accept"),))
        asked = request.query.get("hash")
        if asked is None:
            return Response(200, document.body, headers=(_etag(document), ("Vary", "Accept")))
        if asked != document.hash:
            moved = openapi.server_relative_url(target.key, document.hash)
            return Response(301, b"", "text/plain", (("Location", moved),))
        forever = (("Cache-Control", "public, immutable"), ("Vary", "Accept"))
        return Response(200, document.body, headers=(_etag(document), *forever))

    # -- resources -----------------------------------------------------------------------------

    def _resource(
        self, target: ResourceRoute, request: Request, asked: Asked, user: UserInfo
    ) -> Response | WatchStream:
        if target.sub is None and asked.verb not in target.rt.verbs:
            raise _not_allowed(request)
        if (target.rt.group, target.rt.plural) in _REVIEWS:
            return self._review(target, request, user)
        if target.sub == "token":
            return self._token(target, request)
        if target.sub == "log":
            return self._log(target, request)
        if target.sub == "proxy":
            return self._proxy(target, request)
        if target.sub is not None:
            return self._subresource(target, request)
        if target.is_collection:
            return self._collection(target, request)
        return self._object(target, request)

    def _collection(self, target: ResourceRoute, request: Request) -> Response | WatchStream:
        rt, namespace = target.rt, target.namespace
        if request.method == "GET" and request.query.get("watch", "").lower() in ("true", "1"):
            return self._watch(target, request)
        if request.method == "GET":
            listed = self._api.list(rt, namespace, _list_options(request))
            table = _table_options(request)
            if table is not None:
                listed = tables.list_table(rt, listed, self._api.clock.now(), table)
            return json_response(200, listed)
        if request.method == "POST" and (namespace is not None or not rt.namespaced):
            options = _write_options(request, "CreateOptions")
            created = self._api.create(rt, namespace, _body(request), options)
            return json_response(201, created, options.warnings)
        if request.method == "DELETE":
            deleted = self._api.delete_collection(
                rt, namespace, _list_options(request), _delete_options(request)
            )
            return json_response(200, deleted)
        raise _not_allowed(request)

    def _object(self, target: ResourceRoute, request: Request) -> Response:
        rt, namespace, name = target.rt, target.namespace, str(target.name)
        if request.method == "GET":
            found = self._api.get(rt, namespace, name)
            table = _table_options(request)
            if table is not None:
                found = tables.object_table(rt, found, self._api.clock.now(), table)
            return json_response(200, found)
        if request.method == "PUT":
            options = _write_options(request, "UpdateOptions")
            replaced = self._api.replace(rt, namespace, name, _body(request), options)
            return json_response(200, replaced, options.warnings)
        if request.method == "PATCH":
            options = _write_options(request, "PatchOptions")
            patched = self._api.patch(
                rt, namespace, name, _content_type(request), _body(request), options
            )
            return json_response(200, patched, options.warnings)
        if request.method == "DELETE":
            return json_response(
                200, self._api.delete(rt, namespace, name, _delete_options(request))
            )
        raise _not_allowed(request)

    def _subresource(self, target: ResourceRoute, request: Request) -> Response:
        rt, namespace, name = target.rt, target.namespace, str(target.name)
        scale = target.sub == "scale"
        if target.sub not in ("scale", "status"):
            raise _not_allowed(request)
        if request.method == "GET":
            found = (
                self._api.get_scale(rt, namespace, name)
                if scale
                else self._api.get(rt, namespace, name)
            )
            return json_response(200, found)
        if request.method in ("PUT", "PATCH"):
            patching = request.method == "PATCH"
            options = _write_options(request, "PatchOptions" if patching else "UpdateOptions")
            content_type = _content_type(request) if patching else None
            write = PartWrite(_body(request), content_type, options.dry_run)
            written = (self._api.write_scale if scale else self._api.write_status)(
                rt, namespace, name, write
            )
            return json_response(200, written)
        raise _not_allowed(request)

    def _review(self, target: ResourceRoute, request: Request, user: UserInfo) -> Response:
        body = _body(request)
        if target.rt.plural == "selfsubjectaccessreviews":
            answer = reviews.access_review(body, user, self._guard.authorizer)
        elif target.rt.plural == "selfsubjectrulesreviews":
            answer = reviews.rules_review(body, user, self._guard.authorizer)
        else:
            answer = reviews.self_subject_review(user)
        return json_response(201, answer)

    def _token(self, target: ResourceRoute, request: Request) -> Response:
        if request.method != "POST":
            raise _not_allowed(request)
        account = self._api.get(target.rt, target.namespace, str(target.name))
        return json_response(
            201, reviews.token_request(_body(request), account, self._guard.tokens)
        )

    def _log(self, target: ResourceRoute, request: Request) -> Response:
        if request.method != "GET":
            raise _not_allowed(request)
        pod = self._api.get(target.rt, target.namespace, str(target.name))
        text = self._config.pod_log(pod)
        tail = request.query.get("tailLines")
        if tail is not None:
            text = _tail(text, _int_param(request, "tailLines"))
        return Response(200, text.encode(), content_type="text/plain")

    def _proxy(self, target: ResourceRoute, request: Request) -> Response:
        """``services/{[scheme:]name[:port]}/proxy/{path}``: the request as the Service's
        endpoint answers it (``proxy`` raises the API server's own errors)."""
        path = "/" + request.path.split("/proxy/", 1)[1] if "/proxy/" in request.path else "/"
        if request.query:  # sent on to the Service as it came
            path += "?" + urlencode(request.query)
        status, body = self._config.proxy(
            str(target.namespace), str(target.name), request.method, path
        )
        return Response(status, body.encode(), "application/json")

    def _watch(self, target: ResourceRoute, request: Request) -> WatchStream:
        refusal = self._faults.take_watch_refusal()
        if refusal is not None:
            raise refusal
        since = request.query.get("resourceVersion") or "0"
        since_rv = None if since == "0" else _int_param(request, "resourceVersion")
        failed: ApiError | None = None
        try:
            backlog, subscription = self._api.store.subscribe(target.rt, target.namespace, since_rv)
        except ApiError as error:
            if error.code != 410:
                raise
            # As kube-apiserver's watch cache answers (Cacher.Watch, newErrWatcher): a watch
            # whose history was compacted still starts, and its one event is the 410 ERROR.
            backlog, subscription, failed = [], Subscription(target.rt, target.namespace), error
        timeout_s = float(_int_param(request, "timeoutSeconds") or self._config.watch_timeout_s)
        selectors = (
            parse_label_selector(request.query.get("labelSelector")),
            parse_field_selector(request.query.get("fieldSelector"), target.rt.plural),
        )
        timing = (self._config.wall, timeout_s, self._config.stop)
        budget = self._faults.watch_budget()
        idle_cut = (self._config.watch_idle_cut_s, self._config.on_idle_cut)
        table = _table_options(request)
        render = _identity if table is None else _TableEvents(self._api, target.rt, table)
        return WatchStream(
            self._api.store,
            subscription,
            backlog,
            selectors,
            budget,
            timing,
            idle_cut,
            render,
            failed,
        )


class _TableEvents:
    """A Table watch's objects: each event's object as a Table of one row, the column
    definitions with the first event only, as kube-apiserver sends them."""

    def __init__(self, api: Api, rt: ResourceType, options: tables.TableOptions) -> None:
        self._api, self._rt, self._options = api, rt, options

    def __call__(self, obj: Obj) -> Obj:
        rendered = tables.object_table(self._rt, obj, self._api.clock.now(), self._options)
        self._options = replace(self._options, headers=False)
        return rendered


def _identity(obj: Obj) -> Obj:
    return obj


def _table_options(request: Request) -> tables.TableOptions | None:
    """The Table the client asked for, if its Accept header prefers one (kubectl get does:
    ``application/json;as=Table;v=v1;g=meta.k8s.io,...,application/json``); None for every
    other client, which gets the plain object or list. Media types are taken in the order
    listed: the first the sandbox can serve wins, as the API server's negotiation does."""
    for media_type in request.headers.get("accept", "").split(","):
        kind, *raw_params = (part.strip() for part in media_type.split(";"))
        params = dict(p.split("=", 1) for p in raw_params if "=" in p)
        if params.get("as") == "Table":
            version = params.get("v", "")
            if kind == JSON and params.get("g") == "meta.k8s.io" and version in ("v1", "v1beta1"):
                return _table_request(request, version)
            continue  # a Table the sandbox cannot encode (protobuf): try the next one
        if kind in (JSON, "*/*", "application/*") or "protobuf" in kind or kind == "":
            return None
    return None


def _table_request(request: Request, version: str) -> tables.TableOptions:
    include = request.query.get("includeObject") or "Metadata"
    if include not in tables.INCLUDE_OBJECT:
        raise bad_request(f"includeObject: unsupported value {include!r}")
    return tables.TableOptions(version=version, include_object=include)


def _etag(document: openapi.Document) -> tuple[str, str]:
    return ("ETag", f'"{document.hash}"')


def _accepts_json(accept: str) -> bool:
    """Whether a media range in ``accept`` (none at all means any) covers JSON: kubectl asks
    for ``application/json``; a client asking only for the protobuf form gets 406."""
    if not accept.strip():
        return True
    for media_range in accept.split(","):
        kind, *params = (part.strip().lower() for part in media_range.split(";"))
        if "q=0" in params or "q=0.0" in params:
            continue  # explicitly refused
        if kind in (JSON, "application/*", "*/*"):
            return True
    return False


def _no_proxy() -> tuple[int, str]:
    raise not_found_path()


def _not_allowed(request: Request) -> ApiError:
    return ApiError(
        405, f"the server does not allow this method ({request.method}) on the requested resource"
    )


def _int_param(request: Request, key: str) -> int:
    raw = request.query.get(key, "")
    if raw == "":
        return 0
    try:
        return int(raw)
    except ValueError:
        raise bad_request(f"invalid value for {key}: {raw!r}") from None


def _tail(text: str, lines: int) -> str:
    kept = text.splitlines(keepends=True)[-lines:] if lines > 0 else []
    return "".join(kept)


def _content_type(request: Request) -> str:
    return request.headers.get("content-type", JSON)


def _body(request: Request) -> object:
    if "protobuf" in _content_type(request):
        # kubectl's typed commands (``kubectl create deployment ...``, ``create token``,
        # ``auth can-i``) send protobuf: the kinds they send are decoded, others get 415.
        return protobuf.decode(request.body)
    if not request.body:
        raise bad_request("the request has no body")
    try:
        if "yaml" in _content_type(request):
            return yaml.safe_load(request.body)
        return json.loads(request.body)
    except (ValueError, yaml.YAMLError) as error:
        raise bad_request(f"the request body is not valid: {error}") from None


def _write_options(request: Request, kind: str) -> WriteOptions:
    """A client's writes default to ``Warn``, as the API server's do since Kubernetes 1.27;
    ``kind`` (CreateOptions, UpdateOptions, PatchOptions) names them in a refusal."""
    dry_run = request.query.get("dryRun")
    return WriteOptions(
        field_validation=request.query.get("fieldValidation") or "Warn",
        dry_run=_dry_run([] if dry_run is None else [dry_run], kind),
    )


def _dry_run(values: list[str], kind: str) -> bool:
    """Whether the request is a dry run; a value other than ``All`` is the handlers' 422 (the
    options' ValidateDryRun, then NewInvalid of the options kind)."""
    causes = dry_run_causes(values)
    if causes:
        raise invalid_options(kind, causes)
    return bool(values)


def _strings(values: object, kind: str) -> list[str]:
    """A list of strings from a decoded body, or the 400 a decode error is."""
    if not isinstance(values, list) or not all(isinstance(v, str) for v in values):
        raise bad_request(f"{kind}: dryRun must be a list of strings")
    return values


def _list_options(request: Request) -> ListOptions:
    return ListOptions(
        label_selector=request.query.get("labelSelector"),
        field_selector=request.query.get("fieldSelector"),
        limit=_int_param(request, "limit") or None,
        continue_token=request.query.get("continue"),
    )


def _delete_options(request: Request) -> DeleteOptions:
    """DeleteOptions as the delete handler reads them: from the body when there is one (the
    query is then ignored), else from the query; then ValidateDeleteOptions (a 422)."""
    body: dict[str, Any]
    if request.body:
        sent = _body(request)
        if not isinstance(sent, dict):
            raise bad_request("DeleteOptions must be an object")
        body = sent
    else:
        body = {k: v for k, v in request.query.items() if k == "propagationPolicy"}
        orphan = request.query.get("orphanDependents")
        if orphan is not None:
            body["orphanDependents"] = orphan.lower() == "true"
        if "dryRun" in request.query:
            body["dryRun"] = [request.query["dryRun"]]
    policy, orphan_dependents = body.get("propagationPolicy"), body.get("orphanDependents")
    # kubectl delete --dry-run=server sends dryRun in the body; other clients in the query.
    dry_run = body.get("dryRun") or []
    _validate_delete_options(policy, orphan_dependents, dry_run)
    if policy is None and orphan_dependents is not None:
        policy = "Orphan" if orphan_dependents else "Background"
    return DeleteOptions(
        propagation=policy,
        uid=dig(body, "preconditions", "uid"),
        resource_version=dig(body, "preconditions", "resourceVersion"),
        dry_run=bool(dry_run),
    )


_POLICIES = ("Foreground", "Background", "Orphan")


def _validate_delete_options(policy: object, orphan_dependents: object, dry_run: object) -> None:
    """apimachinery ValidateDeleteOptions: a known propagationPolicy, not beside the
    deprecated orphanDependents, and a dry run that is ``All``."""
    causes: list[tuple[str, str, str]] = []
    if policy is not None and orphan_dependents is not None:
        why = f"Invalid value: {json.dumps(policy)}: orphanDependents and deletionPropagation "
        causes.append(("FieldValueInvalid", "propagationPolicy", why + "cannot be both set"))
    if policy is not None and policy not in _POLICIES:
        causes.append(not_supported("propagationPolicy", policy, (*_POLICIES, "nil")))
    causes += dry_run_causes(_strings(dry_run, "DeleteOptions"))
    if causes:
        raise invalid_options("DeleteOptions", causes)
