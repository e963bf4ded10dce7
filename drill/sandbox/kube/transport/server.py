"""HTTP/1.1 on 127.0.0.1: framing, keep-alive, chunked watch streams, and a clean shutdown.

Built on ``http.server.ThreadingHTTPServer``, over TLS when given a context (a cluster that
authenticates must: kubectl sends tokens only over TLS). Each connection gets a named daemon
thread; the server remembers open connections so ``stop`` can cut idle keep-alive connections
and open watches instead of leaving threads behind. A watch is sent with ``Transfer-Encoding:
chunked``, one event per chunk, flushed at once; a drop fault may end it without the final
chunk, which the client sees as a broken connection.

This module must not know what a Kubernetes request means: it hands a ``Request`` to the app
and writes back what it gets.
"""

from __future__ import annotations

import _socket
import select
import socket
import ssl
from urllib.parse import parse_qs, unquote, urlsplit

from drill.sandbox.emulator import LoopbackServer, QuietHandler, cut
from drill.sandbox.kube.transport.app import App, Request, Response
from drill.sandbox.kube.transport.watch import WatchStream


class HttpServer(LoopbackServer):
    def __init__(self, app: App, tls: ssl.SSLContext | None) -> None:
        super().__init__(_Handler, "kube-emulator", tls)
        self.app = app


class _Handler(QuietHandler):
    server_version = "drill-sandbox-kube"
    server: HttpServer

    def do_GET(self) -> None:  # noqa: N802 - http.server dispatches on this name
        self._serve()

    do_POST = do_PUT = do_PATCH = do_DELETE = do_GET  # noqa: N815 - http.server's naming

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
        pairs = tuple((k.lower(), v) for k, v in self.headers.items())
        host = self.headers.get("Host") or f"127.0.0.1:{self.server.server_address[1]}"
        # The API server routes on the decoded path (Go's URL.Path): a client may quote a
        # name's ":" (services/http%3Aweb%3A80/proxy) and still mean the same object.
        path = unquote(url.path)
        return Request(self.command, path, query, dict(pairs), body, host, pairs)

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
                cut(self.connection)
                return
            self.wfile.write(b"0\r\n\r\n")
        except OSError:
            self.close_connection = True  # the client hung up
        finally:
            lines.close()

    def _client_gone(self) -> bool:
        """True once the client closed its side: a readable socket with nothing to read.

        The peek goes to the socket under TLS (TLS sockets refuse flags): the end of the
        stream shows there as it does on a plain one."""
        try:
            readable, _, _ = select.select([self.connection], [], [], 0)
            return (
                bool(readable) and _socket.socket.recv(self.connection, 1, socket.MSG_PEEK) == b""
            )
        except OSError:
            return True
