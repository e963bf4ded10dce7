"""A small HTTP server on 127.0.0.1 whose answers a test scripts, and which records requests."""

from __future__ import annotations

import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Answer:
    status: int = 200
    body: bytes = b"ok"
    delay_s: float = 0.0


@dataclass
class Script:
    """Answers in order; the last one repeats. Requests are recorded (method, path, headers),
    and their bodies, in the same order, in ``bodies``."""

    answers: list[Answer] = field(default_factory=lambda: [Answer()])
    requests: list[tuple[str, str, dict[str, str]]] = field(default_factory=list)
    bodies: list[bytes] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    stop: threading.Event = field(default_factory=threading.Event)

    def next_answer(self) -> Answer:
        with self.lock:
            return self.answers.pop(0) if len(self.answers) > 1 else self.answers[0]


def _handler(script: Script) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def _answer(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            with script.lock:
                script.requests.append((self.command, self.path, dict(self.headers)))
                script.bodies.append(body)
            answer = script.next_answer()
            if answer.delay_s:
                script.stop.wait(answer.delay_s)
            self.send_response(answer.status)
            self.send_header("Content-Length", str(len(answer.body)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(answer.body)

        do_GET = do_POST = do_HEAD = do_PUT = _answer  # noqa: N815

        def log_message(self, format: str, *args: object) -> None:
            return

    return Handler


class _Server(ThreadingHTTPServer):
    def handle_error(self, request: Any, client_address: Any) -> None:
        # A client that stopped waiting (a test scripts an answer slower than the client's
        # timeout) has closed the connection by the time the answer is written: expected
        # here, so it is not printed as an error. Anything else still is.
        if isinstance(sys.exc_info()[1], ConnectionError):
            return
        super().handle_error(request, client_address)


@contextmanager
def serve(script: Script) -> Iterator[str]:
    """Serve ``script`` until the block ends; yields the base URL."""
    server = _Server(("127.0.0.1", 0), _handler(script))
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        script.stop.set()
        server.shutdown()
        server.server_close()
