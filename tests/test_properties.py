"""Property tests: encode→decode round-trips, and any input decodes or raises DecodeError."""

from __future__ import annotations

import contextlib
import json
from typing import Any

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from siocli.protocol import engineio, socketio
from siocli.protocol.annotate import annotate_message
from siocli.protocol.dissect import Dissector
from siocli.protocol.errors import DecodeError
from siocli.protocol.socketio import RESERVED_EVENTS, PacketAssembler
from siocli.protocol.types import (
    Direction,
    EnginePacket,
    SocketPacket,
    SocketType,
    Transport,
)

from .strategies import (
    ack_ids,
    any_text,
    engine_packets,
    event_names,
    huge_binary_payloads,
    json_values,
    namespaces,
    socket_packets,
)

settings.register_profile("siocli", deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile("siocli")

# --- strategies ---------------------------------------------------------------------------

# --- round-trips ----------------------------------------------------------------------------


@given(st.sampled_from([3, 4]).flatmap(lambda eio: st.tuples(st.just(eio), engine_packets(eio))))
def test_engine_packet_round_trip(case: tuple[int, EnginePacket]) -> None:
    eio, packet = case
    for b64 in (False, True):
        wire = engineio.encode_packet(packet, eio, b64=b64)
        assert engineio.decode_packet(wire, eio) == packet


@given(st.lists(engine_packets(4), min_size=1, max_size=6))
def test_v4_payload_round_trip(packets: list[EnginePacket]) -> None:
    # The separator cannot appear in text data: nothing escapes it (engine.io-protocol spec: "HTTP
    # long-polling").
    packets = [p for p in packets if not (isinstance(p.data, str) and "\x1e" in p.data)]
    if packets:
        assert engineio.decode_payload(engineio.encode_payload(packets, 4), 4) == packets


@given(st.lists(engine_packets(3), max_size=6), st.booleans())
def test_v3_payload_round_trip(packets: list[EnginePacket], binary: bool) -> None:
    body = engineio.encode_payload(packets, 3, binary=binary)
    assert engineio.decode_payload(body, 3) == packets


@given(socket_packets())
def test_socket_packet_round_trip(packet: SocketPacket) -> None:
    for protocol in (4, 5):
        wire = socketio.encode_packet(packet)
        assert socketio.decode_packet(wire, protocol) == packet


@given(st.lists(json_values | st.binary(max_size=8), max_size=5), namespaces, ack_ids, event_names)
def test_binary_round_trip_through_the_assembler(
    args: list[Any], namespace: str, ack_id: int | None, name: Any
) -> None:
    packet = SocketPacket(SocketType.EVENT, namespace, [name, *args], ack_id)
    pieces = socketio.encode(packet)
    assembler = PacketAssembler(5)
    results = [assembler.receive_text(pieces[0])] + [
        assembler.receive_binary(p) for p in pieces[1:]
    ]
    complete = results[-1]
    assert complete is not None
    assert complete.data == packet.data
    assert complete.id == ack_id and complete.namespace == namespace
    assert all(r is None for r in results[:-1])


# The one-step WebSocket decoder takes the common shapes (42[, 42<id>[, 43<id>[) on a
# shorter path than decode_packet: whatever the text, both must agree, errors included.
common_names = (
    st.sampled_from(sorted(RESERVED_EVENTS)) | event_names | st.sampled_from([None, True, [], {}])
)
common_payloads = st.builds(
    lambda name, args: json.dumps([name, *args]), common_names, st.lists(json_values, max_size=2)
) | st.sampled_from(["[]", "{}", "1", "[NaN]", '["a",1e999]', '["a"', "[", ""])
common_shapes = st.builds(
    lambda kind, ack, payload, cut: kind + ack + (payload[:cut] if cut else payload),
    st.sampled_from(["2", "3"]),
    st.sampled_from(["", "0", "7", "0012", "9" * 16, "9" * 17, " 1", "1 ", "\u0661", "1e2", "/a,"]),
    common_payloads,
    st.none() | st.integers(0, 12),
)


@given(common_shapes, st.sampled_from([4, 5]))
@example('2["connect"]', 5)  # reserved in Socket.IO 3+ only
@example('2["connect"]', 4)
@example('27["disconnect",1]', 5)
@example("3" + "9" * 16 + "[1]", 5)  # an id above 2^53
@example('2[1,"a"]', 5)  # a number as the name
@example('2[1.5,"a"]', 5)
@example('21\u0661["a"]', 5)  # a digit, but not an ASCII one
@example('2[true,"a"]', 5)
@example("2[]", 5)
@example('21 ["a"]', 5)  # a blank in the id: the reference reads it
def test_websocket_fast_path_agrees_with_decode_packet(text: str, protocol: int) -> None:
    try:
        expected: Any = socketio.decode_packet(text, protocol)
    except DecodeError as exc:
        expected = (exc.reason, exc.offset + 1)
    try:
        got: Any = PacketAssembler(protocol).receive_message("4" + text)
    except DecodeError as exc:
        got = (exc.reason, exc.offset)
    if isinstance(expected, SocketPacket) and expected.type >= 5:
        expected = None  # a binary header: held until its attachments come
    assert got == expected


# --- fuzz: nothing escapes but DecodeError --------------------------------------------------


@given(any_text | st.binary(max_size=80) | huge_binary_payloads, st.sampled_from([3, 4]))
def test_engine_decoders_raise_only_decode_error(data: str | bytes, eio: int) -> None:
    for decode in (engineio.decode_packet, engineio.decode_payload):
        try:
            decode(data, eio)
        except DecodeError as exc:
            assert isinstance(exc.offset, int) and exc.offset >= 0
            assert exc.reason


@given(any_text)
def test_handshake_decoder_raises_only_decode_error(data: str) -> None:
    with contextlib.suppress(DecodeError):
        engineio.decode_handshake(data)


@given(any_text, st.sampled_from([4, 5]))
def test_socket_decoder_raises_only_decode_error(data: str, protocol: int) -> None:
    try:
        socketio.decode_packet(data, protocol)
    except DecodeError as exc:
        assert 0 <= exc.offset <= len(data)


@given(st.lists(any_text | st.binary(max_size=10), max_size=8))
def test_assembler_raises_only_decode_error(messages: list[str | bytes]) -> None:
    assembler = PacketAssembler(5)
    for message in messages:
        try:
            if isinstance(message, str):
                assembler.receive_text(message)
            else:
                assembler.receive_binary(message)
        except DecodeError:
            assembler.reset()


@given(any_text | st.binary(max_size=80), st.sampled_from([3, 4]), st.sampled_from(list(Transport)))
def test_annotation_never_raises_and_spans_stay_inside(
    data: str | bytes, eio: int, transport: Transport
) -> None:
    breakdown = annotate_message(data, eio, transport)
    for packet in breakdown.packets:
        for span in packet.spans:
            assert 0 <= span.start <= span.end <= len(data)
    for span in breakdown.spans:
        assert 0 <= span.start <= span.end <= len(data)


@given(
    st.lists(
        st.tuples(
            st.sampled_from(list(Direction)),
            st.sampled_from(list(Transport)),
            any_text | st.binary(max_size=12),
        ),
        max_size=12,
    ),
    st.sampled_from([3, 4]),
)
def test_dissector_never_raises(messages: list[tuple[Direction, Transport, Any]], eio: int) -> None:
    dissector = Dissector(eio)
    for direction, transport, data in messages:
        dissector.receive(direction, transport, data)
    dissector.end()
