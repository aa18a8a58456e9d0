"""Packet captures built byte by byte, for the tests of damaged captures and for bench/.

Only what a capture needs: pcap and pcapng writers, Ethernet (with VLAN tags), Linux
cooked SLL/SLL2, loopback and raw IP frames around IPv4 or IPv6 and TCP, and a
:class:`Conversation` that numbers the sequence space of one TCP connection. Checksums are
left at zero (captures on the sending host have them so: offloaded).
"""

from __future__ import annotations

import os
import struct
import zlib
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import IO

ETHERNET, RAW, LINUX_SLL, LINUX_SLL2, NULL = 1, 101, 113, 276, 0
SYN, FIN, RST, PSH, ACK = 0x02, 0x01, 0x04, 0x08, 0x10

Packet = tuple[float, bytes]  # time, frame


def ip_packet(src: bytes, dst: bytes, segment: bytes) -> bytes:
    if len(src) == 16:
        return struct.pack("!IHBB", 6 << 28, len(segment), 6, 64) + src + dst + segment
    header = struct.pack("!BBHHHBBH", 0x45, 0, 20 + len(segment), 0, 0x4000, 64, 6, 0)
    return header + src + dst + segment


def tcp_segment(
    sport: int, dport: int, seq: int, ack: int, flags: int, payload: bytes = b""
) -> bytes:
    return struct.pack("!HHIIBBHHH", sport, dport, seq, ack, 5 << 4, flags, 65535, 0, 0) + payload


def link(linktype: int, packet: bytes, *, vlan: bool = False) -> bytes:
    ethertype = 0x86DD if packet[0] >> 4 == 6 else 0x0800
    if linktype == ETHERNET:
        tag = struct.pack("!HH", 0x8100, 42) if vlan else b""  # 802.1Q, VLAN 42
        return (
            b"\x00\x11\x22\x33\x44\x55\x66\x77\x88\x99\xaa\xbb"
            + tag
            + struct.pack("!H", ethertype)
            + packet
        )
    if linktype == LINUX_SLL:
        return struct.pack("!HHH8sH", 0, 772, 6, b"\x00" * 8, ethertype) + packet
    if linktype == LINUX_SLL2:
        return struct.pack("!HHIHBB8s", ethertype, 0, 1, 772, 0, 6, b"\x00" * 8) + packet
    if linktype == NULL:
        return struct.pack("<I", 2 if ethertype == 0x0800 else 30) + packet
    return packet  # RAW


@dataclass
class Conversation:
    """One TCP connection's packets, numbered as a real stack would."""

    client: tuple[bytes, int] = (bytes([127, 0, 0, 1]), 40000)
    server: tuple[bytes, int] = (bytes([127, 0, 0, 1]), 3000)
    linktype: int = ETHERNET
    vlan: bool = False
    time: float = 1_700_000_000.0
    step: float = 0.001
    mss: int = 1400
    ack_every: int = 0  # 0: the peer ACKs each send(); n: every n-th segment (delayed ACKs)
    seq: dict[bool, int] = field(default_factory=lambda: {True: 1000, False: 50000})
    packets: list[Packet] = field(default_factory=list)
    unacked: dict[bool, int] = field(default_factory=lambda: {True: 0, False: 0})

    def _packet(self, from_client: bool, flags: int, payload: bytes = b"") -> None:
        src, dst = (self.client, self.server) if from_client else (self.server, self.client)
        segment = tcp_segment(
            src[1], dst[1], self.seq[from_client] % 2**32, self.seq[not from_client] % 2**32,
            flags, payload,
        )  # fmt: skip
        self.time += self.step
        frame = link(self.linktype, ip_packet(src[0], dst[0], segment), vlan=self.vlan)
        self.packets.append((self.time, frame))

    def open(self) -> Conversation:
        self._packet(True, SYN)
        self.seq[True] += 1
        self._packet(False, SYN | ACK)
        self.seq[False] += 1
        self._packet(True, ACK)
        return self

    def send(self, from_client: bool, data: bytes) -> Conversation:
        for start in range(0, len(data), self.mss):
            piece = data[start : start + self.mss]
            self._packet(from_client, PSH | ACK, piece)
            self.seq[from_client] += len(piece)
            if self.ack_every:
                self.unacked[from_client] += 1
                if self.unacked[from_client] == self.ack_every:
                    self._packet(not from_client, ACK)
                    self.unacked[from_client] = 0
        if not self.ack_every:
            self._packet(not from_client, ACK)
        return self

    def close(self) -> Conversation:
        for side in (True, False):
            self._packet(side, FIN | ACK)
            self.seq[side] += 1
        self._packet(True, ACK)
        return self


def write_pcap(
    stream: IO[bytes],
    packets: Iterable[Packet],
    linktype: int = ETHERNET,
    *,
    nanoseconds: bool = False,
    big_endian: bool = False,
    snaplen: int = 262144,
) -> None:
    order = ">" if big_endian else "<"
    magic = 0xA1B23C4D if nanoseconds else 0xA1B2C3D4
    stream.write(struct.pack(order + "IHHiIII", magic, 2, 4, 0, 0, snaplen, linktype))
    scale = 1_000_000_000 if nanoseconds else 1_000_000
    for time, frame in packets:
        seconds = int(time)
        fraction = round((time - seconds) * scale)
        captured = frame[:snaplen]
        stream.write(struct.pack(order + "IIII", seconds, fraction, len(captured), len(frame)))
        stream.write(captured)


def _block(kind: int, body: bytes, order: str = "<") -> bytes:
    body += b"\x00" * (-len(body) % 4)
    length = len(body) + 12
    return struct.pack(order + "II", kind, length) + body + struct.pack(order + "I", length)


def write_pcapng(
    stream: IO[bytes],
    packets: Iterable[Packet],
    linktype: int = ETHERNET,
    *,
    tsresol: int = 9,
    big_endian: bool = False,
    simple: bool = False,
    junk_block: bool = False,
) -> None:
    """``simple``: Simple Packet Blocks (no time); ``junk_block``: a block of an unknown
    type before the packets, which readers must skip."""
    order = ">" if big_endian else "<"
    stream.write(_block(0x0A0D0D0A, struct.pack(order + "IHHq", 0x1A2B3C4D, 1, 0, -1), order))
    options = struct.pack(order + "HHB3x", 9, 1, tsresol) + struct.pack(order + "HH", 0, 0)
    stream.write(_block(1, struct.pack(order + "HHI", linktype, 0, 262144) + options, order))
    if junk_block:
        stream.write(_block(0x0BAD, os.urandom(13), order))
    for time, frame in packets:
        if simple:
            stream.write(_block(3, struct.pack(order + "I", len(frame)) + frame, order))
            continue
        ticks = round(time * 10**tsresol)
        head = struct.pack(
            order + "IIIII", 0, ticks >> 32, ticks & 0xFFFFFFFF, len(frame), len(frame)
        )
        stream.write(_block(6, head + frame, order))


def ws_frame(
    payload: bytes, opcode: int = 1, *, mask: bool = False, fin: bool = True, rsv1: bool = False
) -> bytes:
    first = (0x80 if fin else 0) | (0x40 if rsv1 else 0) | opcode
    size = len(payload)
    if size < 126:
        head = bytes([first, (0x80 if mask else 0) | size])
    elif size < 65536:
        head = bytes([first, (0x80 if mask else 0) | 126]) + struct.pack("!H", size)
    else:
        head = bytes([first, (0x80 if mask else 0) | 127]) + struct.pack("!Q", size)
    if not mask:
        return head + payload
    key = b"\x37\xfa\x21\x3d"
    return head + key + bytes(b ^ key[i % 4] for i, b in enumerate(payload))


def deflate_message(data: bytes, compressor: zlib._Compress | None = None) -> bytes:
    """permessage-deflate (RFC 7692 §7.2.1): deflate, flush, drop the 00 00 ff ff tail."""
    compressor = compressor or zlib.compressobj(wbits=-15)
    out = compressor.compress(data) + compressor.flush(zlib.Z_SYNC_FLUSH)
    return out[:-4]


def http_request(method: str, target: str, body: bytes = b"", **headers: str) -> bytes:
    lines = [f"{method} {target} HTTP/1.1", "Host: 127.0.0.1:3000"]
    lines += [f"{name.replace('_', '-')}: {value}" for name, value in headers.items()]
    if body or method == "POST":
        lines.append(f"Content-Length: {len(body)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


def http_response(
    status: int, body: bytes = b"", *, chunked: bool = False, **headers: str
) -> bytes:
    reason = {101: "Switching Protocols", 200: "OK", 400: "Bad Request"}.get(status, "X")
    lines = [f"HTTP/1.1 {status} {reason}"]
    lines += [f"{name.replace('_', '-')}: {value}" for name, value in headers.items()]
    if status == 101:
        return ("\r\n".join(lines) + "\r\n\r\n").encode()
    if chunked:
        lines.append("Transfer-Encoding: chunked")
        half = len(body) // 2
        parts = [body[:half], body[half:]]
        encoded = b"".join(b"%x\r\n%s\r\n" % (len(p), p) for p in parts if p) + b"0\r\n\r\n"
        return ("\r\n".join(lines) + "\r\n\r\n").encode() + encoded
    lines.append(f"Content-Length: {len(body)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body
