"""The HTTP server of Khabar's Label Studio ML backend (``khabar studio backend``), on the standard
library's :class:`http.server.ThreadingHTTPServer` (``label-studio-ml`` would pin Flask 1.1 and
downgrade Jinja2 in Khabar's environment).

Routes (what Label Studio 1.23.2 calls; see :mod:`khabar.studio.backend`): ``GET /``, ``GET /health``,
``GET /versions``, ``POST /setup``, ``POST /predict``, ``POST /webhook``, ``POST /train``. Every
answer is JSON; a body that is not JSON, or not the object a route needs, gets
``400 {"error": "<one line>"}``, an unknown path 404, a body over :data:`MAX_BODY` bytes 413.
Nothing a client sends makes the server answer with a traceback.

It binds to 127.0.0.1 unless told otherwise, answers one request per connection (HTTP/1.0, so a
stop never waits for an idle connection) and stops cleanly on Ctrl-C or SIGTERM: it stops
accepting, lets the requests under way finish, then closes.

Public API: :class:`BackendServer`, :func:`serve_backend`, :data:`DEFAULT_HOST`, :data:`DEFAULT_PORT`,
:data:`MAX_BODY`.
"""

from __future__ import annotations

import json
import logging
import signal
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Callable
from urllib.parse import urlsplit

from khabar.core.errors import InputError, StudioError
from khabar.core.jsonio import loads_json
from khabar.studio.backend import MODEL_CLASS, Backend, BadRequest

__all__ = ["BackendServer", "serve_backend", "DEFAULT_HOST", "DEFAULT_PORT", "MAX_BODY"]

log = logging.getLogger(__name__)

DEFAULT_HOST = "127.0.0.1"
"""Loopback only: Label Studio runs on this machine (``khabar studio serve``)."""
DEFAULT_PORT = 9090
"""The port Label Studio's ML backends customarily use."""
MAX_BODY = 64 * 1024 * 1024
"""The largest request body read, in bytes (a /predict of many long articles fits)."""

_GET: dict[str, Callable[[Backend, Any], dict[str, Any]]] = {
    "/": lambda b, _: b.health(), "/health": lambda b, _: b.health(), "/versions": lambda b, _: b.versions()}
_POST: dict[str, Callable[[Backend, Any], dict[str, Any]]] = {
    "/setup": Backend.setup, "/predict": Backend.predict, "/webhook": Backend.webhook, "/train": Backend.train}


class _Server(ThreadingHTTPServer):
    """One thread per request; ``server_close`` waits for the requests under way."""

    daemon_threads = False
    block_on_close = True
    backend: Backend


class _Server6(_Server):
    address_family = socket.AF_INET6


class _Handler(BaseHTTPRequestHandler):
    """Routes a request to the :class:`Backend` and writes its JSON answer."""

    server: _Server
    server_version = "khabar-ml-backend"
    timeout = 10  # seconds a client may stay silent while sending its request (a stop waits at most this)

    def do_GET(self) -> None:
        self._route(_GET, _POST, read_body=False)

    def do_POST(self) -> None:
        self._route(_POST, _GET, read_body=True)

    def _not_allowed(self) -> None:
        path = urlsplit(self.path).path.rstrip("/") or "/"
        known = path in _GET or path in _POST
        self._send(405 if known else 404, {"error": f"{self.command} {path}: " + ("method not allowed" if known else "no such route")})

    do_PUT = do_DELETE = do_PATCH = do_HEAD = do_OPTIONS = _not_allowed

    def _route(self, table: dict[str, Callable[[Backend, Any], dict[str, Any]]], other: dict[str, Any], read_body: bool) -> None:
        """Answer with the route's result, or a JSON error (400/404/405/413/422/500) in one line."""
        path = urlsplit(self.path).path.rstrip("/") or "/"
        route = table.get(path)
        if route is None:
            code = 405 if path in other else 404
            self._send(code, {"error": f"{self.command} {path}: " + ("method not allowed" if code == 405 else "no such route")})
            return
        try:
            payload = self._read_json() if read_body else None
            status, answer = 200, route(self.server.backend, payload)
        except BadRequest as err:
            status, answer = err.status, {"error": str(err)}
        except OSError as err:  # received.jsonl could not be written
            log.error("%s %s: %s", self.command, path, err)
            status, answer = 500, {"error": f"the backend cannot write its records: {err.strerror or err}"}
        except Exception as err:  # a bug: logged, answered in one line
            log.exception("%s %s failed", self.command, path)
            status, answer = 500, {"error": f"internal error ({type(err).__name__})"}
        self._send(status, answer)

    def _read_json(self) -> Any:
        """The request body as strict JSON.

        Raises:
            BadRequest: no or a bad Content-Length (400), a body over :data:`MAX_BODY` (413), not
                UTF-8 or not JSON (400; line, column and reason).
        """
        raw_length = self.headers.get("Content-Length")
        try:
            length = int(raw_length) if raw_length is not None else 0
        except ValueError:
            self.close_connection = True
            raise BadRequest(f"Content-Length {raw_length[:40]!r} is not a number") from None
        if length < 0 or length > MAX_BODY:
            self.close_connection = True
            raise BadRequest(f"the body is {length} bytes; at most {MAX_BODY} are read", status=413 if length > 0 else 400)
        if length == 0:
            raise BadRequest("the body is empty; a JSON object was expected")
        raw = self.rfile.read(length)
        try:
            return loads_json(raw.decode("utf-8"), "the request body")
        except UnicodeDecodeError as err:
            raise BadRequest(f"the request body is not UTF-8 (byte {err.start})") from None
        except InputError as err:
            raise BadRequest(str(err)) from None

    def _send(self, status: int, answer: dict[str, Any]) -> None:
        """Write ``answer`` as a JSON response (one line, UTF-8)."""
        try:  # a lone surrogate sent in (a "\\ud800" escape) comes back escaped, never as a failure
            body = (json.dumps(answer, ensure_ascii=False, allow_nan=False) + "\n").encode("utf-8", "backslashreplace")
        except (TypeError, ValueError) as err:  # a bug: never leave the client without an answer
            log.error("%s %s: the answer is not JSON (%s)", self.command, self.path[:80], err)
            status, body = 500, b'{"error": "internal error (the answer is not JSON)"}\n'
        try:
            self.send_response(status)
            self.send_header("Content-Type", "application/json; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
        except OSError as err:  # the client went away
            log.info("%s %s: the client went away before the answer (%s)", self.command, self.path[:80], err)

    def log_message(self, format: str, *args: Any) -> None:
        log.debug("%s %s", self.address_string(), format % args)


class BackendServer:
    """A listening backend server (used by :func:`serve_backend` and by tests, in a thread).

    Args:
        backend: what answers (:class:`~khabar.studio.backend.Backend`).
        host: the address to bind (default 127.0.0.1; ``::1`` for IPv6).
        port: the TCP port; 0 picks a free one (see :attr:`url`).

    Raises:
        StudioError: the address cannot be bound (port taken, host not local), in one line.
    """

    def __init__(self, backend: Backend, host: str = DEFAULT_HOST, port: int = DEFAULT_PORT):
        cls = _Server6 if ":" in host else _Server
        try:
            self.httpd = cls((host, port), _Handler)
        except OSError as err:
            raise StudioError(f"the ML backend cannot listen on {host}:{port}: {err.strerror or err}",
                              hint="stop what runs there, or pass another --port (or --host)") from None
        self.httpd.backend = backend
        self.backend = backend
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        """``http://<host>:<port>`` as bound (the port chosen when 0 was asked)."""
        host, port = self.httpd.server_address[:2]
        return f"http://[{host}]:{port}" if ":" in str(host) else f"http://{host}:{port}"

    def start(self) -> "BackendServer":
        """Serve in a background thread (once; a second call does nothing); returns self."""
        if self._thread is not None:
            return self
        self._thread = threading.Thread(target=self.httpd.serve_forever, name="khabar-ml-backend", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop accepting, wait for the requests under way, close the socket."""
        if self._thread is not None:
            self.httpd.shutdown()
            self._thread.join()
            self._thread = None
        self.httpd.server_close()

    def __enter__(self) -> "BackendServer":
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.stop()


def _interrupt(signum: int, frame: Any) -> None:
    """SIGTERM handler: stop like Ctrl-C."""
    raise KeyboardInterrupt


def serve_backend(backend: Backend, host: str = DEFAULT_HOST, port: int = DEFAULT_PORT,
                  echo: Callable[[str], Any] = print) -> None:
    """Run the backend in the foreground until Ctrl-C or SIGTERM, then stop cleanly.

    Args:
        backend: what answers.
        host, port: where to listen (see :class:`BackendServer`).
        echo: prints where it listens and when it stops.

    Raises:
        StudioError: the address cannot be bound.
    """
    server = BackendServer(backend, host, port)
    echo(f"Khabar ML backend ({MODEL_CLASS}, model version {backend.model_version}) on {server.url}; "
         f"annotation events go to {backend.received_path}")
    echo(f"connect it to a project: khabar studio backend connect --url {server.url}   (Ctrl-C stops it)")
    previous = signal.signal(signal.SIGTERM, _interrupt)
    try:
        server.httpd.serve_forever()
    except KeyboardInterrupt:
        echo("stopping the ML backend …")
    finally:
        signal.signal(signal.SIGTERM, previous)
        server.stop()
        if backend.training:
            echo("warning: a retraining was under way and is abandoned; the model version stays " + backend.model_version)
