"""An HTTP answer to a probe (:class:`Answer`), and what the protocol core reads in it: an
open packet, an Engine.IO error, the answer to a probe's CONNECT or ping. No I/O here."""

from __future__ import annotations

import contextlib
import json
from dataclasses import dataclass, field
from typing import Any

from ..protocol import engineio, msgpack_parser, socketio
from ..protocol.errors import DecodeError
from ..protocol.types import (
    EnginePacket,
    EngineType,
    Handshake,
    Parser,
    SocketPacket,
    SocketType,
    socket_protocol,
)
from ..protocol.wordings import UNKNOWN_SESSION
from ..transports.errors import TransportError, says
from .evidence import preview

__all__ = [
    "Answer",
    "answers_probe",
    "http_hint",
    "probe_packet",
    "read_open",
    "revisions_from",
    "socket_packets",
]


@dataclass(slots=True)
class Answer:
    """One HTTP request of a probe, and what the core made of its body."""

    method: str
    status: int | None = None  # None: no HTTP answer at all (see failure)
    body: str = ""
    content_type: str = ""
    headers: Any = None  # httpx.Headers
    cookies: list[tuple[str, str]] = field(default_factory=list)
    seconds: float = 0.0
    raw: bytes = b""
    failure: TransportError | None = None
    eio: int | None = None  # the revision whose framing the body decoded in
    packets: list[EnginePacket] = field(default_factory=list)
    handshake: Handshake | None = None
    problem: str | None = None  # why the body is not an open packet

    @property
    def error_code(self) -> int | None:
        value = _json_body(self)
        code = value.get("code") if isinstance(value, dict) else None
        return code if isinstance(code, int) and not isinstance(code, bool) else None

    @property
    def error_message(self) -> str | None:
        """The reference's ``{"message"}``, or python-engineio's JSON string body."""
        value = _json_body(self)
        if isinstance(value, dict) and isinstance(value.get("message"), str):
            return str(value["message"])
        return value if isinstance(value, str) else None

    @property
    def from_engine(self) -> bool:
        """An Engine.IO server wrote this answer: an open packet or one of its errors."""
        if self.handshake is not None:
            return True
        return self.status in (400, 403) and (
            self.error_code is not None or self.error_message is not None
        )

    @property
    def unknown_session(self) -> bool:
        message = self.error_message or self.body
        return self.error_code == 1 or says(message, UNKNOWN_SESSION)

    @property
    def payload(self) -> str | bytes:
        """The body as the core reads it: bytes for an Engine.IO 3 binary payload (engine.io-parser
        2.x ``decodePayloadAsBinary``)."""
        binary = self.content_type.startswith("application/octet-stream")
        return self.raw if binary else self.body

    def header(self, name: str) -> str | None:
        return None if self.headers is None else self.headers.get(name)

    def describe(self) -> str:
        """``HTTP 200, an Engine.IO 4 open packet`` / ``HTTP 400 Session ID unknown (code 1)``."""
        if self.failure is not None:
            return self.failure.message
        if self.handshake is not None:
            return f"HTTP {self.status}, an Engine.IO {self.eio} open packet"
        code, message = self.error_code, self.error_message
        if self.status != 200 and message is not None:
            return f"HTTP {self.status} {message}" + (f" (code {code})" if code is not None else "")
        kind = self.content_type.split(";")[0]
        body = f'"{preview(self.body.strip(), 60)}"' if self.body.strip() else "(empty)"
        return " ".join(part for part in (f"HTTP {self.status}", kind, body) if part)


def _json_body(answer: Answer) -> Any:
    text = answer.body.strip()
    if not text or text[0] not in '{"':
        return None
    try:
        return json.loads(text)
    except ValueError:
        return None


def http_hint(answer: Answer) -> str | None:
    """What to do about an answer that is not a success: the failure's hint when there was
    no HTTP answer, else the hint for its status and Engine.IO error."""
    from ..transports.errors import hint_for_http

    if answer.status is None:
        return answer.failure.hint if answer.failure else None
    return hint_for_http(answer.status, answer.error_message, answer.error_code)


def revisions_from(asked: int) -> tuple[int, int]:
    """Both Engine.IO revisions, the one asked for first."""
    return asked, 3 if asked == 4 else 4


def read_open(answer: Answer, asked: int) -> None:
    """Read an answer's body as a handshake, in the revision asked for, else the other one:
    a Socket.IO 2.x server ignores ``EIO=4`` and answers ``<length>:0{...}`` (engine.io-protocol
    spec, branch v3: "Payload"). The open
    packet must come first, so a misread cannot pass for a handshake."""
    if answer.status != 200:
        return
    problems = []
    for eio in revisions_from(asked):
        try:
            packets = engineio.decode_payload(answer.body, eio)
        except DecodeError as exc:
            problems.append(f"not Engine.IO {eio} ({exc})")
            continue
        if not packets or packets[0].type is not EngineType.OPEN:
            first = packets[0].type.label if packets else "nothing"
            problems.append(f"Engine.IO {eio} framing starts with {first}, not the open packet")
            continue
        try:
            answer.handshake = engineio.decode_handshake(str(packets[0].data))
        except DecodeError as exc:
            answer.problem = f"the open packet is not a valid handshake: {exc}"
            return
        answer.eio, answer.packets = eio, packets
        return
    answer.problem = "; ".join(problems)


def socket_packets(
    packets: list[EnginePacket], eio: int, parser: Parser = Parser.DEFAULT
) -> list[SocketPacket]:
    """The Socket.IO packets among Engine.IO messages, as ``parser`` reads them (what does
    not decode is left out: these probes only look for CONNECT answers)."""
    found = []
    msgpack = parser is Parser.MSGPACK
    for packet in packets:
        if packet.type is not EngineType.MESSAGE:
            continue
        with contextlib.suppress(DecodeError):
            if isinstance(packet.data, str) and not msgpack:
                found.append(socketio.decode_packet(packet.data, socket_protocol(eio)))
            elif isinstance(packet.data, bytes) and msgpack:
                found.append(msgpack_parser.decode_packet(packet.data))
    return found


def probe_packet(eio: int, parser: Parser = Parser.DEFAULT) -> EnginePacket:
    """What a probe sends for the server to answer at once: Engine.IO 4, CONNECT to ``/``
    (answered by CONNECT or CONNECT_ERROR), encoded by ``parser``; Engine.IO 3, a ping (the
    client pings in revision 3, engine.io-protocol spec: "Heartbeat"), answered by a pong."""
    if eio == 4:
        connect = SocketPacket(SocketType.CONNECT, "/")
        if parser is Parser.MSGPACK:
            return EnginePacket(EngineType.MESSAGE, msgpack_parser.encode_packet(connect))
        return EnginePacket(EngineType.MESSAGE, socketio.encode_packet(connect))
    return EnginePacket(EngineType.PING)


def answers_probe(packets: list[EnginePacket], eio: int, parser: Parser = Parser.DEFAULT) -> bool:
    """Whether ``packets`` hold the answer to :func:`probe_packet`."""
    if eio == 3:
        return any(p.type is EngineType.PONG for p in packets)
    types = (SocketType.CONNECT, SocketType.CONNECT_ERROR)
    return any(p.type in types and p.namespace == "/" for p in socket_packets(packets, eio, parser))
