"""The values the protocol core speaks in.

Packets are immutable ``NamedTuple`` values rather than frozen dataclasses: a frozen
dataclass costs about 0.85 µs to build (one ``object.__setattr__`` per field), four times a
tuple, and a decoder builds two per wire message. Spans are tuples for the same reason
(several per packet), and the handshake because Python 3.11 compiles five or six methods per
frozen dataclass when its module is imported: ~0.8 ms of every start-up; :class:`Finding`
too (its subclass in the dissector keeps one more value as an attribute).
"""

from __future__ import annotations

import enum
from typing import Any

from ._tuples import NamedTuple  # typing's, without its per-field compile (start-up)

__all__ = [
    "Direction",
    "EnginePacket",
    "EngineType",
    "Finding",
    "Handshake",
    "Parser",
    "Severity",
    "SocketPacket",
    "SocketType",
    "Span",
    "Trace",
    "Transport",
    "heartbeat_pinger",
    "socket_protocol",
]


class EngineType(enum.IntEnum):
    """Engine.IO packet types (engine.io-protocol spec: "Packet encoding"); the same in revisions 3
    and 4."""

    OPEN = 0
    CLOSE = 1
    PING = 2
    PONG = 3
    MESSAGE = 4
    UPGRADE = 5
    NOOP = 6

    @property
    def label(self) -> str:
        """The name the Engine.IO docs use: ``"open"``, ``"message"``..."""
        return self.name.lower()


class SocketType(enum.IntEnum):
    """Socket.IO packet types (socket.io-protocol spec: "Format"). Type 4 is ERROR in protocol 4."""

    CONNECT = 0
    DISCONNECT = 1
    EVENT = 2
    ACK = 3
    CONNECT_ERROR = 4
    BINARY_EVENT = 5
    BINARY_ACK = 6

    def label(self, protocol: int = 5) -> str:
        """The type's name in ``protocol``: ``CONNECT_ERROR`` is ``ERROR`` in protocol 4."""
        if self is SocketType.CONNECT_ERROR and protocol == 4:
            return "ERROR"
        return self.name


class Direction(str, enum.Enum):
    """Who sent a message."""

    C2S = "c2s"
    S2C = "s2c"

    @property
    def arrow(self) -> str:
        """``>`` for client to server, ``<`` for server to client (curl's habit)."""
        return ">" if self is Direction.C2S else "<"

    @property
    def peer(self) -> str:
        return "client" if self is Direction.C2S else "server"


class Transport(str, enum.Enum):
    POLLING = "polling"
    WEBSOCKET = "websocket"


class Parser(str, enum.Enum):
    """The Socket.IO packet encoding (the "custom parser" of the Socket.IO docs).

    * ``default``: text packets, binary as attachments (socket.io-parser);
    * ``msgpack``: one binary MessagePack map per packet, binary inline
      (socket.io-msgpack-parser, python-socketio's ``serializer="msgpack"``).
    """

    DEFAULT = "default"
    MSGPACK = "msgpack"


def socket_protocol(eio: int) -> int:
    """The Socket.IO protocol that travels over Engine.IO revision ``eio`` (socket.io-protocol
    spec: "History")."""
    return 4 if eio == 3 else 5


def heartbeat_pinger(eio: int) -> Direction:
    """Who sends the heartbeat's pings in Engine.IO revision ``eio``: the server in 4, the
    client in 3, the other side answering with a pong (engine.io-protocol spec, "Heartbeat";
    a probe's ping comes from the client in both)."""
    return Direction.S2C if eio == 4 else Direction.C2S


class EnginePacket(NamedTuple):
    """One Engine.IO packet. ``data`` is text, or bytes for a binary message; "" when absent
    (the wire does not tell "no data" from "empty data": engine.io-protocol spec, "Packet
    encoding")."""

    type: EngineType
    data: str | bytes = ""


class SocketPacket(NamedTuple):
    """One Socket.IO packet, as the wire says it.

    ``type`` is the type on the wire (BINARY_EVENT stays BINARY_EVENT after reassembly).
    ``data`` is the decoded JSON payload, ``None`` when absent (the reference encoder writes
    nothing for ``null``, so the two are one on the wire); in a complete binary packet the
    placeholders are replaced by ``bytes``. ``attachments`` is the count announced in the
    header (0 for types 0-4).
    """

    type: SocketType
    namespace: str = "/"
    data: Any = None
    id: int | None = None
    attachments: int = 0

    @property
    def event(self) -> Any:
        """The event name of an EVENT or BINARY_EVENT, else ``None``."""
        if self.type in (SocketType.EVENT, SocketType.BINARY_EVENT) and self.data:
            return self.data[0]
        return None

    @property
    def args(self) -> list[Any]:
        """The arguments: an event's data after its name, an ack's data, else ``[]``."""
        data = self.data
        if not isinstance(data, list):
            return []
        if self.type in (SocketType.EVENT, SocketType.BINARY_EVENT):
            return data[1:]
        if self.type in (SocketType.ACK, SocketType.BINARY_ACK):
            return data
        return []


class Handshake(NamedTuple):
    """The data of the server's open packet (engine.io-protocol spec: "Handshake"). Times are in
    milliseconds;
    ``max_payload`` is ``None`` for servers older than engine.io 6.2."""

    sid: str
    upgrades: tuple[str, ...]
    ping_interval: int
    ping_timeout: int
    max_payload: int | None = None


class Severity(str, enum.Enum):
    """How bad a finding is.

    * ``violation``: breaks the protocol as written or as the reference implementation
      enforces it;
    * ``warning``: legal but suspicious, or accepted only by a lenient reference;
    * ``info``: worth knowing.
    """

    VIOLATION = "violation"
    WARNING = "warning"
    INFO = "info"


class Finding(NamedTuple):
    """A protocol observation about one packet. ``code`` is stable (for ``--json`` and tests),
    ``message`` is for people."""

    severity: Severity
    code: str
    message: str


_new = tuple.__new__


class Span(NamedTuple):
    """``text[start:end]`` of a wire message means ``meaning``; ``kind`` names the field
    (``eio_type``, ``sio_type``, ``namespace``, ``ack_id``, ``payload``, ``separator``...).
    A tuple, as annotation makes several per packet."""

    start: int
    end: int
    kind: str
    meaning: str


class Trace:
    """What a decoder saw on its way, when asked: the spans it read and the spec findings
    about what it accepted. Decoders take ``trace=None`` on the fast path; the annotator
    passes one, so annotation and decoding run the very same code.

    ``base`` is added to every offset, so that a decoder called on a piece of a larger
    message records spans in the message's coordinates. Without ``explain``, only findings
    are kept (``--json`` prints no spans): decoders skip the work of a span's meaning when
    ``explain`` is false.

    A plain slotted class, not a dataclass: a working buffer, never compared nor printed,
    and a dataclass costs ~0.5 ms to create at import (every run's start-up).
    """

    __slots__ = ("base", "explain", "findings", "spans")

    def __init__(self, base: int = 0, *, explain: bool = True) -> None:
        self.base = base
        self.spans: list[Span] = []
        self.findings: list[Finding] = []
        self.explain = explain

    def span(self, start: int, end: int, kind: str, meaning: str) -> None:
        if self.explain:
            base = self.base
            self.spans.append(_new(Span, (base + start, base + end, kind, meaning)))

    def finding(self, severity: Severity, code: str, message: str) -> None:
        self.findings.append(Finding(severity, code, message))
