"""HTTP/1.1 on 127.0.0.1: framing, keep-alive, chunked watch streams, and a clean shutdown.

Built on ``http.server.ThreadingHTTPServer``. Each connection gets a named daemon thread; the
server remembers open connections so ``stop`` can cut idle keep-alive connections and open
watches instead of leaving threads behind. A watch is sent with ``Transfer-Encoding: chunked``,
one event per chunk, flushed at once; a drop fault may end it without the final chunk, which
the client sees as a broken connection.

This module must not know what a Kubernetes request means: it hands a ``Request`` to the app
and writes back what it gets.
"""

from __future__ import annotations

import contextlib
import select
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from drill.sandbox.kube._app import App, Request, Response
from drill.sandbox.kube._watch import WatchStream

_IDLE_TIMEOUT_S = 120.0  # a keep-alive connection nobody uses is closed after this
_JOIN_TIMEOUT_S = 2.0
_POLL_S = 0.02  # how quickly serve_forever notices shutdown(); the default 0.5 s slows tests


class HttpServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, app: App) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.app = app
        self._lock = threading.Lock()
        self._connections: set[socket.socket] = set()
        self._conn_threads: set[threading.Thread] = set()
        self._serving: threading.Thread | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"

    def start(self) -> None:
        self._serving = threading.Thread(
            target=self.serve_forever, args=(_POLL_S,), name="kube-emulator-http", daemon=True
        )
        self._serving.start()

    def stop(self) -> None:
        """Stop accepting, cut every open connection, and wait (briefly) for their threads."""
        if self._serving is not None:
            self.shutdown()
            self._serving.join(_JOIN_TIMEOUT_S)
        with self._lock:
            connections, threads = list(self._connections), list(self._conn_threads)
        for connection in connections:
            _cut(connection)
        for thread in threads:
            thread.join(_JOIN_TIMEOUT_S)
        self.server_close()

    def process_request(self, request: Any, client_address: Any) -> None:
        thread = threading.Thread(
            target=self._serve_connection,
            args=(request, client_address),
            name="kube-emulator-conn",
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


def _cut(connection: socket.socket) -> None:
    with contextlib.suppress(OSError):  # already closed by the other side
        connection.shutdown(socket.SHUT_RDWR)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "drill-sandbox-kube"
    timeout = _IDLE_TIMEOUT_S
    server: HttpServer

    def setup(self) -> None:
        super().setup()
        # Headers and body leave in separate writes; without this, Nagle's algorithm and the
        # client's delayed ACK add ~40 ms to every response.
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def do_GET(self) -> None:
        self._serve()

    do_POST = do_PUT = do_PATCH = do_DELETE = do_GET  # noqa: N815 - http.server's naming

    def log_message(self, format: str, *args: object) -> None:
        return

    def _serve(self) -> None:
        result = self.server.app.handle(self._request())
        if isinstance(result, WatchStream):
            self._stream(result)
        else:
            self._send(result)

    def _request(self) -> Request:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        url = urlsplit(self.path)
        query = {k: v[-1] for k, v in parse_qs(url.query, keep_blank_values=True).items()}
        headers = {k.lower(): v for k, v in self.headers.items()}
        host = self.headers.get("Host") or f"127.0.0.1:{self.server.server_address[1]}"
        return Request(self.command, url.path, query, headers, body, host)

    def _send(self, response: Response) -> None:
        self.send_response(response.status)
        self.send_header("Content-Type", response.content_type)
        self.send_header("Content-Length", str(len(response.body)))
        for name, value in response.headers:
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(response.body)

    def _stream(self, stream: WatchStream) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        self.wfile.flush()
        lines = stream.lines(self._client_gone)
        try:
            for line in lines:
                self.wfile.write(b"%x\r\n%b\r\n" % (len(line), line))
                self.wfile.flush()
            if stream.abrupt:
                self.close_connection = True
                _cut(self.connection)
                return
            self.wfile.write(b"0\r\n\r\n")
        except OSError:
            self.close_connection = True  # the client hung up
        finally:
            lines.close()

    def _client_gone(self) -> bool:
        """True once the client closed its side: a readable socket with nothing to read."""
        try:
            readable, _, _ = select.select([self.connection], [], [], 0)
            return bool(readable) and self.connection.recv(1, socket.MSG_PEEK) == b""
        except OSError:
            return True
