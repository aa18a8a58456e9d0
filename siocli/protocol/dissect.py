"""A session's wire messages in, everything the core can say about them out.

:class:`Dissector` is what ``decode`` and the live taps run: for each wire message it
annotates every Engine.IO packet (:mod:`.annotate`), reassembles binary Socket.IO packets per
direction (:class:`.socketio.PacketAssembler`), and runs the :class:`.checker.Checker`. It
never raises on bad input; problems are in the reports.
"""

from __future__ import annotations

from collections.abc import Sequence

from ._tuples import NamedTuple  # typing's, without its per-field compile (start-up)
from .annotate import MessageBreakdown, PacketBreakdown, annotate_message, common_spans
from .checker import Checker
from .errors import DecodeError
from .recovery import Recovery, RecoveryNote, explain
from .socketio import PacketAssembler, read_common
from .types import (
    Direction,
    EnginePacket,
    EngineType,
    Finding,
    Parser,
    Severity,
    SocketPacket,
    Span,
    Transport,
    socket_protocol,
)

__all__ = ["Dissector", "MessageReport", "PacketReport", "packet_spans"]

_TEXT_WHILE_PENDING = (
    "a text message came first; the reference rejects it ('got plaintext data when "
    "reconstructing a packet') and the pending packet is lost"
)
_MESSAGE = EngineType.MESSAGE
_POLLING = Transport.POLLING
_DEFAULT = Parser.DEFAULT
_DETECTED_MSGPACK = Finding(
    Severity.INFO,
    "input.detected-parser",
    "detected the MessagePack parser (socket.io-msgpack-parser, python-socketio's "
    "serializer='msgpack'): binary messages hold MessagePack Socket.IO maps; "
    "--parser default|msgpack to say which",
)
_new = tuple.__new__  # reports are built per packet: skip NamedTuple's Python-level __new__


def _size(raw: str | bytes) -> int:
    """The size of a message on the wire: its UTF-8 bytes (``isascii`` is O(1); a lone
    surrogate, which a HAR's JSON escapes can hold, must not stop the count)."""
    if isinstance(raw, bytes) or raw.isascii():
        return len(raw)
    return len(raw.encode("utf-8", "surrogatepass"))


class IncompleteFinding(Finding):
    """A finding about a binary packet whose attachments never all came: ``index`` is the
    number of the message that carried its header, so a renderer can put the finding on
    that packet's own line. Equal only to an IncompleteFinding with the same index."""

    # an attribute, in the instance's __dict__: a tuple's subclass can add no field (nor slot);
    # it hides tuple.index, which nothing calls on a finding
    index: int | None  # type: ignore[assignment]

    def __new__(
        cls, severity: Severity, code: str, message: str, index: int | None = None
    ) -> IncompleteFinding:
        self = super().__new__(cls, severity, code, message)
        self.index = index
        return self

    def __eq__(self, other: object) -> bool:
        return (
            other.__class__ is self.__class__
            and tuple.__eq__(self, other)
            and self.index == other.index
        )

    def __ne__(self, other: object) -> bool:
        return not self == other

    __hash__ = Finding.__hash__

    def __repr__(self) -> str:
        return f"{super().__repr__()[:-1]}, index={self.index!r})"


def _json_packet(text: str) -> bool:
    """socket.io-msgpack-parser 2.x's CONNECT, DISCONNECT or ERROR: a JSON object map."""
    from .msgpack_parser import decode_json  # on use: MessagePack only (start-up)

    try:
        decode_json(text, 0, 4)
    except DecodeError:
        return False
    return True


def _msgpack_bytes(data: bytes) -> bool:
    """Is a binary message a MessagePack Socket.IO packet? (the parser's detection)"""
    from .msgpack_parser import looks_like_packet  # on use: binary messages only (start-up)

    return looks_like_packet(data)


class PacketReport(NamedTuple):
    """One Engine.IO packet of a wire message, with what the session makes of it.

    ``complete`` is the Socket.IO packet this packet completes: itself for a plain text
    packet, the reassembled binary packet for its last attachment, ``None`` while
    attachments are awaited. ``attachment`` is ``(header message index, num)`` for a binary
    message that is an attachment. ``findings`` holds the decoder's spec findings and the
    checker's about this packet, ``socket_findings`` the checker's about ``complete``;
    ``error`` is the first decoding or reassembly problem. ``recovery`` is what connection
    state recovery makes of the packet (an event's offset...) when the dissector follows it.
    """

    breakdown: PacketBreakdown
    complete: SocketPacket | None
    attachment: tuple[int, int] | None
    findings: tuple[Finding, ...]
    socket_findings: tuple[Finding, ...]
    error: DecodeError | None
    recovery: RecoveryNote | None = None


class MessageReport(NamedTuple):
    """One wire message, dissected. ``number`` counts wire messages from 0."""

    number: int
    direction: Direction | None
    transport: Transport
    time: float | None
    raw: str | bytes
    breakdown: MessageBreakdown
    packets: tuple[PacketReport, ...]
    findings: tuple[Finding, ...]


class Dissector:
    """Dissects the wire messages of one Engine.IO session, in order.

    :param eio: the Engine.IO revision (3 or 4).
    :param expect_handshake: the messages start at the beginning of the session.
    :param check: run the cross-packet checker.
    :param spans: explain every byte (the breakdowns' spans). Without, the reports hold the
        same packets and findings but no spans, for sinks that do not show them (``--json``).
    :param common_spans: with ``spans``, explain the common EVENT or ACK too. Without, its
        spans are made only when asked for (:func:`packet_spans`): a view that shows some.
    :param recovery: follows connection state recovery; share one across the Engine.IO
        sessions of a client (its reconnections).
    :param parser: the Socket.IO packet encoding (default, or MessagePack); ``None`` to
        detect it: the first binary message that no attachment awaits and that holds a
        MessagePack Socket.IO map makes the session MessagePack (and says so in a finding),
        a text Socket.IO packet makes it default.
    """

    def __init__(
        self,
        eio: int = 4,
        *,
        expect_handshake: bool = True,
        check: bool = True,
        spans: bool = True,
        recovery: Recovery | None = None,
        parser: Parser | None = Parser.DEFAULT,
        common_spans: bool = True,
    ) -> None:
        self.eio = eio
        self.recovery = recovery
        self._detect = parser is None
        self.parser = parser or Parser.DEFAULT
        self.checker = Checker(eio, expect_handshake=expect_handshake) if check else None
        self.spans = spans
        self.common_spans = common_spans
        self._assemblers: dict[Direction | None, PacketAssembler] = {}
        self._header_index: dict[Direction | None, int] = {}
        # the directions whose awaited attachments the capture lost (see lost())
        self._lost: set[Direction | None] = set()
        self._count = 0
        self._protocol = socket_protocol(eio)

    @property
    def parser_known(self) -> bool:
        """Whether :attr:`parser` was given or has been detected (see the class)."""
        return not self._detect

    def receive(
        self,
        direction: Direction | None,
        transport: Transport,
        raw: str | bytes,
        time: float | None = None,
        number: int | None = None,
    ) -> MessageReport:
        """Dissect the next wire message; ``number`` is its number in the whole capture
        (by default, counted by this dissector from 0)."""
        index = self._count if number is None else number
        self._count += 1
        if (
            raw.__class__ is str
            and raw[:1] == "4"
            and not (self.spans and self.common_spans)
            and transport is not _POLLING
            and self.parser is _DEFAULT
        ):
            # The common EVENT or ACK of a WebSocket message, on which no layer has anything
            # to say but the Socket.IO rules: most of a capture.
            common = read_common(raw, self._protocol)
            if common is not None:
                report = self._common(index, direction, transport, time, raw, common)
                if report is not None:
                    return report
        breakdown = annotate_message(raw, self.eio, transport, spans=self.spans, parser=self.parser)
        findings = breakdown.findings
        if self._detect:
            breakdown, findings = self._detect_parser(raw, transport, direction, breakdown)
        checker = self.checker if direction is not None else None
        if checker is not None and direction is not None:
            found = checker.message(direction, transport, _size(raw), time)
            if found:
                findings += tuple(found)
        pieces = breakdown.packets
        packets: tuple[PacketReport, ...]
        if len(pieces) == 1:  # a WebSocket message, most polling bodies
            packets = (self._packet(index, direction, transport, time, pieces[0], checker),)
        else:
            packets = tuple(
                [self._packet(index, direction, transport, time, p, checker) for p in pieces]
            )
        return _new(
            MessageReport, (index, direction, transport, time, raw, breakdown, packets, findings)
        )

    def _common(
        self,
        index: int,
        direction: Direction | None,
        transport: Transport,
        time: float | None,
        raw: str,
        packet: SocketPacket,
    ) -> MessageReport | None:
        """The report of a text message that carries a complete EVENT or ACK, as
        :meth:`receive`'s general path makes it, when no binary packet awaits attachments
        in that direction and the checker has nothing to say about the Engine.IO packet
        (:meth:`.Checker.steady_packet`); ``None`` otherwise (the general path decides)."""
        assembler = self._assemblers.get(direction)
        if assembler is not None and assembler.pending is not None:
            return None  # the pending packet is abandoned: the general path says so
        socket_findings: tuple[Finding, ...] = ()
        checker = self.checker
        if checker is not None and direction is not None:
            size = len(raw) if raw.isascii() else _size(raw)
            found = checker.steady_packet(direction, transport, size, packet, time)
            if found is None:
                return None
            if found:
                socket_findings = tuple(found)
        self._detect = False  # a text Socket.IO packet: the default parser
        findings: tuple[Finding, ...] = ()
        note = None
        recovery = self.recovery
        if recovery is not None:
            findings, note = recovery.packet(self, direction, packet, time)
        engine = _new(EnginePacket, (_MESSAGE, raw[1:]))
        breakdown = _new(PacketBreakdown, (0, raw, engine, packet, None, (), (), None))
        report = _new(
            PacketReport, (breakdown, packet, None, findings, socket_findings, None, note)
        )
        message = _new(MessageBreakdown, ((breakdown,), (), (), None))
        return _new(MessageReport, (index, direction, transport, time, raw, message, (report,), ()))

    def _detect_parser(
        self,
        raw: str | bytes,
        transport: Transport,
        direction: Direction | None,
        breakdown: MessageBreakdown,
    ) -> tuple[MessageBreakdown, tuple[Finding, ...]]:
        """While the parser is undecided: a text Socket.IO packet decides the default one;
        a binary message that no attachment awaits and that is a MessagePack Socket.IO map
        decides MessagePack (this message is then read again, as MessagePack); so does the
        JSON-object CONNECT, DISCONNECT or ERROR of socket.io-msgpack-parser 2.x."""
        assembler = self._assemblers.get(direction)
        for piece in breakdown.packets:
            engine = piece.engine
            if engine is None or engine.type is not _MESSAGE:
                continue
            if piece.socket is not None:
                self._detect = False
                break
            data = engine.data
            if (
                isinstance(data, bytes)
                and (assembler is None or assembler.pending is None)
                and _msgpack_bytes(data)
            ) or (
                isinstance(data, str) and self.eio == 3 and data[:1] == "{" and _json_packet(data)
            ):
                self._detect = False
                self.parser = Parser.MSGPACK
                self._assemblers.clear()
                breakdown = annotate_message(
                    raw, self.eio, transport, spans=self.spans, parser=self.parser
                )
                return breakdown, (*breakdown.findings, _DETECTED_MSGPACK)
        return breakdown, breakdown.findings

    def _packet(
        self,
        index: int,
        direction: Direction | None,
        transport: Transport,
        time: float | None,
        breakdown: PacketBreakdown,
        checker: Checker | None,
    ) -> PacketReport:
        _, _, packet, text, handshake, spans, findings, error = breakdown
        complete = None
        attachment = None
        if packet is not None and checker is not None and direction is not None:
            found = checker.engine_packet(direction, packet, transport, time, handshake)
            if found:
                findings += tuple(found)
        if packet is not None and packet.type is _MESSAGE and error is None:
            assembler = self._assemblers.get(direction) or self._new_assembler(direction)
            data = packet.data
            if text is not None and self.parser is Parser.MSGPACK:
                complete = text  # one binary message is one whole packet
            elif isinstance(data, bytes) and self.parser is Parser.MSGPACK:
                pass  # a message that is not a Socket.IO packet: its error is said already
            elif isinstance(data, bytes):
                header_index = self._header_index.get(direction)
                if assembler.pending is not None and header_index is not None:
                    attachment = (header_index, assembler.received)
                try:
                    complete = assembler.receive_binary(data)
                except DecodeError as exc:
                    error = exc
                if complete is not None and direction in self._lost:
                    self._lost.discard(direction)  # complete after all: the checker knows it
                    checker = None
            elif text is not None:
                if assembler.pending is not None:
                    findings += (self._abandon(direction, assembler, _TEXT_WHILE_PENDING),)
                complete = assembler.receive_packet(text)
                if complete is None:
                    self._header_index[direction] = index
        socket_findings: tuple[Finding, ...] = ()
        if complete is not None and checker is not None and direction is not None:
            found = checker.socket_packet(direction, complete, time)
            if found:
                socket_findings = tuple(found)
        note = None
        recovery = self.recovery
        if recovery is not None:
            if handshake is not None:
                recovery.handshake(self, handshake.ping_interval, handshake.ping_timeout)
            # an offset or a pid is in the text, even of a binary packet
            if text is not None and error is None:
                said, note = recovery.packet(self, direction, text, time)
                if said:
                    findings += said
                if note is not None and spans:
                    spans = explain(spans, text, note, breakdown.raw, breakdown.offset)
                    breakdown = breakdown._replace(spans=spans)
        return _new(
            PacketReport,
            (breakdown, complete, attachment, findings, socket_findings, error, note),
        )

    def _new_assembler(self, direction: Direction | None) -> PacketAssembler:
        assembler = self._assemblers[direction] = PacketAssembler(
            socket_protocol(self.eio), self.parser
        )
        return assembler

    def lost(self, direction: Direction, time: float | None = None) -> list[Finding]:
        """The capture had a message in ``direction`` that it could not keep (an export
        that damaged a binary body): when a packet awaits attachments there, they were
        most likely in it. The packet is then the input's loss, not the peers' fault (its
        abandonment is said as such), and the checker learns it as it was sent: an ACK of
        its id answers it. The checker's findings about the packet are returned."""
        assembler = self._assemblers.get(direction)
        if assembler is None or assembler.pending is None or direction in self._lost:
            return []
        self._lost.add(direction)
        if self.checker is None:
            return []
        return self.checker.socket_packet(direction, assembler.pending, time)

    def _abandon(
        self, direction: Direction | None, assembler: PacketAssembler, why: str
    ) -> Finding:
        received = assembler.received
        header = assembler.reset()
        assert header is not None
        where = self._header_index.get(direction)
        awaits = (
            f"the {header.type.name} of message #{where} awaits "
            f"{header.attachments - received} more attachment(s) of {header.attachments}: "
        )
        if direction in self._lost:  # the input's loss, not the peers' fault
            self._lost.discard(direction)
            why = "the capture lost the message that held them (said where it was)"
            return IncompleteFinding(Severity.INFO, "input.attachments-lost", awaits + why, where)
        return IncompleteFinding(Severity.VIOLATION, "sio.attachments-missing", awaits + why, where)

    def end(self) -> list[Finding]:
        """The messages ended: packets left incomplete, and the checker's loose ends."""
        findings = []
        for direction, assembler in self._assemblers.items():
            if assembler.pending is not None:
                findings.append(self._abandon(direction, assembler, "the capture ended"))
        if self.checker is not None:
            findings += self.checker.end()
        return findings


def packet_spans(packet: PacketReport, eio: int = 4) -> Sequence[Span]:
    """The spans of ``packet``: the dissector's, or, for a common EVENT or ACK it read
    without them (``common_spans=False``), the same spans made now."""
    breakdown = packet.breakdown
    if breakdown.spans or breakdown.socket is None or breakdown.raw.__class__ is not str:
        return breakdown.spans
    spans = common_spans(breakdown, eio)
    if packet.recovery is not None:
        return explain(
            tuple(spans), breakdown.socket, packet.recovery, breakdown.raw, breakdown.offset
        )
    return spans
