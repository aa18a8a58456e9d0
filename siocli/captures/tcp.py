"""From captured frames to TCP byte streams: link layers, IPv4/IPv6, and reassembly.

Sans-I/O: :func:`segment_of` reads one frame, :class:`Stream` puts one direction's
segments back in sequence order. What a capture lacks is said, never papered over: a
:class:`Gap` stands where bytes were sent but not captured (the peer acknowledged them, a
later segment is already here, or the snaplen cut the segment), with its offset, and the
bytes after it are still delivered (RFC 9293: sequence numbers, modulo 2**32).
"""

from __future__ import annotations

import struct
from typing import NamedTuple

__all__ = ["LINKTYPES", "Gap", "Segment", "Stream", "segment_of"]

# LINKTYPE_* values (tcpdump.org/linktypes.html) this module reads
NULL, ETHERNET, RAW, RAW_OLD, LOOP, LINUX_SLL, IPV4, IPV6, LINUX_SLL2 = (
    0,
    1,
    101,
    12,
    108,
    113,
    228,
    229,
    276,
)
LINKTYPES = {
    NULL: "BSD loopback",
    ETHERNET: "Ethernet",
    RAW: "raw IP",
    RAW_OLD: "raw IP",
    LOOP: "OpenBSD loopback",
    LINUX_SLL: "Linux cooked (SLL)",
    IPV4: "raw IPv4",
    IPV6: "raw IPv6",
    LINUX_SLL2: "Linux cooked v2 (SLL2)",
}

SYN, FIN, RST, ACK = 0x02, 0x01, 0x04, 0x10
_VLANS = (0x8100, 0x88A8, 0x9100)
_IPV6_EXTENSIONS = (0, 43, 60)  # hop-by-hop, routing, destination options: skippable
_u16 = struct.Struct("!H").unpack_from
_tcp = struct.Struct("!HHIIBB").unpack_from
_ETHERNET_IPV4_TCP = struct.Struct("!12xHBxHxxHxBxx4s4sHHIIBB").unpack_from  # no IP options
_new = tuple.__new__
_ip4 = struct.Struct("!BxHxxHxBxx4s4s").unpack_from  # version/IHL, length, fragment, protocol


class Segment(NamedTuple):
    """One TCP segment: ``missing`` payload bytes were not captured (snaplen)."""

    source: tuple[bytes, int]  # address, port
    destination: tuple[bytes, int]
    seq: int
    ack: int
    flags: int
    payload: bytes
    missing: int


class Gap(NamedTuple):
    """``length`` bytes of a stream, at ``offset``, that the capture does not hold."""

    offset: int
    length: int
    why: str


def segment_of(linktype: int, frame: bytes) -> Segment | str | None:
    """The TCP segment in a frame; ``None`` if the frame holds none (ARP, UDP, ICMP...); a
    reason when it should but cannot be read (an unknown link type, a cut header)."""
    if linktype == ETHERNET and len(frame) >= 54:  # the common case, read in one go
        fields = _ETHERNET_IPV4_TCP(frame)
        ethertype, first, total, fragment, protocol = fields[:5]
        if ethertype == 0x0800 and first == 0x45 and protocol == 6 and not fragment & 0x3FFF:
            source, destination, sport, dport, seq, ack, offset, flags = fields[5:]
            data = 34 + (offset >> 4) * 4
            end = 14 + total if total else len(frame)
            if data <= len(frame):
                missing = max(0, end - len(frame))
                ends = ((source, sport), (destination, dport))
                return _new(Segment, (*ends, seq, ack, flags, frame[data:end], missing))
    if linktype == ETHERNET:
        ethertype = _u16(frame, 12)[0] if len(frame) >= 14 else 0
        start = 14
        while ethertype in _VLANS and len(frame) >= start + 4:  # 802.1Q/802.1ad tags
            ethertype = _u16(frame, start + 2)[0]
            start += 4
    elif linktype == LINUX_SLL:
        ethertype = _u16(frame, 14)[0] if len(frame) >= 16 else 0
        start = 16
    elif linktype == LINUX_SLL2:
        ethertype = _u16(frame, 0)[0] if len(frame) >= 20 else 0
        start = 20
    elif linktype in (NULL, LOOP):
        if len(frame) < 4:
            return None
        family = frame[0] | frame[3]  # host byte order (NULL): one end is 0
        ethertype = 0x0800 if family == 2 else 0x86DD if family in (10, 24, 28, 30) else 0
        start = 4
    elif linktype in (RAW, RAW_OLD, IPV4, IPV6):
        version = frame[0] >> 4 if frame else 0
        ethertype = 0x0800 if version == 4 else 0x86DD if version == 6 else 0
        start = 0
    else:
        return f"link type {linktype} is not read (Ethernet, Linux cooked, loopback, raw IP are)"
    if ethertype == 0x0800:
        return _ipv4(frame, start)
    if ethertype == 0x86DD:
        return _ipv6(frame, start)
    return None


def _ipv4(frame: bytes, start: int) -> Segment | str | None:
    if len(frame) < start + 20:
        return "an IPv4 header cut short"
    version, total, fragment, protocol, source, destination = _ip4(frame, start)
    if protocol != 6:
        return None
    if fragment & 0x3FFF:  # more fragments, or a fragment offset
        return "a fragmented IPv4 packet (fragments are not reassembled)"
    # total == 0: TCP segmentation offload wrote no length; trust the frame
    end = start + total if total else len(frame)
    return _tcp_segment(frame, start + (version & 0x0F) * 4, end, source, destination)


def _ipv6(frame: bytes, start: int) -> Segment | str | None:
    if len(frame) < start + 40:
        return "an IPv6 header cut short"
    following = frame[start + 6]
    end = start + 40 + _u16(frame, start + 4)[0]
    source = frame[start + 8 : start + 24]
    destination = frame[start + 24 : start + 40]
    position = start + 40
    while following in _IPV6_EXTENSIONS:
        if len(frame) < position + 2:
            return "an IPv6 extension header cut short"
        following = frame[position]
        position += (frame[position + 1] + 1) * 8
    if following == 44:
        return "a fragmented IPv6 packet (fragments are not reassembled)"
    if following != 6:
        return None
    return _tcp_segment(frame, position, end, source, destination)


def _tcp_segment(
    frame: bytes, start: int, end: int, source: bytes, destination: bytes
) -> Segment | str:
    if len(frame) < start + 20:
        return "a TCP header cut short (snaplen)"
    sport, dport, seq, ack, offset, flags = _tcp(frame, start)
    data = start + (offset >> 4) * 4
    if len(frame) < data:
        return "TCP options cut short (snaplen)"
    payload = frame[data:end]
    return Segment(
        (source, sport), (destination, dport), seq, ack, flags, payload, max(0, end - len(frame))
    )


_MOD = 1 << 32
_HALF = 1 << 31


class Stream:
    """One direction of a TCP connection, put back in order.

    Feed segments with :meth:`add`, the peer's acknowledgements with :meth:`acked`; each
    returns what is now in order, as bytes and :class:`Gap` values, with stream offsets
    counted from the first byte after the SYN (or from the first byte seen, for a
    connection whose start the capture missed). Out-of-order segments wait, up to
    ``window`` bytes; past that, the hole before them is a gap.
    """

    __slots__ = ("delivered", "fin", "next", "pending", "pending_bytes", "window")

    def __init__(self, window: int = 1 << 20) -> None:
        self.next: int | None = None  # the sequence number of the next byte in order
        self.delivered = 0  # stream offset of self.next
        self.pending: dict[int, tuple[bytes, int]] = {}  # seq -> (payload, missing)
        self.pending_bytes = 0
        self.window = window
        self.fin: int | None = None  # the sequence number of the FIN

    def syn(self, seq: int) -> None:
        if self.next is None:
            self.next = (seq + 1) % _MOD

    def add(self, seq: int, payload: bytes, missing: int = 0) -> list[bytes | Gap]:
        if seq == self.next and not missing and not self.pending:  # the common case
            self.delivered += len(payload)
            self.next = (seq + len(payload)) & 0xFFFFFFFF
            return [payload]
        if self.next is None:
            self.next = seq
        ahead = (seq - self.next) % _MOD
        if ahead >= _HALF:  # it starts before what is delivered: a retransmission, overlap
            behind = _MOD - ahead
            size = len(payload) + missing
            if size <= behind:
                return []
            if behind < len(payload):
                payload = payload[behind:]
            else:
                missing -= behind - len(payload)
                payload = b""
            seq = self.next
            ahead = 0
        if ahead:
            if seq in self.pending:  # a retransmission of a waiting segment: keep the longer
                old = self.pending[seq]
                if len(old[0]) + old[1] >= len(payload) + missing:
                    return []
                self.pending_bytes -= len(old[0])
            self.pending[seq] = (payload, missing)
            self.pending_bytes += len(payload)
            if self.pending_bytes > self.window:
                return self._skip_to_pending("the capture lost it (no retransmission came)")
            return []
        out: list[bytes | Gap] = []
        self._deliver(payload, missing, out)
        self._drain(out)
        return out

    def acked(self, ack: int) -> list[bytes | Gap]:
        """The peer acknowledged every byte before ``ack``: what was not captured of them
        never will be."""
        if ack == self.next or self.next is None:
            return []
        ahead = (ack - self.next) % _MOD
        if ahead == 0 or ahead >= _HALF:
            return []
        if self.fin is not None and (ack - self.fin) % _MOD == 1:
            ahead -= 1  # the FIN takes a sequence number, not a byte
            if ahead == 0:
                return []
        out: list[bytes | Gap] = []
        while ahead:
            first = self._first_pending()
            if first is not None and (first - self.next) % _MOD <= ahead:
                self._skip_to_pending("not captured (the peer acknowledged it)", out)
            else:
                self._gap(ahead, "not captured (the peer acknowledged it)", out)
            self._drain(out)
            ahead = (ack - self.next) % _MOD
            if ahead >= _HALF:
                break
            if self.fin is not None and (ack - self.fin) % _MOD == 1:
                ahead = max(0, ahead - 1)
        return out

    def finish(self) -> list[bytes | Gap]:
        """The end of the capture (or of the connection): what still waits comes out, with
        the holes before it as gaps."""
        out: list[bytes | Gap] = []
        while self.pending:
            self._skip_to_pending("the capture ends before it was retransmitted", out)
        return out

    @property
    def complete(self) -> bool:
        """The FIN is here and every byte before it."""
        return self.fin is not None and self.next == self.fin and not self.pending

    def _first_pending(self) -> int | None:
        if not self.pending:
            return None
        base = self.next
        assert base is not None
        return min(self.pending, key=lambda seq: (seq - base) % _MOD)

    def _skip_to_pending(self, why: str, out: list[bytes | Gap] | None = None) -> list[bytes | Gap]:
        out = [] if out is None else out
        first = self._first_pending()
        assert first is not None and self.next is not None
        self._gap((first - self.next) % _MOD, why, out)
        self._drain(out)
        return out

    def _gap(self, length: int, why: str, out: list[bytes | Gap]) -> None:
        if length:
            assert self.next is not None  # bytes are placed only once the stream has begun
            out.append(Gap(self.delivered, length, why))
            self.delivered += length
            self.next = (self.next + length) % _MOD

    def _deliver(self, payload: bytes, missing: int, out: list[bytes | Gap]) -> None:
        if payload:
            assert self.next is not None  # bytes are placed only once the stream has begun
            out.append(payload)
            self.delivered += len(payload)
            self.next = (self.next + len(payload)) % _MOD
        self._gap(missing, "cut by the capture's snapshot length (snaplen)", out)

    def _drain(self, out: list[bytes | Gap]) -> None:
        """Deliver the waiting segments that are now in order (trimming overlaps)."""
        pending = self.pending
        while pending:
            base = self.next
            assert base is not None
            ready = False
            for seq in list(pending):
                ahead = (seq - base) % _MOD
                if ahead == 0 or ahead >= _HALF:
                    payload, missing = pending.pop(seq)
                    self.pending_bytes -= len(payload)
                    behind = 0 if ahead == 0 else _MOD - ahead
                    if behind < len(payload):
                        self._deliver(payload[behind:], missing, out)
                    elif behind < len(payload) + missing:
                        self._gap(len(payload) + missing - behind, "cut by the snaplen", out)
                    ready = True
                    break
            if not ready:
                return
