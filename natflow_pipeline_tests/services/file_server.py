"""A real HTTP server on loopback serving files, which can be told to answer 503 or stall first.

The standard library's ``http.server`` in a thread: requests talks to it over TCP exactly as it
talks to ip-ranges.amazonaws.com, so timeouts, retries and status handling are exercised for real.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest


@dataclass
class FileServer:
    root: Path
    url: str
    #: answer 503 to the next N requests, then serve normally
    fail_next: int = 0
    #: sleep this long before answering (to exercise timeouts)
    delay_s: float = 0.0
    requests: list[str] = field(default_factory=list)

    def reset(self) -> None:
        self.fail_next, self.delay_s = 0, 0.0
        self.requests.clear()


def _handler(server: FileServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
            server.requests.append(self.path)
            if server.delay_s:
                time.sleep(server.delay_s)
            if server.fail_next > 0:
                server.fail_next -= 1
                self._answer(503, b"busy")
                return
            path = server.root / self.path.lstrip("/")
            if not path.is_file():
                self._answer(404, b"not found")
                return
            self._answer(200, path.read_bytes(), "application/json")

        def _answer(self, status: int, body: bytes, kind: str = "text/plain") -> None:
            try:
                self.send_response(status)
                self.send_header("Content-Type", kind)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client gave up (a timeout test)

        def log_message(self, format: str, *args: object) -> None:  # noqa: A002
            pass

    return Handler


@pytest.fixture
def file_server(tmp_path: Path) -> Iterator[FileServer]:
    """Serve ``tmp_path / "www"`` on a free loopback port for one test."""
    root = tmp_path / "www"
    root.mkdir()
    state = FileServer(root, "")
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _handler(state))
    httpd.daemon_threads = True
    state.url = f"http://127.0.0.1:{httpd.server_address[1]}"
    thread = threading.Thread(
        target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
    )
    thread.start()
    try:
        yield state
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join(timeout=10)
