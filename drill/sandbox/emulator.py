"""What every HTTP emulator of the sandbox shares: a server on 127.0.0.1 that can really stop.

``LoopbackServer`` binds an ephemeral port and serves each connection on a named daemon
thread, remembering open connections so ``stop`` can cut idle keep-alive connections and open
streams instead of leaving threads behind. ``QuietHandler`` speaks HTTP/1.1 with keep-alive,
sends small responses without Nagle's delay and logs nothing.

Must not: know what any request means; the emulators' own handlers and apps do.
"""

from __future__ import annotations

import contextlib
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any

JOIN_TIMEOUT_S = 2.0
_POLL_S = 0.02  # how quickly serve_forever notices shutdown(); the default 0.5 s slows tests


class LoopbackServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, handler: type[BaseHTTPRequestHandler], name: str) -> None:
        super().__init__(("127.0.0.1", 0), handler)
        self.name = name
        self._lock = threading.Lock()
        self._connections: set[socket.socket] = set()
        self._conn_threads: set[threading.Thread] = set()
        self._serving: threading.Thread | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"

    def start(self) -> None:
        self._serving = threading.Thread(
            target=self.serve_forever, args=(_POLL_S,), name=f"{self.name}-http", daemon=True
        )
        self._serving.start()

    def stop(self) -> None:
        """Stop accepting, cut every open connection, and wait (briefly) for their threads."""
        if self._serving is not None:
            self.shutdown()
            self._serving.join(JOIN_TIMEOUT_S)
            self._serving = None
        with self._lock:
            connections, threads = list(self._connections), list(self._conn_threads)
        for connection in connections:
            cut(connection)
        for thread in threads:
            thread.join(JOIN_TIMEOUT_S)
        self.server_close()

    def __enter__(self) -> LoopbackServer:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

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
        try:
            self.process_request_thread(request, client_address)
        finally:
            with self._lock:
                self._connections.discard(request)
                self._conn_threads.discard(threading.current_thread())

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A client that went away mid-response is normal here; say nothing."""


def cut(connection: socket.socket) -> None:
    with contextlib.suppress(OSError):  # already closed by the other side
        connection.shutdown(socket.SHUT_RDWR)


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
