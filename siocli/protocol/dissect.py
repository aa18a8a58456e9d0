"""A session's wire messages in, everything the core can say about them out.

:class:`Dissector` is what ``decode`` and the live taps run: for each wire message it
annotates every Engine.IO packet (:mod:`.annotate`), reassembles binary Socket.IO packets per
direction (:class:`.socketio.PacketAssembler`), and runs the :class:`.checker.Checker`. It
never raises on bad input; problems are in the reports.
"""

from __future__ import annotations

from typing import NamedTuple

from .annotate import MessageBreakdown, PacketBreakdown, annotate_message
from .checker import Checker
from .errors import DecodeError
from .socketio import PacketAssembler
from .types import (
    Direction,
    EngineType,
    Finding,
    Severity,
    SocketPacket,
    Transport,
    socket_protocol,
)

__all__ = ["Dissector", "MessageReport", "PacketReport"]

_TEXT_WHILE_PENDING = (
    "a text message came first; the reference rejects it ('got plaintext data when "
    "reconstructing a packet') and the pending packet is lost"
)


class PacketReport(NamedTuple):
    """One Engine.IO packet of a wire message, with what the session makes of it.

    ``complete`` is the Socket.IO packet this packet completes: itself for a plain text
    packet, the reassembled binary packet for its last attachment, ``None`` while
    attachments are awaited. ``attachment`` is ``(header message index, num)`` for a binary
    message that is an attachment. ``findings`` holds the decoder's spec findings and the
    checker's about this packet, ``socket_findings`` the checker's about ``complete``;
    ``error`` is the first decoding or reassembly problem.
    """

    breakdown: PacketBreakdown
    complete: SocketPacket | None
    attachment: tuple[int, int] | None
    findings: tuple[Finding, ...]
    socket_findings: tuple[Finding, ...]
    error: DecodeError | None


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
    """

    def __init__(self, eio: int = 4, *, expect_handshake: bool = True, check: bool = True) -> None:
        self.eio = eio
        self.checker = Checker(eio, expect_handshake=expect_handshake) if check else None
        self._assemblers: dict[Direction | None, PacketAssembler] = {}
        self._header_index: dict[Direction | None, int] = {}
        self._count = 0

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
        breakdown = annotate_message(raw, self.eio, transport)
        checker = self.checker if direction is not None else None
        findings: list[Finding] = list(breakdown.findings)
        if checker is not None:
            size = len(raw.encode("utf-8")) if isinstance(raw, str) else len(raw)
            findings += checker.message(direction, transport, size, time)  # type: ignore[arg-type]
        packets = tuple(
            self._packet(index, direction, transport, time, packet, checker)
            for packet in breakdown.packets
        )
        return MessageReport(
            index, direction, transport, time, raw, breakdown, packets, tuple(findings)
        )

    def _packet(
        self,
        index: int,
        direction: Direction | None,
        transport: Transport,
        time: float | None,
        breakdown: PacketBreakdown,
        checker: Checker | None,
    ) -> PacketReport:
        findings = list(breakdown.findings)
        error = breakdown.error
        complete = None
        attachment = None
        packet = breakdown.engine
        if packet is not None and checker is not None:
            findings += checker.engine_packet(
                direction,  # type: ignore[arg-type]
                packet,
                transport,
                time,
                breakdown.handshake,
            )
        if packet is not None and packet.type is EngineType.MESSAGE and error is None:
            assembler = self._assembler(direction)
            if isinstance(packet.data, bytes):
                header_index = self._header_index.get(direction)
                if assembler.pending is not None and header_index is not None:
                    attachment = (header_index, assembler.received)
                try:
                    complete = assembler.receive_binary(packet.data)
                except DecodeError as exc:
                    error = exc
            elif breakdown.socket is not None:
                if assembler.pending is not None:
                    findings.append(self._abandon(direction, assembler, _TEXT_WHILE_PENDING))
                complete = assembler.receive_packet(breakdown.socket)
                if complete is None:
                    self._header_index[direction] = index
        socket_findings: tuple[Finding, ...] = ()
        if complete is not None and checker is not None:
            socket_findings = tuple(checker.socket_packet(direction, complete, time))  # type: ignore[arg-type]
        return PacketReport(
            breakdown, complete, attachment, tuple(findings), socket_findings, error
        )

    def _assembler(self, direction: Direction | None) -> PacketAssembler:
        assembler = self._assemblers.get(direction)
        if assembler is None:
            assembler = self._assemblers[direction] = PacketAssembler(socket_protocol(self.eio))
        return assembler

    def _abandon(
        self, direction: Direction | None, assembler: PacketAssembler, why: str
    ) -> Finding:
        received = assembler.received
        header = assembler.reset()
        assert header is not None
        where = self._header_index.get(direction)
        return Finding(
            Severity.VIOLATION,
            "sio.attachments-missing",
            f"the {header.type.name} of message #{where} awaits "
            f"{header.attachments - received} more attachment(s) of {header.attachments}: {why}",
        )

    def end(self) -> list[Finding]:
        """The messages ended: packets left incomplete, and the checker's loose ends."""
        findings = []
        for direction, assembler in self._assemblers.items():
            if assembler.pending is not None:
                findings.append(self._abandon(direction, assembler, "the capture ended"))
        if self.checker is not None:
            findings += self.checker.end()
        return findings
