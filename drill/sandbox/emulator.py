"""What every emulator of the sandbox shares: a lifecycle, and a loopback server that stops.

``Emulator`` is the lifecycle every sandbox server follows: ``start`` serves on an ephemeral
127.0.0.1 port, ``stop`` stops serving and leaves no thread behind, and ``with`` does both.
``ServingThread`` runs any ``socketserver`` server's loop on a named daemon thread and stops it
promptly (moto's werkzeug server uses it as is). ``LoopbackServer`` is the HTTP server of the
Kubernetes and Google emulators and the gateway: it serves each connection on a named daemon
thread (over TLS when given an SSL context: the handshake happens on that thread, never in the
accept loop), remembering open connections so ``stop`` can cut idle keep-alive connections and
open streams. ``QuietHandler`` speaks HTTP/1.1 with keep-alive, sends small responses without
Nagle's delay and logs nothing.

Must not: know what any request means; the emulators' own handlers and apps do.
"""

from __future__ import annotations

import contextlib
import json
import socket
import socketserver
import ssl
import threading
from abc import ABC, abstractmethod
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any, Self

JOIN_TIMEOUT_S = 2.0
HANDSHAKE_TIMEOUT_S = 30.0
_POLL_S = 0.02  # how quickly serve_forever notices shutdown(); the default 0.5 s slows tests


class Emulator(ABC):
    """One sandbox server's lifecycle; ``start`` may return what a caller needs (a URL, self)."""

    @abstractmethod
    def start(self) -> object:
        """Serve on an ephemeral 127.0.0.1 port."""

    @abstractmethod
    def stop(self) -> None:
        """Stop serving and end every thread this emulator started. Safe to call twice."""

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


class ServingThread:
    """A server's ``serve_forever`` loop on a named daemon thread, stopped within ``_POLL_S``."""

    def __init__(self, server: socketserver.BaseServer, name: str) -> None:
        self._server = server
        self._thread: threading.Thread | None = None
        self.name = name

    def start(self) -> None:
        self._thread = threading.Thread(
            target=self._server.serve_forever, args=(_POLL_S,), name=self.name, daemon=True
        )
        self._thread.start()

    def stop(self) -> None:
        """Stop the loop and wait (briefly) for its thread; the owner closes the socket."""
        if self._thread is not None:
            self._server.shutdown()
            self._thread.join(JOIN_TIMEOUT_S)
            self._thread = None


# Emulator first: its ``with`` (start, then stop) wins over socketserver's (close only).
class LoopbackServer(Emulator, ThreadingHTTPServer):
    daemon_threads = True
    # socketserver's default backlog of 5 drops the SYNs of a burst of parallel steps' requests
    # and watches (the client retries a second later); Go servers, the API server among them,
    # listen with the system's maximum.
    request_queue_size = socket.SOMAXCONN

    def __init__(
        self,
        handler: type[BaseHTTPRequestHandler],
        name: str,
        tls: ssl.SSLContext | None = None,
    ) -> None:
        super().__init__(("127.0.0.1", 0), handler)
        self.name = name
        self._tls = tls
        self._lock = threading.Lock()
        self._connections: set[socket.socket] = set()
        self._conn_threads: set[threading.Thread] = set()
        self._serving = ServingThread(self, f"{name}-http")

    @property
    def url(self) -> str:
        scheme = "https" if self._tls is not None else "http"
        return f"{scheme}://127.0.0.1:{self.server_address[1]}"

    def start(self) -> None:
        self._serving.start()

    def stop(self) -> None:
        """Stop accepting, cut every open connection, and wait (briefly) for their threads."""
        self._serving.stop()
        with self._lock:
            connections, threads = list(self._connections), list(self._conn_threads)
        for connection in connections:
            cut(connection)
        for thread in threads:
            thread.join(JOIN_TIMEOUT_S)
        self.server_close()

    def process_request(self, request: Any, client_address: Any) -> None:
        thread = threading.Thread(
            target=self._serve_connection,
            args=(request, client_address),
            name=f"{self.name}-conn",
            daemon=True,
        )
        with self._lock:
            self._conn_threads.add(thread)
            self._connections.add(request)
        thread.start()

    def _serve_connection(self, request: Any, client_address: Any) -> None:
        served = request
        try:
            served = self._secured(request) if self._tls is not None else request
            if served is not None:
                self.process_request_thread(served, client_address)
        finally:
            with self._lock:
                self._connections.difference_update((request, served))
                self._conn_threads.discard(threading.current_thread())

    def _secured(self, request: socket.socket) -> ssl.SSLSocket | None:
        """The connection after the TLS handshake; None (and closed) when it fails."""
        assert self._tls is not None
        request.settimeout(HANDSHAKE_TIMEOUT_S)
        try:
            secured = self._tls.wrap_socket(request, server_side=True)
        except (OSError, ssl.SSLError):
            request.close()
            return None
        with self._lock:
            # The plain socket is detached now: ``stop`` must cut the TLS one.
            self._connections.discard(request)
            self._connections.add(secured)
        return secured

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A client that went away mid-response is normal here; say nothing."""


def cut(connection: socket.socket) -> None:
    with contextlib.suppress(OSError):  # already closed by the other side
        connection.shutdown(socket.SHUT_RDWR)


def send_json(
    handler: BaseHTTPRequestHandler, status: int, document: object, *, body: bool = True
) -> None:
    """Answer ``document`` as JSON with ``status`` (its length said, the body left out of an
    answer to HEAD when ``body`` is False)."""
    payload = json.dumps(document).encode()
    handler.send_response(status)
    handler.send_header("Content-Type", "application/json")
    handler.send_header("Content-Length", str(len(payload)))
    handler.end_headers()
    if body:
        handler.wfile.write(payload)


class QuietHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    timeout = 120.0  # a keep-alive connection nobody uses is closed after this

    def setup(self) -> None:
        super().setup()
        # Headers and body leave in separate writes; without this, Nagle's algorithm and the
        # client's delayed ACK add ~40 ms to every response.
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def log_message(self, format: str, *args: object) -> None:
        return
