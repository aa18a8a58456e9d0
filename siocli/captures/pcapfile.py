"""The pcap and pcapng file formats: the captured frames of a file, streamed.

pcap (tcpdump's ``-w``): a 24-byte header whose magic gives the byte order and the time
resolution (``a1b2c3d4`` microseconds, ``a1b23c4d`` nanoseconds), then a 16-byte header
per record. pcapng (Wireshark's default, IETF draft-ietf-opsawg-pcapng): blocks of
``type, length, body, length``; a Section Header Block (SHB) sets the byte order, each
Interface Description Block (IDB) gives an interface's link type and timestamp resolution
(option ``if_tsresol``), Enhanced and Simple Packet Blocks (EPB, SPB) carry the frames.
Other blocks (statistics, name resolution, custom) are skipped.

The file is read in chunks, a record at a time: a capture of any size in flat memory. A
damaged file yields what it holds up to the damage, then one :class:`CaptureError` that
says what and at which offset; nothing else is raised.

Written here rather than taken from dpkt, python-pcapng or scapy: see the commit that
added this module (the readers are ~200 lines, import nothing, and are faster than each).
"""

from __future__ import annotations

import struct
from collections.abc import Iterator
from typing import IO, NamedTuple

from . import PCAP_MAGICS

__all__ = ["CaptureError", "Frame", "read_frames"]

_CHUNK = 1 << 20
_new = tuple.__new__
_MAX_BLOCK = 64 << 20  # no frame needs more; a larger length is damage, not data


class Frame(NamedTuple):
    """One captured link-layer frame: ``data`` may be shorter than ``length`` (snaplen)."""

    time: float  # epoch seconds
    linktype: int  # LINKTYPE_* (tcpdump.org/linktypes.html)
    data: bytes
    length: int  # the frame's length on the wire
    offset: int  # of its record in the file


class CaptureError(Exception):
    """The file is not, or no longer, a readable capture: what, and at which offset."""

    def __init__(self, message: str, offset: int) -> None:
        super().__init__(message)
        self.message = message
        self.offset = offset


class _Reader:
    """Reads exact byte counts from a stream, through one buffer, counting the offset."""

    __slots__ = ("buffer", "offset", "position", "stream")

    def __init__(self, stream: IO[bytes]) -> None:
        self.stream = stream
        self.buffer = b""
        self.position = 0  # in buffer
        self.offset = 0  # in the file, of buffer[position]

    def take(self, count: int) -> bytes | None:
        """``count`` bytes, or ``None`` at a clean end of file (nothing left); raises
        :class:`CaptureError` when the file ends inside them."""
        end = self.position + count
        if end > len(self.buffer):
            rest = self.buffer[self.position :]
            parts = [rest]
            have = len(rest)
            while have < count:
                more = self.stream.read(max(_CHUNK, count - have))
                if not more:
                    break
                parts.append(more)
                have += len(more)
            self.buffer = b"".join(parts)
            self.position = 0
            end = count
            if have < count:
                if have == 0:
                    return None
                raise CaptureError(
                    f"the file ends inside a record: {have} of {count} bytes", self.offset
                )
        data = self.buffer[self.position : end]
        self.offset += count
        self.position = end
        return data


def read_frames(stream: IO[bytes]) -> Iterator[Frame]:
    """The frames of a pcap or pcapng file, in file order; raises only :class:`CaptureError`."""
    reader = _Reader(stream)
    head = reader.take(4)
    if head is None or head not in PCAP_MAGICS:
        raise CaptureError("not a pcap or pcapng file (unknown magic number)", 0)
    if head == PCAP_MAGICS[4]:
        yield from _pcapng(reader)
    else:
        yield from _pcap(reader, head)


def _pcap(reader: _Reader, magic: bytes) -> Iterator[Frame]:
    order = "<" if magic[0] in (0xD4, 0x4D) else ">"
    scale = 1e-9 if magic in (PCAP_MAGICS[2], PCAP_MAGICS[3]) else 1e-6
    rest = reader.take(20)
    if rest is None:
        raise CaptureError("the file ends inside the pcap header", 4)
    linktype = struct.unpack(order + "I", rest[16:20])[0] & 0x0FFFFFFF  # FCS bits above
    unpack = struct.Struct(order + "IIII").unpack_from
    # The records are read from the reader's buffer in place (this loop runs once per
    # frame: a call to take() for each header and each frame would cost a third of it).
    buffer, position, offset = reader.buffer[reader.position :], 0, reader.offset
    read = reader.stream.read
    while True:
        if position + 16 > len(buffer):
            more = read(_CHUNK)
            if not more:
                if position < len(buffer):
                    raise CaptureError("the file ends inside a record header", offset)
                return
            buffer, position = buffer[position:] + more, 0
            continue
        seconds, fraction, captured, length = unpack(buffer, position)
        end = position + 16 + captured
        if end > len(buffer):
            if captured > _MAX_BLOCK:
                raise CaptureError(
                    f"a record of {captured} bytes: the file is damaged here", offset
                )
            more = read(max(_CHUNK, captured))
            if not more:
                raise CaptureError(
                    f"the file ends inside a record: {len(buffer) - position - 16} of its "
                    f"{captured} bytes",
                    offset,
                )
            buffer, position = buffer[position:] + more, 0
            continue
        yield _new(  # Frame(...) costs 3x more
            Frame,
            (seconds + fraction * scale, linktype, buffer[position + 16 : end], length, offset),
        )
        offset += end - position
        position = end


_SHB, _IDB, _SPB, _EPB, _OPB = 0x0A0D0D0A, 1, 3, 6, 2


def _pcapng(reader: _Reader) -> Iterator[Frame]:
    order = "<"
    interfaces: list[tuple[int, float, int]] = []  # linktype, seconds per tick, snaplen
    first = True
    kind_bytes: bytes | None
    while True:
        if first:  # read_frames took its first four bytes
            offset, kind_bytes = 0, PCAP_MAGICS[4]
        else:
            offset, kind_bytes = reader.offset, reader.take(4)
        if kind_bytes is None:
            return
        length_bytes = reader.take(4)
        if length_bytes is None:
            raise CaptureError("the file ends inside a block header", offset)
        if kind_bytes == b"\x0a\x0d\x0d\x0a":
            magic = reader.take(4)
            if magic is None:
                raise CaptureError("the file ends inside a section header", offset)
            if magic == b"\x4d\x3c\x2b\x1a":
                order = "<"
            elif magic == b"\x1a\x2b\x3c\x4d":
                order = ">"
            else:
                raise CaptureError(
                    f"a section header with the byte-order magic {magic.hex()} (expected 1a2b3c4d)",
                    offset + 8,
                )
            interfaces = []  # a new section numbers its interfaces anew
            length = struct.unpack(order + "I", length_bytes)[0]
            body_length = length - 16
            first = False
            kind = _SHB
        else:
            kind, length = struct.unpack(order + "II", kind_bytes + length_bytes)
            body_length = length - 12
        if length % 4 or body_length < 0 or length > _MAX_BLOCK:
            raise CaptureError(
                f"a block (type {kind:#x}) of length {length}: a pcapng block's length is a "
                "multiple of 4, at least 12; the file is damaged here",
                offset,
            )
        body = reader.take(body_length + 4)
        if body is None:
            raise CaptureError("the file ends inside a block", offset)
        if body[-4:] != length_bytes:
            raise CaptureError(
                f"a block (type {kind:#x}) whose trailing length differs from its leading "
                "one: the file is damaged here",
                offset,
            )
        if kind in (_EPB, _OPB):
            if len(body) < 24:
                raise CaptureError("a packet block too short for its fields", offset)
            if kind == _EPB:
                number, high, low, captured, wire = struct.unpack_from(order + "IIIII", body)
            else:
                number, high, low, captured, wire = struct.unpack_from(order + "HxxIIII", body)
            if number >= len(interfaces):
                raise CaptureError(
                    f"a packet on interface {number}, which no interface block described",
                    offset,
                )
            if captured > len(body) - 24:
                raise CaptureError(
                    f"a packet block claims {captured} bytes but holds {len(body) - 24}", offset
                )
            linktype, tick, _ = interfaces[number]
            yield Frame(
                ((high << 32) | low) * tick, linktype, body[20 : 20 + captured], wire, offset
            )
        elif kind == _SPB:
            if not interfaces:
                raise CaptureError("a simple packet block before any interface block", offset)
            if len(body) < 8:
                raise CaptureError("a simple packet block too short for its fields", offset)
            linktype, _, snaplen = interfaces[0]
            wire = struct.unpack_from(order + "I", body)[0]
            captured = min(wire, len(body) - 8, snaplen or wire)
            yield Frame(0.0, linktype, body[4 : 4 + captured], wire, offset)
        elif kind == _IDB:
            if len(body) < 12:
                raise CaptureError("an interface block too short for its fields", offset)
            linktype, snaplen = struct.unpack_from(order + "HxxI", body)
            interfaces.append((linktype, _resolution(body[8:-4], order), snaplen))


def _resolution(options: bytes, order: str) -> float:
    """Seconds per timestamp tick, from the ``if_tsresol`` option (code 9): a power of 10,
    or of 2 with the high bit set; microseconds without it."""
    position = 0
    while position + 4 <= len(options):
        code, length = struct.unpack_from(order + "HH", options, position)
        if code == 0:
            break
        if code == 9 and length >= 1:
            value = options[position + 4]
            return 2.0 ** -(value & 0x7F) if value & 0x80 else 10.0**-value
        position += 4 + (length + 3) // 4 * 4
    return 1e-6
