"""A real browser through siocli proxy: headless Chromium loads socket.io-client's browser
bundle from a page on another origin, so every polling request is preceded by a CORS
preflight, and both go through the proxy. What the page sees through the proxy must be
what it sees on a direct connection."""

from __future__ import annotations

import json
import queue
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any

from .browser import browser
from .realservers import NODE_MODULES, http_server, run_server
from .test_proxy import run_proxy

PAGE = Path(__file__).parent / "clients" / "proxy_page.html"
BUNDLE = NODE_MODULES / "socket.io-client" / "dist" / "socket.io.min.js"


@contextmanager
def page_server(target: str) -> Iterator[tuple[str, queue.Queue[Any]]]:
    """The page's origin: the page (pointed at ``target``), the bundle, and /result."""
    results: queue.Queue[Any] = queue.Queue()
    page = PAGE.read_text().replace("__TARGET__", target).encode()
    bundle = BUNDLE.read_bytes()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body, kind = (
                (bundle, "text/javascript")
                if self.path.endswith(".js")
                else (
                    page,
                    "text/html",
                )
            )
            self.send_response(200)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length", 0))
            results.put(json.loads(self.rfile.read(length)))
            self.send_response(204)
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    with http_server(Handler) as origin:
        yield origin + "/", results


def browse(target: str) -> list[dict[str, Any]]:
    """Open the page in headless Chromium; what it reported."""
    with page_server(target) as (url, results), browser(url):
        seen = results.get(timeout=60)
    assert {"type": "timeout"} not in seen, seen
    return list(seen)


def test_a_browser_through_the_proxy_sees_what_it_sees_directly() -> None:
    with run_server("node4") as server, run_proxy(server.url) as proxy:
        direct = browse(server.url)
        relayed = browse(proxy.url)
        view = proxy.stop()
    key = lambda record: json.dumps(record, sort_keys=True)  # noqa: E731
    assert sorted(relayed, key=key) == sorted(direct, key=key)
    assert {"type": "whoami", "auth": {"token": "secret-token"}} in relayed
    assert {"type": "connect_error", "message": "not authorized"} in relayed
    assert {"type": "echo", "args": ["text", {"$binary": "ff00"}]} in relayed
    assert {"type": "transport", "name": "websocket"} in relayed
    # the preflights went through the proxy, and the upgrade too
    assert "OPTIONS /socket.io/?EIO=4&transport=polling" in view
    assert "⇧ upgrade: now over websocket" in view
