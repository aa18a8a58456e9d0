"""siocli serve and CORS, with a real browser: headless Chromium loads socket.io-client's
browser bundle from a page on another origin (another port), and connects over polling
with ``extraHeaders`` (an ``Authorization`` header), which makes it send preflights.

The page says how it went with a request to its own server (``/report?result=...``), and
the tests wait for that request; siocli serve's live view says what it allowed or refused.
"""

from __future__ import annotations

import json
import queue
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import httpx
import pytest

from .browser import browser
from .realservers import NODE_MODULES, http_server
from .test_serve import LiveView, serving

PERMISSIVE = "any origin (reflected, with credentials; --cors ORIGIN restricts it)"
BUNDLE = NODE_MODULES / "socket.io-client" / "dist" / "socket.io.min.js"

PAGE = b"""<!doctype html>
<script src="/socket.io.min.js"></script>
<script>
const server = new URLSearchParams(location.search).get("server");
const report = (what) => fetch("/report?" + new URLSearchParams(what));
const socket = io(server, {
  transports: ["polling"],
  extraHeaders: { Authorization: "Bearer not-a-secret" },
  reconnection: false,
});
socket.on("connect", () => {
  socket.emit("from-browser", socket.io.engine.transport.name);
  report({ result: "connect" });
});
socket.on("connect_error", (err) => report({ result: "connect_error", message: err.message }));
</script>
"""


@contextmanager
def page_server() -> Iterator[tuple[str, queue.Queue[dict[str, str]]]]:
    """The page and the bundle, on 127.0.0.1 and a port of their own; what the page
    reports comes out of the queue."""
    reports: queue.Queue[dict[str, str]] = queue.Queue()
    bundle = BUNDLE.read_bytes()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            parts = urlsplit(self.path)
            if parts.path == "/report":
                reports.put(dict(parse_qsl(parts.query)))
                self._send(204, "text/plain", b"")
            elif parts.path == "/socket.io.min.js":
                self._send(200, "text/javascript", bundle)
            elif parts.path == "/":
                self._send(200, "text/html", PAGE)
            else:
                self._send(404, "text/plain", b"")

        def _send(self, status: int, kind: str, body: bytes) -> None:
            self.send_response(status)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: Any) -> None:
            pass

    with http_server(Handler) as origin:
        yield origin, reports


def connect_from_a_page(*options: str) -> tuple[dict[str, str], LiveView, str]:
    """Serve with ``options``, load the page in Chromium: what the page reported, the live
    view, and the page's origin."""
    with (
        page_server() as (origin, reports),
        serving(*options) as (url, view),
        browser(f"{origin}/?server={url}"),
    ):
        try:
            report = reports.get(timeout=60)  # Chromium's start is slow on a busy machine
        except queue.Empty:
            pytest.fail("the page reported nothing in 60 s")
        if report.get("result") == "connect":
            view.wait_for(lambda r: r["type"] == "event" and r["event"] == "from-browser")
    return report, view, origin


def test_a_browser_with_extra_headers_connects_from_another_origin() -> None:
    """The preflight asks for ``authorization``: it is allowed (serve allowed only
    Content-Type, and the page could not connect)."""
    report, view, _ = connect_from_a_page()
    assert report == {"result": "connect"}
    assert [r for r in view.seen if r["type"] == "cors_refused"] == []


def test_cors_refuses_the_origins_it_does_not_name() -> None:
    """``--cors`` without the page's origin: the preflight is refused, the page cannot
    connect, and the live view says why."""
    report, view, page = connect_from_a_page("--cors", "http://127.0.0.1:1,http://localhost:2")
    assert report["result"] == "connect_error"
    [listening] = [r for r in view.seen if r["type"] == "listening"]
    assert listening["cors"] == "only http://127.0.0.1:1, http://localhost:2 (with credentials)"
    refused = view.wait_for(lambda r: r["type"] == "cors_refused")
    assert (refused["origin"], refused["preflight"]) == (page, True)
    assert refused["reason"] == f"origin {page} is not allowed"


def test_a_preflight_gets_the_headers_it_asks_for() -> None:
    """Without a browser: what the answers carry, allowed and refused."""
    asked = {
        "Origin": "http://127.0.0.1:1",
        "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "authorization, x-trace",
    }
    with serving("--cors", "http://127.0.0.1:1", "--cors", "http://localhost:2") as (url, view):
        allowed = httpx.options(url + "/socket.io/?EIO=4&transport=polling", headers=asked)
        other = httpx.options(
            url + "/socket.io/?EIO=4&transport=polling",
            headers={**asked, "Origin": "http://evil.example"},
        )
        handshake = httpx.get(
            url + "/socket.io/?EIO=4&transport=polling", headers={"Origin": "http://evil.example"}
        )
        view.wait_for(lambda r: r["type"] == "cors_refused" and not r["preflight"])
    assert allowed.status_code == 204
    assert allowed.headers["access-control-allow-origin"] == "http://127.0.0.1:1"
    assert allowed.headers["access-control-allow-credentials"] == "true"
    assert allowed.headers["access-control-allow-headers"] == "authorization, x-trace"
    assert "POST" in allowed.headers["access-control-allow-methods"]
    assert other.status_code == 204 and "access-control-allow-origin" not in other.headers
    # served (as the reference's cors middleware does), but the browser will not read it
    assert handshake.status_code == 200 and "access-control-allow-origin" not in handshake.headers
    refusals = [(r["origin"], r["preflight"]) for r in view.seen if r["type"] == "cors_refused"]
    assert refusals == [("http://evil.example", True), ("http://evil.example", False)]


def test_verbose_says_the_policy_and_every_preflight() -> None:
    process = subprocess.Popen(
        [sys.executable, "-m", "siocli", "serve", "--port", "0", "--json", "-v"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None
    try:
        url = json.loads(process.stdout.readline())["url"]
        # said before the answer goes out: by the time it comes, it is on stderr
        httpx.options(
            url + "/socket.io/?EIO=4&transport=polling",
            headers={
                "Origin": "http://a.example",
                "Access-Control-Request-Method": "GET",
                "Access-Control-Request-Headers": "authorization",
            },
        )
        httpx.get(
            url + "/socket.io/?EIO=4&transport=polling", headers={"Origin": "http://a.example"}
        )
    finally:
        process.terminate()
        _, err = process.communicate(timeout=10)
    lines = err.splitlines()
    assert (
        lines[0] == "── CORS: any origin (reflected, with credentials; --cors ORIGIN restricts it)"
    )
    assert lines[1] == (
        "── CORS preflight from http://a.example for GET with headers authorization: allowed"
    )
    assert lines[2].startswith("── client ")  # whose messages follow
