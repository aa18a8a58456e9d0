"""Why a WebSocket did not open, in words, with the fix: the status a proxy or the server
answered the Upgrade request with, and what it means."""

from __future__ import annotations

import asyncio
from typing import NamedTuple

from ..protocol.wordings import TRANSPORT_REFUSED, EngineError
from .answer import Answer
from .fixes import PROXY_WEBSOCKET_FIX, unknown_session
from .probe import Prober

__all__ = ["Refusal", "refusal"]


class Refusal(NamedTuple):
    """Why a WebSocket did not open: the words, the fix, and whether it is the server's
    own choice (no WebSocket at all); ``status``: an HTTP refusal not named otherwise."""

    problem: str
    fix: str | None
    disabled: bool = False
    status: int | None = None


def refusal(probe: Prober, path: str, exc: BaseException, *, upgrade: bool) -> Refusal:
    """Why the WebSocket to ``path`` did not open; ``upgrade``: it carried a session's sid."""
    from websockets.exceptions import (
        InvalidMessage,
        InvalidProxyStatus,
        InvalidStatus,
        InvalidUpgrade,
    )

    from ..transports.websocket import describe_ws_failure

    failure = describe_ws_failure(exc, probe.at(path))
    if isinstance(exc, InvalidStatus):
        response = exc.response
        status = response.status_code
        body = response.body.decode("utf-8", "replace") if response.body else ""
        answer = Answer("GET", status, body, response.headers.get("Content-Type", ""))
        said = answer.describe()
        if status == 200 or (status == 400 and _plain_request_answer(answer)):
            return Refusal(
                f"the request reached the server as plain HTTP ({said}): the Upgrade and "
                "Connection headers were removed on the way (a proxy strips them)",
                PROXY_WEBSOCKET_FIX,
            )
        if answer.error_code == 0 or EngineError.TRANSPORT_UNKNOWN.message in body:
            return Refusal(
                f"the server does not accept WebSocket ({said})",
                "the server's transports option lacks 'websocket'; clients stay on polling",
                disabled=True,
            )
        if upgrade and answer.unknown_session:
            return Refusal(*unknown_session("the WebSocket", answer))
        if status in (502, 503, 504):
            return Refusal(
                f"the proxy answered {said}: it could not pass the WebSocket to the server",
                PROXY_WEBSOCKET_FIX,
            )
        if status == 404:
            return Refusal(
                f"{said}: the proxy routes this path for HTTP but not for WebSocket",
                PROXY_WEBSOCKET_FIX,
            )
        return Refusal(f"refused with {said}", failure.hint, status=status)
    if isinstance(exc, InvalidProxyStatus):
        return Refusal(
            f"the proxy refused to tunnel the WebSocket (CONNECT → HTTP "
            f"{exc.response.status_code})",
            "the proxy must allow CONNECT to this host and port (or exempt the host with "
            "NO_PROXY); polling still passes through it",
        )
    if isinstance(exc, InvalidUpgrade):
        return Refusal(
            f"the answer to the upgrade was not a WebSocket handshake ({exc}): a proxy "
            "rewrites the Upgrade/Connection headers",
            PROXY_WEBSOCKET_FIX,
        )
    if isinstance(exc, InvalidMessage):
        return Refusal(
            "the connection closed during the WebSocket handshake (a proxy dropped it)",
            PROXY_WEBSOCKET_FIX,
        )
    if isinstance(exc, (TimeoutError, asyncio.TimeoutError)):
        return Refusal(
            f"no answer to the WebSocket request within {probe.timeout:g} s",
            "a proxy holds the Upgrade request; " + PROXY_WEBSOCKET_FIX,
        )
    return Refusal(failure.message, failure.hint)


def _plain_request_answer(answer: Answer) -> bool:
    """An answer written by the server's plain-HTTP path to a WebSocket request: engine.io
    answers real upgrade requests on the raw socket in text/html, never in JSON (engine.io
    lib/server.ts, ``Server.errorMessages``), and
    python-engineio says "Invalid websocket upgrade" / "Invalid transport" when the Upgrade
    header is missing. Either way the request arrived without its Upgrade header."""
    if answer.content_type.startswith("application/json") and answer.error_code is not None:
        return True
    return (answer.error_message or "") in ("Invalid websocket upgrade", TRANSPORT_REFUSED[1])
