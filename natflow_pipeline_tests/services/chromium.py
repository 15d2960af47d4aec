"""A real headless Chromium (Debian's ``chromium``) driven over the DevTools protocol.

Why hand-written: the DevTools protocol is JSON over one websocket, and the five commands a page
test needs (navigate, evaluate, resize, screenshot, collect errors) are less code than adopting a
browser-automation framework, whose Python packages either download their own browser builds
(playwright, which cannot be fetched here) or need a matching chromedriver. ``websockets`` (pinned)
does the protocol framing.
"""

from __future__ import annotations

import base64
import itertools
import json
import shutil
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from websockets.sync.client import ClientConnection, connect

from natflow_pipeline_tests.services.processes import Server, free_port, start_http_server

#: Flags that work in this sandbox (root, no GPU, no network): see the README's test section.
FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--hide-scrollbars",
)


def chromium_binary() -> str | None:
    return shutil.which("chromium")


@dataclass
class PageReport:
    """What happened while a page loaded: script exceptions, console errors and every URL
    requested."""

    exceptions: list[str] = field(default_factory=list)
    console_errors: list[str] = field(default_factory=list)
    requested_urls: list[str] = field(default_factory=list)


class Browser:
    """One Chromium process and a websocket to one of its pages."""

    def __init__(self, server: Server, socket: ClientConnection) -> None:
        self.server = server
        self.socket = socket
        self._ids = itertools.count(1)
        self.report = PageReport()

    def send(self, method: str, timeout_s: float = 60, **params: Any) -> dict[str, Any]:
        """Send a command and wait for its answer, recording the events that arrive meanwhile."""
        message_id = next(self._ids)
        self.socket.send(json.dumps({"id": message_id, "method": method, "params": params}))
        deadline = time.monotonic() + timeout_s
        while True:
            message = json.loads(self.socket.recv(timeout=max(0.1, deadline - time.monotonic())))
            if message.get("id") == message_id:
                if "error" in message:
                    raise RuntimeError(f"DevTools {method} failed: {message['error']}")
                return message.get("result", {})
            self._record(message)

    def wait_for_event(self, name: str, timeout_s: float = 60) -> dict[str, Any]:
        deadline = time.monotonic() + timeout_s
        while True:
            message = json.loads(self.socket.recv(timeout=max(0.1, deadline - time.monotonic())))
            self._record(message)
            if message.get("method") == name:
                return message.get("params", {})

    def evaluate(self, expression: str) -> Any:
        result = self.send(
            "Runtime.evaluate", expression=expression, returnByValue=True, awaitPromise=True
        )
        if "exceptionDetails" in result:
            raise RuntimeError(f"evaluating {expression!r} threw: {result['exceptionDetails']}")
        return result["result"].get("value")

    def open(self, url: str) -> None:
        """Navigate and wait for the load event (every inline script has run by then)."""
        for domain in ("Page", "Runtime", "Log", "Network"):
            self.send(f"{domain}.enable")
        self.send("Page.navigate", url=url)
        self.wait_for_event("Page.loadEventFired")

    def screenshot(self, path: Path, width: int = 1280) -> None:
        """A PNG of the whole page (not just the viewport) at ``width`` CSS pixels."""
        self.send(
            "Emulation.setDeviceMetricsOverride",
            width=width,
            height=900,
            deviceScaleFactor=1,
            mobile=False,
        )
        time.sleep(0.5)  # plotly's responsive charts re-lay out on resize
        height = int(self.evaluate("document.documentElement.scrollHeight"))
        self.send(
            "Emulation.setDeviceMetricsOverride",
            width=width,
            height=height,
            deviceScaleFactor=1,
            mobile=False,
        )
        time.sleep(0.5)
        shot = self.send("Page.captureScreenshot", format="png", captureBeyondViewport=True)
        path.write_bytes(base64.b64decode(shot["data"]))

    def _record(self, message: dict[str, Any]) -> None:
        method, params = message.get("method"), message.get("params", {})
        if method == "Runtime.exceptionThrown":
            details = params.get("exceptionDetails", {})
            self.report.exceptions.append(
                str(details.get("exception", {}).get("description") or details.get("text"))
            )
        elif method == "Runtime.consoleAPICalled" and params.get("type") == "error":
            self.report.console_errors.append(
                " ".join(str(a.get("value", a.get("description"))) for a in params.get("args", []))
            )
        elif method == "Log.entryAdded" and params.get("entry", {}).get("level") == "error":
            self.report.console_errors.append(str(params["entry"].get("text")))
        elif method == "Network.requestWillBeSent":
            self.report.requested_urls.append(params.get("request", {}).get("url", ""))

    def close(self) -> None:
        try:
            self.socket.close()
        finally:
            self.server.stop()


def start_chromium(profile_dir: Path, log: Path) -> Iterator[Browser]:
    """Start Chromium on a free loopback DevTools port with a new empty profile; yield a Browser."""
    binary = chromium_binary()
    if binary is None:
        raise FileNotFoundError(
            "chromium is not installed (scripts/install_chromium.sh installs it)"
        )
    profile_dir.mkdir(parents=True, exist_ok=True)
    port = free_port()
    command = [
        binary,
        *FLAGS,
        f"--remote-debugging-port={port}",
        "--remote-debugging-address=127.0.0.1",
        f"--user-data-dir={profile_dir}",
        "about:blank",
    ]
    server = start_http_server(command, f"http://127.0.0.1:{port}/json/version", log, timeout_s=60)
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/json/list", timeout=10) as response:
            targets = json.load(response)
        page = next(t for t in targets if t.get("type") == "page")
        socket = connect(page["webSocketDebuggerUrl"], max_size=None, open_timeout=30)
    except Exception:
        server.stop()
        raise
    browser = Browser(server, socket)
    try:
        yield browser
    finally:
        browser.close()
