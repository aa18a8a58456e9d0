"""Annotation: the "Details" lines of the docs' sample session, for any message."""

from __future__ import annotations

from siocli.protocol.annotate import annotate_message, annotate_packet
from siocli.protocol.types import SocketType, Transport


def details(
    raw: str, eio: int = 4, transport: Transport = Transport.WEBSOCKET
) -> list[tuple[str, str]]:
    """(text, meaning) for every span, framing included, in wire order."""
    breakdown = annotate_message(raw, eio, transport)
    spans = [*breakdown.spans, *(s for p in breakdown.packets for s in p.spans)]
    return [(raw[s.start : s.end], s.meaning) for s in sorted(spans, key=lambda s: s.start)]


def test_the_docs_details_for_an_event() -> None:
    assert details('42["hey","Jude"]') == [
        ("4", 'Engine.IO "message" packet type'),
        ("2", 'Socket.IO "EVENT" packet type'),
        ('["hey","Jude"]', "event 'hey' with 1 argument"),
    ]


def test_the_docs_details_for_a_polling_body() -> None:
    assert details('42["hello"]\x1e42["world"]', transport=Transport.POLLING) == [
        ("4", 'Engine.IO "message" packet type'),
        ("2", 'Socket.IO "EVENT" packet type'),
        ('["hello"]', "event 'hello' with 0 arguments"),
        ("\x1e", "separator"),
        ("4", 'Engine.IO "message" packet type'),
        ("2", 'Socket.IO "EVENT" packet type'),
        ('["world"]', "event 'world' with 0 arguments"),
    ]


def test_every_field_of_a_binary_ack() -> None:
    raw = '461-/admin,1[{"_placeholder":true,"num":0}]'
    assert details(raw) == [
        ("4", 'Engine.IO "message" packet type'),
        ("6", 'Socket.IO "BINARY_ACK" packet type'),
        ("1-", "1 binary attachment"),
        ("/admin,", "namespace"),
        ("1", "acknowledgement id"),
        ('[{"_placeholder":true,"num":0}]', "acknowledgement with 1 argument"),
    ]


def test_open_packet_and_v3_lengths() -> None:
    raw = '77:0{"sid":"a","upgrades":["websocket"],"pingInterval":25000,"pingTimeout":5000}2:40'
    spans = details(raw, 3, Transport.POLLING)
    assert spans[0] == ("77:", "packet length (77 UTF-16 code units)")
    assert spans[1] == ("0", 'Engine.IO "open" packet type')
    assert spans[2][1] == "the Engine.IO handshake data"
    assert spans[3] == ("2:", "packet length (2 UTF-16 code units)")
    assert spans[5] == ("0", 'Socket.IO "CONNECT" packet type')
    packets = annotate_message(raw, 3, Transport.POLLING).packets
    assert packets[0].handshake is not None and packets[0].handshake.sid == "a"
    assert packets[1].socket is not None and packets[1].socket.type is SocketType.CONNECT


def test_probe_is_explained() -> None:
    assert details("2probe")[1] == ("probe", "Engine.IO probe request (upgrade check)")
    assert details("3probe")[1] == ("probe", "Engine.IO probe response (upgrade check)")


def test_bad_input_gives_the_spans_before_the_error() -> None:
    packet = annotate_packet('42/admin,7["connect"]')
    assert [s.kind for s in packet.spans] == ["eio_type", "sio_type", "namespace", "ack_id"]
    assert packet.error is not None
    assert packet.error.layer == "socketio"
    assert "reserved event name" in packet.error.reason
    assert packet.error.offset == 10  # in the message: where the payload starts


def test_framing_error_keeps_earlier_packets() -> None:
    breakdown = annotate_message("4a\x1e4b\x1e", 4, Transport.POLLING)
    assert [p.raw for p in breakdown.packets] == ["4a", "4b"]
    assert breakdown.error is not None and "trailing" in breakdown.error.reason
    assert breakdown.error.offset == 6


def test_offsets_are_in_message_coordinates() -> None:
    raw = '6:4hello9:42["hey"]'
    second = annotate_message(raw, 3, Transport.POLLING).packets[1]
    assert second.offset == 10
    payload = next(s for s in second.spans if s.kind == "payload")
    assert raw[payload.start : payload.end] == '["hey"]'


def test_binary_messages() -> None:
    [packet] = annotate_message(b"\x01\x02\x03").packets
    assert packet.spans[0].meaning == "binary data (3 bytes)"
    [v3] = annotate_message(b"\x04\x01", 3).packets
    assert [s.meaning for s in v3.spans] == [
        'Engine.IO "message" packet type (type byte, revision 3)',
        "binary data (1 byte)",
    ]
