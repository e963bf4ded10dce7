"""The verbs of the Kubernetes API over the store: create, get, list, replace, patch, delete.

This is the emulated API server's registry layer: it checks request bodies, fills metadata
(uid, creationTimestamp, generation, generateName), applies defaults and validation, honours
subresource rules (clients cannot change ``status`` through the main resource of a kind with a
status subresource; Velero kinds have none, so their status travels with the object), resolves
preconditions into 409s, and cascades deletes along ownerReferences. Controllers use it too, so
objects they create go through the same rules as a client's. Custom resources with a structural
schema (Velero's) are pruned, defaulted and checked against it; what was pruned becomes
warnings, or a 400 under ``fieldValidation=Strict`` (``WriteOptions``; the emulator's own
writes are strict, so a controller that writes an undeclared field fails loudly). A dry run
(``dryRun=All``) goes through all of it, admission included, and answers as the write would,
but stores nothing: no resourceVersion, no event, so no controller sees it; nothing cascades.

It must not know about HTTP (query strings, headers, sockets) or run any controller logic.
"""

from __future__ import annotations

import base64
import binascii
import json
import random
import uuid
from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field
from functools import partial

from drill.clock import Clock
from drill.sandbox.kube.api.admission import Admission
from drill.sandbox.kube.api.defaults import Defaulter
from drill.sandbox.kube.api.errors import (
    ApiError,
    bad_request,
    conflict,
    gone,
    invalid,
    not_found,
    terminating,
)
from drill.sandbox.kube.api.nodeports import NodePorts
from drill.sandbox.kube.api.objects import (
    Obj,
    clone,
    dig,
    meta,
    name_of,
    namespace_of,
    rfc3339,
    uid_of,
)
from drill.sandbox.kube.api.patches import apply_patch
from drill.sandbox.kube.api.resources import Registry, ResourceType
from drill.sandbox.kube.api.scale import replicas_from, scale_of
from drill.sandbox.kube.api.schemas import schema_for
from drill.sandbox.kube.api.selectors import parse_field_selector, parse_label_selector
from drill.sandbox.kube.api.store import Store
from drill.sandbox.kube.api.structural import apply_defaults, causes, prune
from drill.sandbox.kube.api.validation import immutable, validate

_SUFFIX_ALPHABET = "bcdfghjklmnpqrstvwxz2456789"  # the real server's: no vowels, no look-alikes
_SYSTEM_META = ("uid", "resourceVersion", "creationTimestamp", "deletionTimestamp", "generation")
_RETURNS_OBJECT_ON_DELETE = ("pods", "services")
_ORPHAN_BY_DEFAULT = ("jobs",)  # batch/v1 Jobs orphan their pods unless told otherwise
# The built-in kinds whose strategy gives them a metadata.generation (PrepareForCreate sets 1;
# custom resources have one too); ConfigMaps, Secrets, Services, Pods (in 1.32), namespaces,
# leases and the rest have none.
_GENERATION_KINDS = ("deployments", "statefulsets", "daemonsets", "replicasets", "jobs", "cronjobs")


@dataclass(frozen=True)
class ListOptions:
    label_selector: str | None = None
    field_selector: str | None = None
    limit: int | None = None
    continue_token: str | None = None


FIELD_VALIDATIONS = ("Ignore", "Warn", "Strict")


@dataclass
class WriteOptions:
    """How a write treats fields its schema does not declare (``fieldValidation``), and the
    warnings it gathers for the response."""

    field_validation: str = "Strict"
    warnings: list[str] = field(default_factory=list)
    dry_run: bool = False


@dataclass(frozen=True)
class PartWrite:
    """A write of a subresource (``status``, ``scale``): a PUT's body, or a PATCH's."""

    body: object
    content_type: str | None = None  # a PATCH's; None: a PUT
    dry_run: bool = False


@dataclass(frozen=True)
class DeleteOptions:
    propagation: str | None = None
    uid: str | None = None
    resource_version: str | None = None
    dry_run: bool = False


class Api:
    def __init__(self, store: Store, registry: Registry, clock: Clock, rng: random.Random) -> None:
        self.store = store
        self.registry = registry
        self._clock = clock
        self._rng = rng
        self._defaulter = Defaulter()
        self._admission = Admission(store, registry)
        self._node_ports = NodePorts(store, registry.get("v1", "Service"))
        self._namespaces = registry.get("v1", "Namespace")

    @property
    def clock(self) -> Clock:
        """The clock objects are stamped by (a Table's ages are measured against it)."""
        return self._clock

    # -- create --------------------------------------------------------------------------------

    def create(
        self,
        rt: ResourceType,
        namespace: str | None,
        body: object,
        options: WriteOptions | None = None,
    ) -> Obj:
        obj = self._body(rt, namespace, body)
        options = options or WriteOptions()
        metadata = meta(obj)
        _no_resource_version(metadata)
        for key in _SYSTEM_META:
            metadata.pop(key, None)
        with self.store.lock:
            self._require_open_namespace(rt, obj)
            self._admission.on_create(rt, obj)
            self._assign_name(rt, obj)
            metadata.update(uid=self.new_uid(), creationTimestamp=rfc3339(self._clock.now()))
            if rt.plural in _GENERATION_KINDS or schema_for(rt) is not None:
                metadata["generation"] = 1
            with self._defaults_of(options):
                self._shape(rt, obj, partial(self._defaulter.on_create, rt), options)
            return self.store.insert(rt, obj, dry_run=options.dry_run)

    def _defaults_of(self, options: WriteOptions) -> AbstractContextManager[None]:
        return self._defaulter.trial() if options.dry_run else nullcontext()

    def new_uid(self) -> str:
        return str(uuid.UUID(int=self._rng.getrandbits(128), version=4))

    def random_suffix(self, length: int = 5) -> str:
        return "".join(self._rng.choice(_SUFFIX_ALPHABET) for _ in range(length))

    def _assign_name(self, rt: ResourceType, obj: Obj) -> None:
        metadata = obj["metadata"]
        prefix = metadata.get("generateName")
        if metadata.get("name") or not prefix:
            return
        for _ in range(10):
            candidate = f"{prefix}{self.random_suffix()}"
            if self.store.read(rt, namespace_of(obj), candidate) is None:
                metadata["name"] = candidate
                return
        raise ApiError(
            409, f"could not generate a unique name from {prefix!r}", reason="AlreadyExists"
        )

    def _require_open_namespace(self, rt: ResourceType, obj: Obj) -> None:
        if not rt.namespaced:
            return
        found = self.store.read(self._namespaces, "", namespace_of(obj))
        if found is None:
            raise not_found(self._namespaces, namespace_of(obj))
        if dig(found, "status", "phase") == "Terminating":
            raise terminating(
                namespace_of(obj), rt, name_of(obj) or str(obj["metadata"].get("generateName", ""))
            )

    # -- read ----------------------------------------------------------------------------------

    def get(self, rt: ResourceType, namespace: str | None, name: str) -> Obj:
        found = self.store.read(rt, namespace or "", name)
        if found is None:
            raise not_found(rt, name)
        return clone(found)

    def list(self, rt: ResourceType, namespace: str | None, options: ListOptions) -> Obj:
        labels = parse_label_selector(options.label_selector)
        fields = parse_field_selector(options.field_selector, rt.plural)
        with self.store.lock:
            rv = self.store.current_rv()
            matching = [
                o
                for o in self.store.items(rt, namespace)
                if labels.matches(o) and fields.matches(o)
            ]
        start, list_rv = self._continue_from(options.continue_token, rv)
        # Only a positive limit pages, as in the real storage: 0 or less lists everything.
        limit = options.limit or 0
        end = min(start + limit, len(matching)) if limit > 0 else len(matching)
        metadata: Obj = {"resourceVersion": str(list_rv)}
        if end < len(matching):
            metadata["continue"] = _continue_token(list_rv, end)
            metadata["remainingItemCount"] = len(matching) - end
        return {
            "kind": rt.list_kind,
            "apiVersion": rt.api_version,
            "metadata": metadata,
            "items": [clone(o) for o in matching[start:end]],
        }

    def _continue_from(self, token: str | None, rv: int) -> tuple[int, int]:
        """(offset, resourceVersion) of a continue token. Approximation: offsets, not keys."""
        if not token:
            return 0, rv
        try:
            decoded = json.loads(base64.urlsafe_b64decode(token.encode()))
            offset, list_rv = int(decoded["offset"]), int(decoded["rv"])
        except (ValueError, KeyError, TypeError, binascii.Error) as error:
            raise bad_request(f"invalid continue token: {error}") from None
        if self.store.is_expired(list_rv):
            raise gone(
                "The provided continue parameter is too old to display a consistent list result. "
                "You can start a new list without the continue parameter."
            )
        return offset, list_rv

    # -- update --------------------------------------------------------------------------------

    def replace(
        self,
        rt: ResourceType,
        namespace: str | None,
        name: str,
        body: object,
        options: WriteOptions | None = None,
    ) -> Obj:
        obj = self._body(rt, namespace, body)
        self._same_name(obj, name)
        with self.store.lock:
            old = self._current(rt, namespace, name)
            _check_uid(rt, old, obj)
            expected_rv = str(meta(obj).get("resourceVersion") or "")
            return self._write(rt, old, obj, expected_rv, options or WriteOptions())

    def patch(
        self,
        rt: ResourceType,
        namespace: str | None,
        name: str,
        content_type: str,
        patch: object,
        options: WriteOptions | None = None,
    ) -> Obj:
        with self.store.lock:
            old = self._current(rt, namespace, name)
            patched = self._patched(content_type, old, patch)
            _same_place(patched, namespace, name)
            return self._write(
                rt, old, patched, _changed_rv(old, patched), options or WriteOptions()
            )

    def write_status(
        self, rt: ResourceType, namespace: str | None, name: str, write: PartWrite
    ) -> Obj:
        """PUT or PATCH of ``status``: the status changes, nothing else does."""
        sent = None if write.content_type else self._body(rt, namespace, write.body)
        with self.store.lock:
            old = self._current(rt, namespace, name)
            if sent is None:
                sent = self._patched(str(write.content_type), old, write.body)
                expected_rv = _changed_rv(old, sent)
            else:
                self._same_name(sent, name)
                _check_uid(rt, old, sent)
                expected_rv = str(meta(sent).get("resourceVersion") or "")
            new = clone(old)
            new["status"] = sent.get("status", {})
            return self.store.update(rt, new, expected_rv, dry_run=write.dry_run)

    def _write(
        self, rt: ResourceType, old: Obj, new: Obj, expected_rv: str, options: WriteOptions
    ) -> Obj:
        """Store ``new`` in place of ``old``, keeping what clients may not change, refusing a
        change of what they cannot (``metadata.uid``: ValidateObjectMetaAccessorUpdate)."""
        metadata = meta(new)
        if metadata.get("uid") and metadata["uid"] != uid_of(old):
            raise invalid(rt, name_of(old), [immutable("metadata.uid", metadata["uid"])])
        metadata["name"], metadata["namespace"] = name_of(old), old["metadata"].get("namespace")
        if metadata["namespace"] is None:
            metadata.pop("namespace")
        if "deletionTimestamp" in old["metadata"]:
            for kept in ("deletionTimestamp", "deletionGracePeriodSeconds"):
                if kept in old["metadata"]:
                    metadata[kept] = old["metadata"][kept]
            _no_new_finalizers(rt, old, new)
        if rt.has_status_subresource:
            new["status"] = clone(old.get("status", {}))
        with self._defaults_of(options):
            self._shape(rt, new, partial(self._defaulter.on_update, rt, old), options, old)
        stored = self.store.update(rt, new, expected_rv or None, dry_run=options.dry_run)
        if (
            not options.dry_run
            and "deletionTimestamp" in metadata
            and not metadata.get("finalizers")
            and rt is not (self._namespaces)
        ):
            self._remove(rt, stored, None)  # its last finalizer went: now it is deleted
        return stored

    def _patched(self, content_type: str, old: Obj, patch: object) -> Obj:
        patched = apply_patch(content_type, clone(old), patch)
        if not isinstance(patched, dict):
            raise ApiError(422, "the patch turned the object into something that is not an object")
        return patched

    # -- scale ---------------------------------------------------------------------------------

    def get_scale(self, rt: ResourceType, namespace: str | None, name: str) -> Obj:
        return scale_of(self.get(rt, namespace, name))

    def write_scale(
        self, rt: ResourceType, namespace: str | None, name: str, write: PartWrite
    ) -> Obj:
        """PUT or PATCH of ``scale``: the replicas change, nothing else does."""
        with self.store.lock:
            view = scale_of(self._current(rt, namespace, name))
            scale, expected_rv = _scale_asked(view, write, namespace, name)
            new = clone(self._current(rt, namespace, name))
            new["spec"]["replicas"] = replicas_from(scale, name)
            updated = self.store.update(rt, new, expected_rv or None, dry_run=write.dry_run)
            return scale_of(updated)

    # -- delete --------------------------------------------------------------------------------

    def delete(
        self, rt: ResourceType, namespace: str | None, name: str, options: DeleteOptions
    ) -> Obj:
        with self.store.lock:
            old = self._current(rt, namespace, name)
            self._check_preconditions(rt, old, options)
            self._admission.on_delete(rt, name)
            if rt is self._namespaces:
                return self._start_terminating(name, options.dry_run)
            if old["metadata"].get("finalizers"):
                return self._mark_deleting(rt, old, options.dry_run)
            removed = clone(old) if options.dry_run else self._remove(rt, old, options.propagation)
        if rt.plural in _RETURNS_OBJECT_ON_DELETE:
            return removed
        return _success(rt, name, uid_of(old))

    def _remove(self, rt: ResourceType, old: Obj, propagation: str | None) -> Obj:
        namespace = namespace_of(old)
        removed = self.store.remove(rt, namespace, name_of(old))
        policy = propagation or ("Orphan" if rt.plural in _ORPHAN_BY_DEFAULT else "Background")
        self._handle_dependents(namespace, uid_of(old), orphan=policy == "Orphan")
        return removed

    def _mark_deleting(self, rt: ResourceType, old: Obj, dry_run: bool) -> Obj:
        """An object with finalizers is not removed: it gets a deletionTimestamp and stays,
        answered as it now is, until an update takes its last finalizer away (the generic
        store's updateForGracefulDeletionAndFinalizers, then ShouldDeleteDuringUpdate)."""

        def mark(obj: Obj) -> None:
            obj["metadata"].setdefault("deletionTimestamp", rfc3339(self._clock.now()))
            obj["metadata"].setdefault("deletionGracePeriodSeconds", 0)

        return self.store.mutate(rt, namespace_of(old), name_of(old), mark, dry_run=dry_run)

    def delete_collection(
        self,
        rt: ResourceType,
        namespace: str | None,
        options: ListOptions,
        deleting: DeleteOptions | None = None,
    ) -> Obj:
        for item in self.list(rt, namespace, options)["items"]:
            self.delete(rt, namespace_of(item) or None, name_of(item), deleting or DeleteOptions())
        return {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success"}

    def _check_preconditions(self, rt: ResourceType, old: Obj, options: DeleteOptions) -> None:
        if options.uid and options.uid != uid_of(old):
            why = (
                f"Precondition failed: UID in precondition: {options.uid}, "
                f"UID in object meta: {uid_of(old)}"
            )
            raise conflict(rt, name_of(old), why)
        current_rv = old["metadata"]["resourceVersion"]
        if options.resource_version and options.resource_version != current_rv:
            why = (
                f"Precondition failed: ResourceVersion in precondition: "
                f"{options.resource_version}, ResourceVersion in object meta: {current_rv}"
            )
            raise conflict(rt, name_of(old), why)

    def _start_terminating(self, name: str, dry_run: bool) -> Obj:
        """Namespaces are not removed at once: the namespace controller empties them first."""

        def mark(obj: Obj) -> None:
            obj["metadata"].setdefault("deletionTimestamp", rfc3339(self._clock.now()))
            obj["status"] = {"phase": "Terminating"}

        return self.store.mutate(self._namespaces, "", name, mark, dry_run=dry_run)

    def _handle_dependents(self, namespace: str, owner_uid: str, *, orphan: bool) -> None:
        for rt in self.registry.resources:
            if not rt.namespaced:
                continue
            for obj in self.store.items(rt, namespace):
                if owner_uid in {
                    ref.get("uid") for ref in obj["metadata"].get("ownerReferences", [])
                }:
                    self._release_or_delete(rt, obj, owner_uid, orphan=orphan)

    def _release_or_delete(
        self, rt: ResourceType, obj: Obj, owner_uid: str, *, orphan: bool
    ) -> None:
        if not orphan:
            self.delete(
                rt, namespace_of(obj), name_of(obj), DeleteOptions(propagation="Background")
            )
            return

        def release(found: Obj) -> None:
            refs = [
                r for r in found["metadata"].get("ownerReferences", []) if r.get("uid") != owner_uid
            ]
            found["metadata"]["ownerReferences"] = refs

        self.store.mutate(rt, namespace_of(obj), name_of(obj), release)

    # -- shared --------------------------------------------------------------------------------

    def _current(self, rt: ResourceType, namespace: str | None, name: str) -> Obj:
        found = self.store.read(rt, namespace or "", name)
        if found is None:
            raise not_found(rt, name)
        return found

    def _body(self, rt: ResourceType, namespace: str | None, body: object) -> Obj:
        """A copy of ``body`` checked against the URL: kind, apiVersion and namespace."""
        if not isinstance(body, dict):
            raise bad_request("the request body must be a JSON object")
        obj = clone(body)
        for key, expected in (("apiVersion", rt.api_version), ("kind", rt.kind)):
            if obj.setdefault(key, expected) != expected:
                raise bad_request(
                    f"the {key} in the data ({obj[key]}) does not match "
                    f"the expected {key} ({expected})"
                )
        metadata = meta(obj)
        if not rt.namespaced:
            metadata.pop("namespace", None)
            return obj
        if metadata.setdefault("namespace", namespace) != namespace:
            raise bad_request(
                "the namespace of the provided object does not match "
                "the namespace sent on the request"
            )
        return obj

    def _shape(
        self,
        rt: ResourceType,
        obj: Obj,
        defaults: Callable[[Obj], None],
        options: WriteOptions,
        old: Obj | None = None,
    ) -> None:
        """Prune (a schema's kinds), default, allocate (a Service's node ports), then validate
        (an update against ``old`` too); a body of the wrong shape is a 400, as a decode error
        would be."""
        schema = schema_for(rt)
        if schema is not None:
            _pruned(rt, prune(obj, schema), options)
            apply_defaults(obj, schema)
        try:
            defaults(obj)
        except (AttributeError, TypeError, ValueError) as error:
            raise bad_request(f"the object could not be decoded as a {rt.kind}: {error}") from None
        if rt.plural == "services":
            self._node_ports.allocate(obj, old)  # the registry's, before validation
        if schema is not None and (found := causes(obj, schema)):
            raise invalid(rt, name_of(obj), found)
        validate(rt, obj, old)

    @staticmethod
    def _same_name(obj: Obj, name: str) -> None:
        if name_of(obj) != name:
            raise bad_request(
                f"the name of the object ({name_of(obj)}) does not match "
                f"the name on the URL ({name})"
            )


def _pruned(rt: ResourceType, paths: list[str], options: WriteOptions) -> None:
    """What the server does with the unknown fields it pruned, per ``fieldValidation``."""
    if options.field_validation not in FIELD_VALIDATIONS:
        raise bad_request(
            f"fieldValidation must be one of {', '.join(FIELD_VALIDATIONS)}, "
            f"not {options.field_validation!r}"
        )
    unknown = [f'unknown field "{path}"' for path in paths]
    if not unknown or options.field_validation == "Ignore":
        return
    if options.field_validation == "Warn":
        options.warnings.extend(unknown)
        return
    raise bad_request(
        f'{rt.kind} in version "{rt.version}" cannot be handled as a {rt.kind}: '
        f"strict decoding error: {', '.join(unknown)}"
    )


def _no_resource_version(metadata: Obj) -> None:
    """The etcd3 store's Create refuses an object that carries a resourceVersion (one it can
    parse, other than 0): ErrResourceVersionSetOnCreate, a plain error the server answers as a
    500 with no reason."""
    try:
        version = int(str(metadata.get("resourceVersion") or "0"))
    except ValueError:
        return
    if version != 0:
        raise ApiError(500, "resourceVersion should not be set on objects to be created", reason="")


def _no_new_finalizers(rt: ResourceType, old: Obj, new: Obj) -> None:
    """ValidateNoNewFinalizers: an object being deleted may lose finalizers, not gain any."""
    before = set(old["metadata"].get("finalizers") or [])
    added = sorted({f for f in meta(new).get("finalizers") or [] if f not in before})
    if added:
        listed = ", ".join(json.dumps(f) for f in added)
        why = (
            "Forbidden: no new finalizers can be added if the object is being deleted, "
            f"found new finalizers []string{{{listed}}}"
        )
        raise invalid(rt, name_of(old), [("FieldValueForbidden", "metadata.finalizers", why)])


def _scale_asked(view: Obj, write: PartWrite, namespace: str | None, name: str) -> tuple[Obj, str]:
    """The Scale a write asks for (a PUT's body, or the current one patched), and the
    resourceVersion it expects ("" for none)."""
    if write.content_type:
        scale = apply_patch(write.content_type, view, write.body)
        return scale, _changed_rv(view, scale)
    if not isinstance(write.body, dict):
        raise bad_request("the body must be a Scale object")
    _same_place(write.body, namespace, name)  # checkName, as for any update
    return write.body, str(dig(write.body, "metadata", "resourceVersion") or "")


def _same_place(patched: Obj, namespace: str | None, name: str) -> None:
    """A patch may not move the object: the API server's ``checkName`` after patching."""
    if name_of(patched) != name:
        raise bad_request(
            f"the name of the object ({name_of(patched)}) does not match "
            f"the name on the URL ({name})"
        )
    moved_to = dig(patched, "metadata", "namespace")
    if namespace and moved_to and moved_to != namespace:
        raise bad_request(
            f"the namespace of the object ({moved_to}) does not match "
            f"the namespace on the request ({namespace})"
        )


def _check_uid(rt: ResourceType, old: Obj, new: Obj) -> None:
    """An update whose body carries a uid makes it a precondition, as the API server's
    ``rest.DefaultUpdatedObjectInfo.Preconditions`` does: another uid is a 409 Conflict."""
    uid = meta(new).get("uid")
    if uid and uid != uid_of(old):
        why = f"Precondition failed: UID in precondition: {uid}, UID in object meta: {uid_of(old)}"
        raise conflict(rt, name_of(old), why)


def _changed_rv(before: Obj, after: Obj) -> str:
    """A patch that sets ``metadata.resourceVersion`` makes it a precondition, as in Kubernetes."""
    old, new = dig(before, "metadata", "resourceVersion"), dig(after, "metadata", "resourceVersion")
    return str(new) if new and new != old else ""


def _continue_token(rv: int, offset: int) -> str:
    return base64.urlsafe_b64encode(json.dumps({"rv": rv, "offset": offset}).encode()).decode()


def _success(rt: ResourceType, name: str, uid: str) -> Obj:
    details: Obj = {"name": name, "kind": rt.plural, "uid": uid}
    if rt.group:
        details["group"] = rt.group
    return {
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Success",
        "details": details,
    }
