"""How the reference servers word their refusals, in one place: what ``siocli serve`` and the
recorded server answer, and what the client, the doctor and the hints recognise.

The reference is engine.io (lib/server.ts, ``Server.errors`` and ``Server.errorMessages``) and
socket.io (lib/client.ts: a CONNECT to a namespace that does not exist). python-engineio and
python-socketio answer the same situations in other words and without codes: the tuples
below list the reference's words first, then theirs.
"""

from __future__ import annotations

import enum

from . import _jsonlib

__all__ = [
    "INVALID_NAMESPACE",
    "NO_NAMESPACE",
    "TRANSPORT_REFUSED",
    "UNKNOWN_SESSION",
    "UNSUPPORTED_PROTOCOL",
    "EngineError",
    "describe_error_answer",
]


class EngineError(enum.Enum):
    """engine.io's error answers: (code, message), sent as ``{"code": .., "message": ..}``."""

    TRANSPORT_UNKNOWN = (0, "Transport unknown")
    UNKNOWN_SID = (1, "Session ID unknown")
    BAD_HANDSHAKE_METHOD = (2, "Bad handshake method")
    BAD_REQUEST = (3, "Bad request")
    FORBIDDEN = (4, "Forbidden")
    UNSUPPORTED_PROTOCOL_VERSION = (5, "Unsupported protocol version")

    @property
    def code(self) -> int:
        return int(self.value[0])

    @property
    def message(self) -> str:
        return str(self.value[1])

    def body(self) -> str:
        """The JSON body of the answer, as engine.io writes it."""
        return f'{{"code":{self.code},"message":"{self.message}"}}'


INVALID_NAMESPACE = "Invalid namespace"
"""socket.io's CONNECT_ERROR message for a namespace the server does not have."""

UNKNOWN_SESSION = (EngineError.UNKNOWN_SID.message, "Invalid session")
UNSUPPORTED_PROTOCOL = (
    EngineError.UNSUPPORTED_PROTOCOL_VERSION.message,
    "unsupported version of the Socket.IO",
)
NO_NAMESPACE = (INVALID_NAMESPACE, "Unable to connect")
TRANSPORT_REFUSED = (EngineError.TRANSPORT_UNKNOWN.message, "Invalid transport")


def describe_error_answer(status: int, body: str) -> str:
    """An HTTP error answer, as said to a person: ``HTTP 400: Session ID unknown (code 1)``
    from the reference's JSON body, python-engineio's bare JSON string, or the start of any
    other body."""
    text = f"HTTP {status}"
    try:
        value = _jsonlib.loads(body) if body else None
    except _jsonlib.JSONError:
        value = None
    if isinstance(value, dict) and "message" in value:
        text += f": {value['message']}"
        if "code" in value:
            text += f" (code {value['code']})"
    elif isinstance(value, str):  # python-engineio: a bare JSON string
        text += f": {value}"
    elif body:
        text += f": {body[:200]}"
    return text
