"""Google's HTTP batch format: several API requests in one multipart/mixed POST.

Clients built on apitools (gcloud among them) send some reads this way, to
``/batch/<api>/<version>``: each part, of type ``application/http``, is a whole HTTP request
(request line, headers, body) with a ``Content-ID``; the answer is a multipart/mixed body whose
parts are whole HTTP responses, each with the ``Content-ID`` ``<response-ID>`` of the request
it answers. This module only splits and joins; each part is answered by the caller, as if it
had come on its own.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from email.message import Message
from email.parser import BytesParser, Parser
from http import HTTPStatus
from typing import Any


class BatchError(ValueError):
    """A body that is not a batch: the server answers it 400."""


@dataclass(frozen=True)
class BatchPart:
    content_id: str
    method: str
    raw_path: str  # with the query string
    body: bytes


@dataclass(frozen=True)
class BatchAnswer:
    content_type: str
    body: bytes


def parse_batch(content_type: str, raw_body: bytes) -> list[BatchPart]:
    """The requests of a batch; BatchError for a body that is not one."""
    message = BytesParser().parsebytes(f"Content-Type: {content_type}\r\n\r\n".encode() + raw_body)
    if not message.is_multipart():
        raise BatchError("A batch request must be multipart/mixed.")
    return [_part(part) for part in message.get_payload() if isinstance(part, Message)]


def answer_batch(
    parts: list[BatchPart], answer: Callable[[BatchPart], tuple[int, Any]]
) -> BatchAnswer:
    """One multipart/mixed body holding ``answer``'s (status, JSON document) for every part."""
    boundary = f"batch_{uuid.uuid4().hex}"
    chunks = [_answer_part(boundary, part, *answer(part)) for part in parts]
    body = "".join(chunks) + f"--{boundary}--\r\n"
    return BatchAnswer(f"multipart/mixed; boundary={boundary}", body.encode())


def _part(part: Message) -> BatchPart:
    payload = part.get_payload()
    if part.is_multipart() or not isinstance(payload, str):
        raise BatchError("Each part of a batch must be one application/http request.")
    request_line, _, rest = payload.lstrip("\r\n").partition("\n")
    words = request_line.split()
    if len(words) < 2:
        raise BatchError(f"Invalid request line in a batch part: {request_line!r}")
    inner = Parser().parsestr(rest)
    body = inner.get_payload()
    text = body if isinstance(body, str) else ""
    return BatchPart(str(part.get("Content-ID", "")), words[0].upper(), words[1], text.encode())


def _answer_part(boundary: str, part: BatchPart, status: int, document: Any) -> str:
    body = "" if document is None else json.dumps(document)
    content_id = part.content_id.strip("<>")
    return (
        f"--{boundary}\r\n"
        "Content-Type: application/http\r\n"
        f"Content-ID: <response-{content_id}>\r\n"
        "\r\n"
        f"HTTP/1.1 {status} {_reason(status)}\r\n"
        "Content-Type: application/json; charset=UTF-8\r\n"
        f"Content-Length: {len(body.encode())}\r\n"
        "\r\n"
        f"{body}\r\n"
    )


def _reason(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Unknown"
