"""JSON over HTTP on 127.0.0.1 for the sandbox's Google API emulators.

``JsonHttpServer`` binds an ephemeral port, routes each request by method and a regular
expression over the path (named groups become ``Request.params``) to a handler that returns
``(status, document)``, and writes the document as JSON. A handler refuses a request by raising
``GoogleApiError``, which is written in Google's error shape::

    {"error": {"code": 404, "message": "...", "status": "NOT_FOUND",
               "errors": [{"reason": "notFound", "message": "...", "domain": "global"}]}}

``RequestFaults`` lets a test make the next N requests whose path matches a pattern fail with a
given status before any handler runs. A path given to ``batch_route`` takes Google's HTTP batch
format (``_batch``): each request inside is routed, faults and all, as if it came on its own.
Connections are served by daemon threads; ``stop`` cuts idle keep-alive connections and joins
their threads, so nothing is left behind.

This module must not know what any Google API means: no resource names, no semantics.
"""

from __future__ import annotations

import fnmatch
import json
import re
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from drill.sandbox.emulator import LoopbackServer, QuietHandler
from drill.sandbox.faults import FaultQueue
from drill.sandbox.gcp._batch import BatchError, BatchPart, answer_batch, parse_batch

_IDLE_TIMEOUT_S = 60.0  # a keep-alive connection nobody uses is closed after this
_JSON = "application/json; charset=UTF-8"

# Google's canonical status names, sent next to the numeric code as the real APIs do.
_STATUS_BY_CODE = {
    400: "INVALID_ARGUMENT",
    401: "UNAUTHENTICATED",
    403: "PERMISSION_DENIED",
    404: "NOT_FOUND",
    409: "ALREADY_EXISTS",
    412: "FAILED_PRECONDITION",
    429: "RESOURCE_EXHAUSTED",
    500: "INTERNAL",
    502: "UNAVAILABLE",
    503: "UNAVAILABLE",
    504: "DEADLINE_EXCEEDED",
}
_REASON_BY_CODE = {
    400: "invalid",
    401: "required",
    403: "forbidden",
    404: "notFound",
    409: "alreadyExists",
    412: "conditionNotMet",
    429: "rateLimitExceeded",
    500: "internalError",
    502: "backendError",
    503: "backendError",
    504: "backendError",
}


class GoogleApiError(Exception):
    """A request the emulator refuses; ``document()`` is the body the client receives."""

    def __init__(self, code: int, message: str, reason: str | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.reason = reason or _REASON_BY_CODE.get(code, "unknown")

    def document(self) -> dict[str, Any]:
        error: dict[str, Any] = {
            "code": self.code,
            "message": self.message,
            "errors": [{"reason": self.reason, "message": self.message, "domain": "global"}],
        }
        if self.code in _STATUS_BY_CODE:
            error["status"] = _STATUS_BY_CODE[self.code]
        return {"error": error}


@dataclass(frozen=True)
class Request:
    method: str
    path: str  # percent-decoded, without the query string
    query: dict[str, str]  # the last value of each parameter
    params: dict[str, str]  # the route pattern's named groups
    body: Any  # the parsed JSON body, or None when there was none


Handler = Callable[[Request], tuple[int, Any]]


@dataclass(frozen=True)
class _Route:
    method: str
    pattern: re.Pattern[str]
    handler: Handler


@dataclass
class _Fault:
    remaining: int
    status: int
    path_pattern: str
    method: str | None
    message: str
    reason: str | None


class RequestFaults:
    """Injected refusals, consumed one per matching request, oldest first."""

    def __init__(self) -> None:
        self._queue: FaultQueue[_Fault] = FaultQueue()

    def fail(
        self,
        count: int,
        status: int = 503,
        path_pattern: str = "*",
        *,
        method: str | None = None,
        message: str | None = None,
        reason: str | None = None,
    ) -> None:
        """Refuse the next ``count`` requests whose path matches ``path_pattern`` (fnmatch)."""
        text = message or f"Injected failure ({status})"
        self._queue.add(_Fault(count, status, path_pattern, method, text, reason))

    def clear(self) -> None:
        self._queue.clear()

    def take(self, method: str, path: str) -> GoogleApiError | None:
        fault = self._queue.take(lambda f: _fault_matches(f, method, path))
        return None if fault is None else GoogleApiError(fault.status, fault.message, fault.reason)


def _fault_matches(fault: _Fault, method: str, path: str) -> bool:
    method_ok = fault.method is None or fault.method.upper() == method
    return method_ok and fnmatch.fnmatchcase(path, fault.path_pattern)


@dataclass
class _Outcome:
    status: int
    document: Any
    raw: tuple[str, bytes] | None = None  # (content type, body) of an answer that is not JSON


@dataclass
class _Router:
    routes: list[_Route] = field(default_factory=list)
    faults: RequestFaults = field(default_factory=RequestFaults)
    errors: list[str] = field(default_factory=list)  # unexpected handler exceptions, for tests
    batch_paths: set[str] = field(default_factory=set)

    def handle(
        self, method: str, raw_path: str, raw_body: bytes, content_type: str = ""
    ) -> _Outcome:
        url = urlsplit(raw_path)
        path = unquote(url.path)
        try:
            injected = self.faults.take(method, path)
            if injected is not None:
                raise injected
            if method == "POST" and path in self.batch_paths:
                return self._batch(content_type, raw_body)
            return self._dispatch(method, path, url.query, raw_body)
        except GoogleApiError as error:
            return _Outcome(error.code, error.document())
        except Exception:  # noqa: BLE001 - an emulator bug must answer 500, not kill the connection
            self.errors.append(traceback.format_exc())
            return _Outcome(500, GoogleApiError(500, "Internal error").document())

    def _batch(self, content_type: str, raw_body: bytes) -> _Outcome:
        try:
            parts = parse_batch(content_type, raw_body)
        except BatchError as error:
            raise GoogleApiError(400, str(error)) from error

        def answer(part: BatchPart) -> tuple[int, Any]:
            if part.raw_path.startswith("/batch/"):  # Google refuses a batch inside a batch
                return 400, GoogleApiError(400, "A batch cannot hold a batch.").document()
            outcome = self.handle(part.method, part.raw_path, part.body)
            return outcome.status, outcome.document

        batch = answer_batch(parts, answer)
        return _Outcome(200, None, (batch.content_type, batch.body))

    def _dispatch(self, method: str, path: str, raw_query: str, raw_body: bytes) -> _Outcome:
        for candidate in self.routes:
            match = candidate.pattern.fullmatch(path)
            if match and candidate.method == method:
                request = Request(
                    method, path, _query(raw_query), match.groupdict(), _body(raw_body)
                )
                status, document = candidate.handler(request)
                return _Outcome(status, document)
        raise GoogleApiError(404, f"The requested URL {path} was not found on this server.")


def _query(raw_query: str) -> dict[str, str]:
    return {k: v[-1] for k, v in parse_qs(raw_query, keep_blank_values=True).items()}


def _body(raw_body: bytes) -> Any:
    if not raw_body.strip():
        return None
    try:
        return json.loads(raw_body)
    except ValueError as error:
        raise GoogleApiError(
            400, f"Invalid JSON payload received. {error}", "parseError"
        ) from error


class JsonHttpServer(LoopbackServer):
    """One emulator's HTTP endpoint. Add routes, then ``start()``; ``stop()`` when done."""

    def __init__(self, name: str = "gcp-emulator") -> None:
        super().__init__(_Handler, name)
        self.router = _Router()

    def __enter__(self) -> JsonHttpServer:
        self.start()
        return self

    @property
    def faults(self) -> RequestFaults:
        return self.router.faults

    @property
    def errors(self) -> list[str]:
        """Tracebacks of handler bugs (answered as 500) so a test can fail loudly on them."""
        return self.router.errors

    def route(self, method: str, path_regex: str, handler: Handler) -> None:
        """Send ``method`` requests whose whole path matches ``path_regex`` to ``handler``."""
        self.router.routes.append(_Route(method.upper(), re.compile(path_regex), handler))

    def batch_route(self, path: str) -> None:
        """Take HTTP batches POSTed to ``path`` (e.g. ``/batch/compute/v1``)."""
        self.router.batch_paths.add(path)


class _Handler(QuietHandler):
    server_version = "drill-sandbox-gcp"
    timeout = _IDLE_TIMEOUT_S
    server: JsonHttpServer

    def do_GET(self) -> None:  # noqa: N802 - http.server dispatches on this name
        length = int(self.headers.get("Content-Length") or 0)
        raw_body = self.rfile.read(length) if length else b""
        content_type = self.headers.get("Content-Type", "")
        outcome = self.server.router.handle(self.command, self.path, raw_body, content_type)
        self._send(outcome)

    do_POST = do_PUT = do_PATCH = do_DELETE = do_GET  # noqa: N815 - http.server's naming

    def _send(self, outcome: _Outcome) -> None:
        content_type, body = outcome.raw or (_JSON, _json_bytes(outcome.document))
        self.send_response(outcome.status)
        if body:
            self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


def _json_bytes(document: Any) -> bytes:
    return b"" if document is None else json.dumps(document).encode()
