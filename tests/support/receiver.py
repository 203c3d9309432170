"""A tiny HTTP server on 127.0.0.1 in a thread, for tests of what Flowdesk sends out.

    with Receiver([Reply(500), Reply(500), Reply(200, body=b"ok")]) as receiver:
        ... receiver.url("/hook") ...
        receiver.requests  # what arrived: method, path, headers (lower-case), body

Each request takes the next scripted reply; when they run out, `default` answers. A reply
with `hang=True` holds the connection until the receiver closes (a target that never answers).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass(frozen=True)
class Reply:
    status: int = 200
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    hang: bool = False


@dataclass(frozen=True)
class Received:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes


class Receiver:
    def __init__(
        self,
        replies: list[Reply] | None = None,
        *,
        default: Reply | None = None,
        answer: Callable[[Received], Reply] | None = None,
    ) -> None:
        self._replies = list(replies or [])
        self._default = default or Reply(200, b"ok")
        self._answer = answer
        self._lock = threading.Lock()
        self._released = threading.Event()
        self.requests: list[Received] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def _handle(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                received = Received(
                    method=self.command,
                    path=self.path,
                    headers={k.lower(): v for k, v in self.headers.items()},
                    body=body,
                )
                reply = receiver._next(received)
                if reply.hang:
                    receiver._released.wait(60)
                    return
                self.send_response(reply.status)
                for name, value in reply.headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(reply.body)))
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(reply.body)

            do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = _handle  # noqa: N815

            def log_message(self, format, *args):
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def _next(self, received: Received) -> Reply:
        with self._lock:
            self.requests.append(received)
            if self._answer is not None:
                return self._answer(received)
            return self._replies.pop(0) if self._replies else self._default

    def url(self, path: str = "/", *, host: str = "127.0.0.1") -> str:
        return f"http://{host}:{self.port}{path}"

    def __enter__(self) -> Receiver:
        self._thread.start()
        return self

    def __exit__(self, *_exc) -> None:
        self._released.set()
        self._server.shutdown()
        self._server.server_close()
