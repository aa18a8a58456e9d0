"""Socket.IO packets, protocols 4 and 5: vectors both ways, errors, binary attachments."""

from __future__ import annotations

import pytest

from siocli.protocol import socketio
from siocli.protocol.errors import DecodeError, EncodeError
from siocli.protocol.socketio import PacketAssembler, reconstruct
from siocli.protocol.types import SocketPacket, SocketType, Trace

from .conftest import load_cases

CASES = load_cases("socketio_cases.json")
PH0 = {"_placeholder": True, "num": 0}
PH1 = {"_placeholder": True, "num": 1}


def _id(case: dict) -> str:
    return f"v{case['protocol']}:{case['wire']!r}"[:60]


def packet_of(case: dict) -> SocketPacket:
    return SocketPacket(
        SocketType(case["type"]),
        case.get("nsp", "/"),
        case.get("data"),
        case.get("id"),
        case.get("attachments", 0),
    )


@pytest.mark.parametrize("case", CASES["packets"], ids=_id)
def test_packet_vectors(case: dict) -> None:
    """Decoding the wire gives the packet; encoding the packet gives the wire."""
    packet = packet_of(case)
    assert socketio.decode_packet(case["wire"], case["protocol"]) == packet
    if not case.get("decode_only"):
        assert socketio.encode_packet(packet) == case["wire"]


@pytest.mark.parametrize("case", CASES["bad_packets"], ids=_id)
def test_bad_packets(case: dict) -> None:
    with pytest.raises(DecodeError) as info:
        socketio.decode_packet(case["wire"], case["protocol"])
    assert case["reason"] in info.value.reason, info.value.reason
    assert info.value.offset == case["offset"]
    assert info.value.layer == "socketio"


@pytest.mark.parametrize(
    ("wire", "codes"),
    [
        ('2["a"]', []),
        ("2", ["sio.event-without-payload"]),
        ("3[]", ["sio.ack-without-id"]),
        ("3", ["sio.ack-without-id"]),
        ("31", ["sio.ack-without-payload"]),
        ('2/admin["x"]', ["sio.namespace-swallows-payload", "sio.event-without-payload"]),
        ('2 ["a"]', ["sio.blank-in-ack-id"]),
        ("01{}", ["sio.id-on-non-event"]),
        ("", ["sio.empty-packet"]),
        (" {}", ["sio.blank-type"]),
        ('2/,["x"]', ["sio.explicit-main-namespace"]),
        ('5 1 -["a",{"_placeholder":true,"num":0}]', ["sio.count-form"]),
        ('29007199254740993["a"]', ["sio.ack-id-precision"]),
    ],
)
def test_spec_findings(wire: str, codes: list[str]) -> None:
    """What the reference accepts but the written spec forbids is reported, not refused."""
    trace = Trace()
    socketio.decode_packet(wire, 5, trace=trace)
    assert [f.code for f in trace.findings] == codes


def test_spans_cover_every_field() -> None:
    trace = Trace(base=1)
    socketio.decode_packet('61-/admin,15["bar",{"_placeholder":true,"num":0}]', 5, trace=trace)
    assert [(s.start, s.end, s.kind) for s in trace.spans] == [
        (1, 2, "sio_type"),
        (2, 4, "attachments"),
        (4, 11, "namespace"),
        (11, 13, "ack_id"),
        (13, 50, "payload"),
    ]


@pytest.mark.parametrize(
    "packet",
    [
        SocketPacket(SocketType.EVENT, "admin", ["x"]),
        SocketPacket(SocketType.EVENT, "/a,b", ["x"]),
        SocketPacket(SocketType.EVENT, "/", ["x"], -1),
        SocketPacket(SocketType.EVENT, "/", [object()]),
    ],
)
def test_encode_refuses_what_cannot_go_on_the_wire(packet: SocketPacket) -> None:
    with pytest.raises(EncodeError):
        socketio.encode_packet(packet)


# --- binary attachments (socket.io-protocol spec: "Packet encoding"; socket.io-parser
# lib/binary.ts) -------------------------------------------------


def test_encode_switches_to_binary_types_and_counts_attachments() -> None:
    packet = SocketPacket(SocketType.EVENT, "/admin", ["up", b"\x01", {"k": [b"\x02\x03"]}], 7)
    assert socketio.encode(packet) == [
        '52-/admin,7["up",{"_placeholder":true,"num":0},{"k":[{"_placeholder":true,"num":1}]}]',
        b"\x01",
        b"\x02\x03",
    ]
    ack = SocketPacket(SocketType.ACK, "/", [bytearray(b"\xff")], 3)
    assert socketio.encode(ack) == ['61-3[{"_placeholder":true,"num":0}]', b"\xff"]


def test_encode_without_binary_is_plain_text() -> None:
    assert socketio.encode(SocketPacket(SocketType.EVENT, "/", ["a", 1])) == ['2["a",1]']


def test_binary_types_without_binary_go_as_plain_packets() -> None:
    """As the reference encoder: a count of 0 is refused by current decoders."""
    assert socketio.encode(SocketPacket(SocketType.BINARY_EVENT, "/", ["a"], None, 1)) == ['2["a"]']
    assert socketio.encode(SocketPacket(SocketType.BINARY_ACK, "/x", [], 3, 2)) == ["3/x,3[]"]


def test_only_events_and_acks_carry_binary() -> None:
    with pytest.raises(EncodeError):
        socketio.encode(SocketPacket(SocketType.CONNECT, "/", {"a": b"\x01"}))


def test_encode_message_frames_per_revision() -> None:
    packet = SocketPacket(SocketType.ACK, "/", [b"\xff"], 3)
    assert socketio.encode_message(packet, 4) == ['461-3[{"_placeholder":true,"num":0}]', b"\xff"]
    assert socketio.encode_message(packet, 3) == [
        '461-3[{"_placeholder":true,"num":0}]',
        b"\x04\xff",
    ]


def test_reconstruct_matches_by_num_not_order_and_copies() -> None:
    data = ["x", PH1, {"again": PH0}, PH0]
    assert reconstruct(data, [b"zero", b"one"]) == ["x", b"one", {"again": b"zero"}, b"zero"]
    assert data == ["x", PH1, {"again": PH0}, PH0]


@pytest.mark.parametrize(
    "placeholder",
    [
        {"_placeholder": True, "num": 2},
        {"_placeholder": True, "num": -1},
        {"_placeholder": True, "num": "0"},
        {"_placeholder": True, "num": 0.5},
        {"_placeholder": True},
    ],
)
def test_reconstruct_refuses_illegal_placeholders(placeholder: dict) -> None:
    with pytest.raises(DecodeError) as info:
        reconstruct(["x", placeholder], [b"a", b"b"])
    assert "illegal attachments" in info.value.reason


def test_placeholder_lookalikes_are_data() -> None:
    data = ["x", {"_placeholder": "true", "num": 0}, {"_placeholder": 1, "num": 0}]
    assert reconstruct(data, [b"a"]) == data


def test_assembler_reassembles_across_messages() -> None:
    assembler = PacketAssembler(5)
    assert (
        assembler.receive_text(
            '452-789["m",{"_placeholder":true,"num":1},'[1:] + '{"_placeholder":true,"num":0}]'
        )
        is None
    )
    assert assembler.pending is not None
    assert assembler.receive_binary(b"\x01\x02\x03") is None
    assert assembler.received == 1
    complete = assembler.receive_binary(b"\x04\x05\x06")
    assert complete == SocketPacket(
        SocketType.BINARY_EVENT, "/", ["m", b"\x04\x05\x06", b"\x01\x02\x03"], 789, 2
    )
    assert assembler.pending is None


def test_assembler_refuses_text_while_attachments_are_awaited() -> None:
    assembler = PacketAssembler(5)
    assembler.receive_text('51-["m",{"_placeholder":true,"num":0}]')
    with pytest.raises(DecodeError) as info:
        assembler.receive_text('2["next"]')
    assert "awaited" in info.value.reason
    dropped = assembler.reset()
    assert dropped is not None and dropped.type is SocketType.BINARY_EVENT
    assert assembler.receive_text('2["next"]') == SocketPacket(SocketType.EVENT, "/", ["next"])


def test_assembler_refuses_binary_out_of_the_blue() -> None:
    with pytest.raises(DecodeError) as info:
        PacketAssembler(5).receive_binary(b"\x01")
    assert "no binary packet" in info.value.reason


def test_assembler_reports_illegal_placeholder_and_recovers() -> None:
    assembler = PacketAssembler(5)
    assembler.receive_text('51-["m",{"_placeholder":true,"num":3}]')
    with pytest.raises(DecodeError):
        assembler.receive_binary(b"\x01")
    assert assembler.pending is None
    assert assembler.receive_text('2["ok"]') == SocketPacket(SocketType.EVENT, "/", ["ok"])


def test_event_and_args_properties() -> None:
    event = socketio.decode_packet('2["hey","Jude",1]')
    assert event.event == "hey"
    assert event.args == ["Jude", 1]
    ack = socketio.decode_packet("31[1,2]")
    assert ack.event is None
    assert ack.args == [1, 2]
    assert socketio.decode_packet("0").args == []
