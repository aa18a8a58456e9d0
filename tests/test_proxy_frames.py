"""The proxy's WebSocket frame reader and fault filter on arbitrary input: frames split
anywhere come out the same, and no input makes them raise."""

from __future__ import annotations

import io
import os

from hypothesis import given
from hypothesis import strategies as st

from siocli.captures.streams import Deflate
from siocli.protocol.types import Direction, EnginePacket, EngineType, Transport
from siocli.proxy.faults import Kept, filter_body, verdict
from siocli.proxy.frames import FrameReader, MessageAssembler
from siocli.proxy.options import DropRule, Faults, ProxyOptions, Target
from siocli.proxy.view import ClientSession, LiveView


def frame(payload: bytes, opcode: int = 1, fin: bool = True, mask: bytes | None = None) -> bytes:
    """A frame as RFC 6455 §5.2 lays it out (written here independently of the reader)."""
    head = bytes([(0x80 if fin else 0) | opcode])
    length = len(payload)
    bit = 0x80 if mask is not None else 0
    if length < 126:
        head += bytes([bit | length])
    elif length < 65536:
        head += bytes([bit | 126]) + length.to_bytes(2, "big")
    else:
        head += bytes([bit | 127]) + length.to_bytes(8, "big")
    if mask is None:
        return head + payload
    return head + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(payload))


@given(
    st.lists(st.binary(max_size=300), min_size=1, max_size=6),
    st.booleans(),
    st.lists(st.integers(min_value=1, max_value=400), max_size=8),
)
def test_frames_split_anywhere_read_the_same(
    payloads: list[bytes], masked: bool, cuts: list[int]
) -> None:
    stream = b"".join(frame(p, 2, mask=os.urandom(4) if masked else None) for p in payloads)
    reader = FrameReader(keep_raw=True)
    got = []
    pos = 0
    for cut in [*cuts, len(stream)]:
        got += reader.feed(stream[pos : pos + cut])
        pos += cut
    got += reader.feed(stream[pos:])
    assert [f.payload for f in got] == payloads
    assert b"".join(f.raw or b"" for f in got) == stream  # relayed byte for byte


def test_a_fragmented_text_message_is_joined() -> None:
    reader = FrameReader()
    assembler = MessageAssembler()
    stream = frame(b'42["a",', 1, fin=False) + frame(b"1]", 0)
    messages = [assembler.receive(f) for f in reader.feed(stream)]
    assert messages[0] is None and messages[1] is not None
    assert messages[1].data == '42["a",1]'


@given(st.binary(max_size=500))
def test_arbitrary_bytes_never_raise(data: bytes) -> None:
    reader = FrameReader(keep_raw=True)
    assembler = MessageAssembler(Deflate(takeover=True))
    for piece in reader.feed(data):
        if piece.opcode < 8:
            assembler.receive(piece)


@given(st.one_of(st.text(max_size=200), st.binary(max_size=200)), st.sampled_from([3, 4]))
def test_the_fault_filter_takes_any_body(body: str | bytes, eio: int) -> None:
    faults = Faults(drop=(DropRule.parse("*"),), stall_heartbeat=True)
    session = ClientSession(1, eio)
    kept, reasons = filter_body(faults, session, Direction.S2C, body)
    assert isinstance(kept, (str, bytes))
    assert all(isinstance(r, Kept) and isinstance(r.reason, str) for r in reasons)


def test_each_kept_packet_names_its_fault() -> None:
    """An event named like a heartbeat is a --drop, not a --stall-heartbeat; the server's
    ping (revision 4), not its pong (revision 3), is the one the relay answers itself."""
    faults = Faults(drop=(DropRule.parse("s2c:heart*"),), stall_heartbeat=True)
    event = EnginePacket(EngineType.MESSAGE, '2["heartbeat"]')
    assert verdict(faults, ClientSession(1, 4), Direction.S2C, event) == Kept(
        "drop", "event 'heartbeat' dropped (--drop heart*)"
    )
    assert verdict(faults, ClientSession(1, 4), Direction.C2S, event) is None
    ping = verdict(faults, ClientSession(1, 4), Direction.S2C, EnginePacket(EngineType.PING))
    assert ping == Kept("stall-heartbeat", "heartbeat ping swallowed (--stall-heartbeat)", True)
    pong = verdict(faults, ClientSession(1, 3), Direction.S2C, EnginePacket(EngineType.PONG))
    assert pong == Kept("stall-heartbeat", "heartbeat pong swallowed (--stall-heartbeat)", False)
    probe = EnginePacket(EngineType.PONG, "probe")
    assert verdict(faults, ClientSession(1, 3), Direction.S2C, probe) is None


def test_the_view_ends_a_session_on_its_close_packet_only() -> None:
    """A revision 4 binary message 0x01 (a one-byte attachment) is no close packet, nor is
    text that merely ends like one; the close packet alone or last in a payload is."""
    view = LiveView(ProxyOptions(Target.parse("http://127.0.0.1:1"), quiet=True), io.StringIO())
    ws, polling = Transport.WEBSOCKET, Transport.POLLING
    for eio, transport, data, closes in (
        (4, ws, b"\x01", False),
        (4, ws, "4note\x1e1", False),
        (4, ws, '42["ratio","1:1"]', False),
        (4, ws, "1", True),
        (3, ws, b"\x01", True),
        (4, polling, '42["a"]\x1e1', True),
        (4, polling, "4a\x1e4b", False),
        (3, polling, '7:42["a"]1:1', True),
        (3, polling, "5:4x1:1", False),  # one message, "x1:1"
        (3, polling, b"\x00\x02\xff40\x00\x01\xff1", True),
        (3, polling, b"\x01\x03\xff\x04\xff1", False),  # one binary message, ff 31
    ):
        session = view.new_session(eio, transport, f"s{len(view.sessions)}")
        view.message(session, Direction.S2C, transport, data)
        assert session.ended is closes, (eio, transport, data)
    view.close()
