"""API errors, shaped as the ``Status`` objects a real API server answers with.

Every refusal inside the emulator is an ``ApiError``; the HTTP layer turns it into a response
whose body is the ``Status``. The constructors here copy the real server's wording so clients
that match on messages or reasons behave the same against the emulator. This module must not
decide *when* an error happens, only what it looks like.
"""

from __future__ import annotations

from drill.sandbox.kube.api.objects import Obj
from drill.sandbox.kube.api.resources import ResourceType

_REASON_BY_CODE = {
    400: "BadRequest",
    401: "Unauthorized",
    403: "Forbidden",
    404: "NotFound",
    405: "MethodNotAllowed",
    409: "Conflict",
    410: "Gone",
    415: "UnsupportedMediaType",
    422: "Invalid",
    429: "TooManyRequests",
    500: "InternalError",
    503: "ServiceUnavailable",
    504: "Timeout",
}


class ApiError(Exception):
    """A request the emulator refuses; ``status()`` is the body the client receives."""

    def __init__(
        self,
        code: int,
        message: str,
        *,
        reason: str | None = None,
        details: Obj | None = None,
        headers: tuple[tuple[str, str], ...] = (),
    ) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        # None: the reason the code usually has; "": none (StatusReasonUnknown, omitted).
        self.reason = _REASON_BY_CODE.get(code, "Unknown") if reason is None else reason
        self.details = details
        self.headers = headers

    def status(self) -> Obj:
        body: Obj = {
            "kind": "Status",
            "apiVersion": "v1",
            "metadata": {},
            "status": "Failure",
            "message": self.message,
            "reason": self.reason,
            "code": self.code,
        }
        if not self.reason:
            del body["reason"]
        if self.details is not None:
            body["details"] = self.details
        return body


def _details(rt: ResourceType, name: str) -> Obj:
    found: Obj = {"name": name, "kind": rt.plural}
    if rt.group:
        found["group"] = rt.group
    return found


def not_found(rt: ResourceType, name: str) -> ApiError:
    return ApiError(404, f'{rt.qualified} "{name}" not found', details=_details(rt, name))


def already_exists(rt: ResourceType, name: str) -> ApiError:
    return ApiError(
        409,
        f'{rt.qualified} "{name}" already exists',
        reason="AlreadyExists",
        details=_details(rt, name),
    )


def conflict(rt: ResourceType, name: str, why: str) -> ApiError:
    message = f'Operation cannot be fulfilled on {rt.qualified} "{name}": {why}'
    return ApiError(409, message, details=_details(rt, name))


def stale(rt: ResourceType, name: str) -> ApiError:
    why = (
        "the object has been modified; "
        "please apply your changes to the latest version and try again"
    )
    return conflict(rt, name, why)


def invalid(rt: ResourceType, name: str, causes: list[tuple[str, str, str]]) -> ApiError:
    """``causes`` are (reason, field, message): ("FieldValueRequired", "spec.selector", ...)."""
    listed = ", ".join(f"{field}: {message}" for _, field, message in causes)
    if len(causes) > 1:
        listed = f"[{listed}]"  # how Kubernetes prints several errors together
    details = _details(rt, name)
    details["kind"] = rt.kind
    details["causes"] = [{"reason": r, "message": m, "field": f} for r, f, m in causes]
    return ApiError(422, f'{rt.qualified_kind} "{name}" is invalid: {listed}', details=details)


def invalid_options(kind: str, causes: list[tuple[str, str, str]]) -> ApiError:
    """A 422 for request options (``DeleteOptions``) as the handlers answer it: NewInvalid of
    the ``meta.k8s.io`` kind with no name."""
    listed = ", ".join(f"{field}: {message}" for _, field, message in causes)
    if len(causes) > 1:
        listed = f"[{listed}]"
    details: Obj = {
        "group": "meta.k8s.io",
        "kind": kind,
        "causes": [{"reason": r, "message": m, "field": f} for r, f, m in causes],
    }
    return ApiError(422, f'{kind}.meta.k8s.io "" is invalid: {listed}', details=details)


def unauthorized() -> ApiError:
    """No user: a missing, unknown, expired or revoked token. The real server says no more."""
    return ApiError(401, "Unauthorized")


def bad_request(message: str) -> ApiError:
    return ApiError(400, message)


# What a real API server says when a watch's resourceVersion predates compaction.
EXPIRED = "too old resource version: the watch's history was compacted"


def gone(message: str) -> ApiError:
    """A resourceVersion or continue token whose history is gone: the API server's
    ``NewResourceExpired``, reason ``Expired`` (``NewGone``, reason ``Gone``, is deprecated)."""
    return ApiError(410, message, reason="Expired")


def forbidden_object(
    rt: ResourceType, name: str, why: str, causes: list[Obj] | None = None
) -> ApiError:
    """apimachinery NewForbidden of one object, as admission plugins refuse a request."""
    details = _details(rt, name)
    if causes:
        details["causes"] = causes
    return ApiError(403, f'{rt.qualified} "{name}" is forbidden: {why}', details=details)


def terminating(namespace: str, rt: ResourceType, name: str) -> ApiError:
    why = f"unable to create new content in namespace {namespace} because it is being terminated"
    cause = {
        "reason": "NamespaceTerminating",
        "message": f"namespace {namespace} is being terminated",
        "field": "metadata.namespace",
    }
    return forbidden_object(rt, name, why, [cause])


def injected(code: int, retry_after_s: int | None) -> ApiError:
    """A failure the fault plan asked for, with ``Retry-After`` when one was asked for."""
    headers = (("Retry-After", str(retry_after_s)),) if retry_after_s is not None else ()
    message = {
        429: "Too many requests, please try again later.",
        503: "The server is currently unable to handle the request",
    }.get(code, "Internal error occurred: injected by the sandbox")
    return ApiError(
        code, message, details={"retryAfterSeconds": retry_after_s or 1}, headers=headers
    )
