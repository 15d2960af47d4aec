"""A loopback HTTP proxy in front of moto that throttles Cost Explorer like AWS does.

moto has no throttling of its own. This proxy answers the next N ``GetCostAndUsage`` calls the
way Cost Explorer answers a caller over its rate (HTTP 400, ``LimitExceededException``), counts
every call, and forwards everything else to moto unchanged, so botocore's real retry logic runs
against real HTTP.
"""

from __future__ import annotations

import http.client
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

THROTTLE_BODY = b'{"__type":"LimitExceededException","message":"Rate exceeded"}'
_HOP_HEADERS = {"connection", "keep-alive", "transfer-encoding", "content-length"}


class ThrottlingProxy:
    def __init__(self, upstream: str) -> None:
        parts = urlsplit(upstream)
        self.upstream_host, self.upstream_port = parts.hostname or "127.0.0.1", parts.port or 80
        self.cost_and_usage_calls = 0
        self.throttled = 0
        self._throttle_next = 0
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.endpoint = f"http://127.0.0.1:{self._server.server_address[1]}"

    def throttle_next(self, calls: int) -> None:
        with self._lock:
            self._throttle_next = calls

    def reset_counts(self) -> None:
        with self._lock:
            self.cost_and_usage_calls = self.throttled = 0

    def _take_throttle(self) -> bool:
        with self._lock:
            self.cost_and_usage_calls += 1
            if self._throttle_next > 0:
                self._throttle_next -= 1
                self.throttled += 1
                return True
            return False

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: object) -> None:  # quiet test output
                pass

            def _relay(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                target = self.headers.get("X-Amz-Target", "")
                if target.endswith(".GetCostAndUsage") and proxy._take_throttle():
                    self.send_response(400)
                    self.send_header("x-amzn-ErrorType", "LimitExceededException")
                    self.send_header("Content-Type", "application/x-amz-json-1.1")
                    self.send_header("Content-Length", str(len(THROTTLE_BODY)))
                    self.end_headers()
                    self.wfile.write(THROTTLE_BODY)
                    return
                upstream = http.client.HTTPConnection(
                    proxy.upstream_host, proxy.upstream_port, timeout=60
                )
                try:
                    headers = {
                        k: v for k, v in self.headers.items() if k.lower() not in _HOP_HEADERS
                    }
                    upstream.request(self.command, self.path, body=body or None, headers=headers)
                    response = upstream.getresponse()
                    payload = response.read()
                    self.send_response(response.status)
                    for key, value in response.getheaders():
                        if key.lower() not in _HOP_HEADERS:
                            self.send_header(key, value)
                    self.send_header("Content-Length", str(len(payload)))
                    self.end_headers()
                    self.wfile.write(payload)
                finally:
                    upstream.close()

            do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = _relay

        return Handler

    @contextmanager
    def running(self) -> Iterator[ThrottlingProxy]:
        thread = threading.Thread(
            target=self._server.serve_forever, name="ce-throttling-proxy", daemon=True
        )
        thread.start()
        try:
            yield self
        finally:
            self._server.shutdown()
            self._server.server_close()
            thread.join(timeout=10)
