"""The in-process sandbox server: werkzeug's threaded server with real HTTP/1.1 keep-alive.

werkzeug's own handler sends ``Connection: close`` on every response and, after each
request, drains the socket for 10 ms (which would swallow a keep-alive client's next
request), so the handler below runs the WSGI app itself: it reads exactly Content-Length
bytes, answers with a Content-Length, and keeps the connection open. Nagle is disabled or
each keep-alive request stalls ~40 ms on delayed ACKs.
"""

from __future__ import annotations

import contextlib
import io
import logging
import socket
import socketserver
import threading
from types import TracebackType
from typing import Any

from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server

from .app import DROP_ENVIRON_KEY, create_app
from .faults import Knobs
from .seed import DEMO_ACCOUNT_SID, DEMO_AUTH_TOKEN
from .store import Store

__all__ = ["Knobs", "SandboxServer"]

_log = logging.getLogger("importer.sandbox.server")
_JOIN_SECONDS = 2.0


class _BoundedBody(io.RawIOBase):
    """The request body, limited to Content-Length so the rest can be drained for keep-alive."""

    def __init__(self, raw: io.BufferedIOBase, length: int) -> None:
        self._raw = raw
        self.remaining = length

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        if self.remaining <= 0:
            return 0
        view = memoryview(buffer)[: self.remaining]
        data = self._raw.read(len(view))
        if not data:
            raise ConnectionError("client closed the connection mid-body")
        view[: len(data)] = data
        self.remaining -= len(data)
        return len(data)

    def drain(self) -> None:
        while self.remaining > 0:
            self.read(min(self.remaining, 65536))


class _Handler(WSGIRequestHandler):
    """Keep-alive WSGI handler that stays quiet and can vanish mid-request on purpose."""

    disable_nagle_algorithm = True
    protocol_version = "HTTP/1.1"
    timeout = 120  # idle keep-alive connections are closed after this many seconds

    def setup(self) -> None:
        super().setup()
        self.server.sandbox_track(self.connection, add=True)  # type: ignore[attr-defined]

    def finish(self) -> None:
        try:
            super().finish()
        finally:
            self.server.sandbox_track(self.connection, add=False)  # type: ignore[attr-defined]

    def run_wsgi(self) -> None:
        try:
            self._run_wsgi()
        except (ConnectionError, TimeoutError, OSError):
            self.close_connection = True

    def _run_wsgi(self) -> None:
        environ = self.environ = self.make_environ()
        body: _BoundedBody | None = None
        if environ.get("wsgi.input_terminated"):  # chunked upload: no keep-alive afterwards
            self.close_connection = True
        else:
            try:
                length = int(environ.get("CONTENT_LENGTH") or 0)
            except ValueError:
                length = -1
            if length < 0:
                self.send_error(400, "Bad Content-Length")
                self.close_connection = True
                return
            body = _BoundedBody(self.rfile, length)
            environ["wsgi.input"] = body
            environ["wsgi.input_terminated"] = True

        started: list[Any] = []
        chunks: list[bytes] = []

        def start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None):
            started[:] = [status, headers]
            return chunks.append

        app_iter = self.server.app(environ, start_response)
        try:
            chunks.extend(app_iter)
        finally:
            if hasattr(app_iter, "close"):
                app_iter.close()

        if environ.get(DROP_ENVIRON_KEY):
            self.close_connection = True
            with contextlib.suppress(OSError):
                self.connection.shutdown(socket.SHUT_RDWR)
            return
        if body is not None:
            body.drain()
        payload = b"".join(chunks)
        status, headers = started
        code, _, reason = status.partition(" ")
        self.send_response(int(code), reason)
        for key, value in headers:
            if key.lower() not in ("content-length", "connection", "transfer-encoding"):
                self.send_header(key, value)
        length = str(len(payload))
        if self.command == "HEAD":  # the app already dropped the body but knows its length
            length = next((v for k, v in headers if k.lower() == "content-length"), length)
        self.send_header("Content-Length", length)
        if self.close_connection:
            self.send_header("Connection", "close")
        self.end_headers()
        if self.command != "HEAD" and payload:
            self.wfile.write(payload)

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        pass

    def log(self, type: str, message: str, *args: Any) -> None:
        _log.debug(message, *args)


class SandboxServer:
    """The sandbox API on a local port, in a daemon thread or in the foreground."""

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        db_path: str | None = None,
        knobs: Knobs | None = None,
    ) -> None:
        self.host = host
        self.port = port
        self.db_path = db_path
        self.knobs = knobs if knobs is not None else Knobs()
        self.account_sid = DEMO_ACCOUNT_SID
        self.auth_token = DEMO_AUTH_TOKEN
        self.base_url = ""
        self._store: Store | None = None
        self._server: BaseWSGIServer | None = None
        self._thread: threading.Thread | None = None
        self._connections: dict[socket.socket, threading.Thread] = {}
        self._conn_lock = threading.Lock()
        self._final_counts: dict[str, int] = {}
        self._final_requests: dict[str, int] = {}
        self._foreground = threading.Event()  # cleared while serve_forever() runs
        self._foreground.set()

    @property
    def instance(self) -> str:
        """This sandbox's identity (its state's: kept in its file, new after a reset); what a
        journal's scope names, so a rehearsal never vouches for another sandbox's state."""
        if self._store is None:
            raise RuntimeError("the sandbox server is not running")
        return self._store.instance

    def _track(self, conn: socket.socket, *, add: bool) -> None:
        with self._conn_lock:
            if add:
                self._connections[conn] = threading.current_thread()
            else:
                self._connections.pop(conn, None)

    def _open(self) -> BaseWSGIServer:
        if self._server is not None:
            raise RuntimeError("the sandbox server is already running")
        store = Store(self.db_path)
        try:
            server = make_server(
                self.host,
                self.port,
                create_app(store, self.knobs),
                threaded=True,
                request_handler=_Handler,
            )
        except SystemExit as exc:  # werkzeug reports a failed bind by exiting
            store.close()
            raise OSError(f"cannot listen on {self.host}:{self.port}") from exc
        except BaseException:
            store.close()
            raise
        server.sandbox_track = self._track  # type: ignore[attr-defined]
        self._store, self._server = store, server
        self.port = server.port
        host = f"[{self.host}]" if ":" in self.host else self.host
        self.base_url = f"http://{host}:{self.port}"
        return server

    def start(self) -> SandboxServer:
        """Serve in a daemon thread; returns self so ``SandboxServer().start()`` chains."""
        server = self._open()
        self._thread = threading.Thread(
            target=socketserver.BaseServer.serve_forever,
            args=(server, 0.01),
            name=f"sandbox-{self.port}",
            daemon=True,
        )
        self._thread.start()
        return self

    def serve_forever(self) -> None:
        """Serve in the calling thread until interrupted; Ctrl-C propagates after cleanup."""
        self._foreground.clear()
        try:
            server = self._open()
            try:
                socketserver.BaseServer.serve_forever(server, 0.2)
            finally:
                self._close()
        finally:
            self._foreground.set()

    def stop(self) -> None:
        """Stop serving, cut open keep-alive connections, close the socket and the store."""
        server = self._server
        if server is None:
            return
        if self._thread is not None:
            server.shutdown()
            self._thread.join()
            self._thread = None
        elif not self._foreground.is_set():  # serve_forever() running in another thread
            server.shutdown()
            self._foreground.wait()
            return
        self._close()

    def _close(self) -> None:
        server, store = self._server, self._store
        if server is None or store is None:
            return
        server.server_close()
        with self._conn_lock:
            live = list(self._connections.items())
        for conn, _ in live:
            with contextlib.suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)
        for _, thread in live:
            if thread is not threading.current_thread():
                thread.join(_JOIN_SECONDS)
        server.app.extensions["sandbox"]["commits"].flush()  # accepted sales still pending
        with store.lock:
            self._final_counts = store.purchase_counts()
            self._final_requests = store.purchase_requests()
            store.close()
        self._server = self._store = None

    def purchase_counts(self) -> dict[str, int]:
        """Sales committed per block (as GET /_sandbox/purchases); kept after stop()."""
        if self._store is None:
            return dict(self._final_counts)
        return self._store.purchase_counts()

    def purchase_requests(self) -> dict[str, int]:
        """Purchase requests received per block they named, accepted or not (as GET
        /_sandbox/purchase-requests): proves a client never sent a second one. Kept after
        stop()."""
        if self._store is None:
            return dict(self._final_requests)
        return self._store.purchase_requests()

    def __enter__(self) -> SandboxServer:
        return self if self._server is not None else self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
