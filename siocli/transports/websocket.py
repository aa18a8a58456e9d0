"""WebSocket over the websockets library, and what its exceptions mean."""

from __future__ import annotations

import ssl
from typing import TYPE_CHECKING

from .. import __version__
from .config import ConnectOptions, Target, ssl_context
from .errors import (
    ConnectError,
    Timeout,
    TransportError,
    hint_for_http,
    root_cause,
    ssl_cause,
    tls_error,
)

if TYPE_CHECKING:
    from websockets.asyncio.client import ClientConnection

__all__ = ["describe_ws_failure", "open_websocket"]


async def open_websocket(
    url: str, options: ConnectOptions, target: Target, cookie: str | None
) -> ClientConnection:
    from websockets.asyncio.client import connect

    headers = list(options.headers)
    if cookie:
        headers.append(("Cookie", cookie))
    return await connect(
        url,
        additional_headers=headers,
        user_agent_header=f"siocli/{__version__}",
        ssl=ssl_context(options) if target.secure else None,
        proxy=options.proxy if options.proxy else True,  # True: the *_proxy variables
        open_timeout=options.timeout,
        ping_interval=None,  # Engine.IO has its own heartbeat
        close_timeout=2,  # a frozen server must not hold a Ctrl-C for long
        max_size=None,  # the server decides (maxPayload); a debugger shows what it gets
        max_queue=None,
    )


def describe_ws_failure(exc: BaseException, target: Target) -> TransportError:
    """Translate a websockets exception into siocli's words (once, at the boundary)."""
    from websockets.exceptions import InvalidHandshake, InvalidStatus, InvalidURI

    where = target.authority
    if isinstance(exc, InvalidStatus):
        response = exc.response
        body = response.body.decode("utf-8", "replace") if response.body else ""
        status = response.status_code
        return ConnectError(
            f"WebSocket refused by {where}: HTTP {status}"
            + (f" {body.strip()[:200]}" if body else ""),
            hint_for_http(status, body, None)
            or (
                "a proxy or load balancer may be dropping the WebSocket upgrade; try "
                "--transport polling"
                if status in (400, 426)
                else None
            ),
        )
    if isinstance(exc, (TimeoutError,)) or type(exc).__name__ == "TimeoutError":
        return Timeout(f"the WebSocket to {where} did not open in time")
    tls = exc if isinstance(exc, ssl.SSLError) else ssl_cause(exc)
    if tls is not None:
        return tls_error(tls, where)
    if isinstance(exc, InvalidURI):
        return ConnectError(f"bad WebSocket URL: {exc}")
    if isinstance(exc, InvalidHandshake):
        return ConnectError(
            f"WebSocket handshake with {where} failed: {exc}",
            "a proxy may strip the Upgrade/Connection headers; try --transport polling",
        )
    if isinstance(exc, OSError):
        root = root_cause(exc)
        return ConnectError(
            f"cannot connect to {where}: {root}",
            "is the server running on that port?" if root == "connection refused" else None,
        )
    return ConnectError(f"WebSocket to {where} failed: {type(exc).__name__}: {exc}")
