"""Engine.IO packets and payloads, revisions 3 and 4: vectors both ways, and the errors."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from siocli.protocol import engineio, socketio
from siocli.protocol.errors import DecodeError
from siocli.protocol.types import EnginePacket, EngineType, Handshake, Trace, Transport

from .conftest import load_cases, unhex

CASES = load_cases("engineio_cases.json")


def _id(case: dict) -> str:
    return f"eio{case['eio']}:{case['wire']!r}"[:60]


def assert_packet_vector(case: dict) -> None:
    """Decoding the wire gives the packet; encoding the packet gives the wire."""
    wire = unhex(case["wire"])
    packet = EnginePacket(EngineType(case["type"]), unhex(case["data"]))
    assert engineio.decode_packet(wire, case["eio"]) == packet
    if not case.get("decode_only"):
        assert engineio.encode_packet(packet, case["eio"], b64=case.get("b64", False)) == wire


@pytest.mark.parametrize("case", CASES["packets"], ids=_id)
def test_packet_vectors(case: dict) -> None:
    assert_packet_vector(case)


@pytest.mark.parametrize("case", CASES["bad_packets"], ids=_id)
def test_bad_packets(case: dict) -> None:
    with pytest.raises(DecodeError) as info:
        engineio.decode_packet(unhex(case["wire"]), case["eio"])
    assert case["reason"] in info.value.reason
    assert info.value.offset == case["offset"]
    assert info.value.layer == "engineio"


@pytest.mark.parametrize("case", CASES["payloads"], ids=_id)
def test_payload_vectors(case: dict) -> None:
    wire = unhex(case["wire"])
    packets = [EnginePacket(EngineType(t), unhex(d)) for t, d in case["packets"]]
    assert engineio.decode_payload(wire, case["eio"]) == packets
    if not case.get("decode_only"):
        encoded = engineio.encode_payload(packets, case["eio"], binary=case.get("binary", False))
        assert encoded == wire


@pytest.mark.parametrize("case", CASES["bad_payloads"], ids=_id)
def test_bad_payloads(case: dict) -> None:
    with pytest.raises(DecodeError) as info:
        engineio.decode_payload(unhex(case["wire"]), case["eio"])
    assert case["reason"] in info.value.reason, info.value.reason
    assert info.value.offset == case["offset"]


def test_split_payload_yields_packets_before_the_error() -> None:
    pieces = []
    with pytest.raises(DecodeError) as info:
        for offset, piece in engineio.split_payload("4a\x1e4bc\x1e", 4):
            pieces.append((offset, piece))
    assert pieces == [(0, "4a"), (3, "4bc")]
    assert "trailing" in info.value.reason


def test_v3_lengths_count_utf16_code_units() -> None:
    packets = [EnginePacket(EngineType.MESSAGE, "€😀")]
    # '4' + '€' (1 unit) + '😀' (2 units) = 4 UTF-16 code units; 8 UTF-8 bytes
    assert engineio.encode_payload(packets, 3) == "4:4€😀"
    assert engineio.decode_payload("4:4€😀", 3) == packets


def test_v3_binary_payload_lengths_count_utf8_bytes() -> None:
    packets = [EnginePacket(EngineType.MESSAGE, "€😀"), EnginePacket(EngineType.MESSAGE, b"\x01")]
    body = engineio.encode_payload(packets, 3, binary=True)
    # '4€😀' is 1 + 3 + 4 = 8 bytes: digit byte 08
    assert body == bytes([0, 8, 0xFF]) + "4€😀".encode() + bytes([1, 2, 0xFF, 4, 1])
    assert engineio.decode_payload(body, 3) == packets


def test_v3_binary_is_used_only_with_binary_data() -> None:
    packets = [EnginePacket(EngineType.MESSAGE, "hello")]
    assert engineio.encode_payload(packets, 3, binary=True) == "6:4hello"


def test_v4_binary_frame_of_non_message_cannot_be_encoded() -> None:
    from siocli.protocol.errors import EncodeError

    with pytest.raises(EncodeError):
        engineio.encode_packet(EnginePacket(EngineType.PING, b"\x01"), 4)


def test_quirky_v3_length_is_accepted_with_a_finding() -> None:
    trace = Trace()
    pieces = list(engineio.split_payload(" 6:4hello", 3, trace=trace))
    assert pieces == [(3, "4hello")]
    assert [f.code for f in trace.findings] == ["eio.length-form"]


def test_unpadded_base64_is_accepted_with_a_finding() -> None:
    trace = Trace()
    assert engineio.decode_packet("bAQIDBA", 4, trace=trace).data == b"\x01\x02\x03\x04"
    assert [f.code for f in trace.findings] == ["eio.base64-padding"]


def test_binary_non_message_in_v3_is_flagged() -> None:
    trace = Trace()
    packet = engineio.decode_packet(b"\x02\x01", 3, trace=trace)
    assert packet == EnginePacket(EngineType.PING, b"\x01")
    assert [f.code for f in trace.findings] == ["eio.binary-non-message"]


# --- handshake ----------------------------------------------------------------------------

HANDSHAKE_V4 = (
    '{"sid":"lv_VI97HAXpY6yYWAAAC","upgrades":["websocket"],"pingInterval":25000,'
    '"pingTimeout":5000,"maxPayload":1000000}'
)


def test_handshake_round_trip() -> None:
    handshake = engineio.decode_handshake(HANDSHAKE_V4)
    assert handshake == Handshake("lv_VI97HAXpY6yYWAAAC", ("websocket",), 25000, 5000, 1000000)
    assert engineio.encode_handshake(handshake) == HANDSHAKE_V4


def test_handshake_without_max_payload() -> None:
    handshake = engineio.decode_handshake(
        '{"sid":"x","upgrades":[],"pingInterval":25000,"pingTimeout":5000}'
    )
    assert handshake.max_payload is None
    assert handshake.upgrades == ()


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        ("", "not valid JSON"),
        ("[]", "not a JSON object"),
        ('{"upgrades":[]}', '"sid"'),
        ('{"sid":"x","upgrades":"websocket","pingInterval":1,"pingTimeout":1}', "upgrades"),
        ('{"sid":"x","upgrades":[],"pingTimeout":1}', "pingInterval"),
        ('{"sid":"x","upgrades":[],"pingInterval":true,"pingTimeout":1}', "pingInterval"),
        ('{"sid":"x","upgrades":[],"pingInterval":1,"pingTimeout":-1}', "pingTimeout"),
    ],
)
def test_bad_handshakes(data: str, reason: str) -> None:
    with pytest.raises(DecodeError) as info:
        engineio.decode_handshake(data)
    assert reason in info.value.reason


@pytest.mark.parametrize(
    ("decode", "offset", "what"),
    [
        (lambda: engineio.decode_payload("1" * 5000 + ":4hi", 3), 0, "packet length"),
        (lambda: engineio.decode_payload(b"\x00" + bytes([1]) * 5000 + b"\xff4", 3), 1, "entry"),
        (lambda: socketio.decode_packet("2" + "1" * 5000 + '["a"]', 5), 1, "ack id"),
        (lambda: socketio.decode_packet("5" + "1" * 5000 + '-["a"]', 5), 1, "attachment count"),
    ],
)
def test_numbers_past_what_python_converts_are_decode_errors(
    decode: Callable[[], object], offset: int, what: str
) -> None:
    # int() refuses more than 4300 digits with a ValueError; JavaScript reads Infinity.
    with pytest.raises(DecodeError) as info:
        decode()
    assert info.value.offset == offset
    assert what in info.value.reason and "5000 digits" in info.value.reason


def test_radix_numbers_past_the_largest_double_are_infinity() -> None:
    # Number("0xfff...") is Infinity in JavaScript; float() of that int overflows.
    with pytest.raises(DecodeError) as info:
        engineio.decode_payload("0x" + "f" * 300 + ":4hi", 3)
    assert "invalid packet length" in info.value.reason


@pytest.mark.parametrize(
    ("data", "transport", "v3"),
    [
        ('42["a"]', Transport.WEBSOCKET, False),
        ('4\x1e42["a"]', Transport.POLLING, False),
        ('6:42["a"]', Transport.POLLING, True),
        (b"\x00\x06\xff42[1]", Transport.POLLING, True),
        (b"\x01\x02", Transport.WEBSOCKET, True),  # markers, but no 0xff: a binary message
        (b"\x04\x01", Transport.WEBSOCKET, False),
    ],
)
def test_the_framing_of_a_bare_message(data: str | bytes, transport: Transport, v3: bool) -> None:
    assert engineio.transport_of(data) is transport
    assert engineio.v3_framed(data) is v3
