"""Hypothesis strategies shared by the tests that feed readers input of any shape."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import strategies as st

from siocli.protocol import engineio, socketio
from siocli.protocol.socketio import RESERVED_EVENTS
from siocli.protocol.types import EnginePacket, EngineType, SocketPacket, SocketType

any_json = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=8),
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=5), children, max_size=3)
    ),
    max_leaves=6,
)
"""Any JSON value, small."""


def or_junk(value: Any) -> st.SearchStrategy[Any]:
    """``value`` as a well-formed file has it, or any JSON value in its place."""
    return st.just(value) | any_json


# --- wire values ------------------------------------------------------------------------------

text = st.text(st.characters(exclude_categories=["Cs"]), max_size=40)
engine_types = st.sampled_from(list(EngineType))
json_scalars = st.none() | st.booleans() | st.integers(-(2**53), 2**53) | text
json_values = st.recursive(
    json_scalars,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(text, children, max_size=4),
    max_leaves=12,
)
namespaces = st.just("/") | st.builds(
    lambda s: "/" + s,
    st.text(st.characters(exclude_categories=["Cs"], exclude_characters=","), max_size=12),
)
event_names = text.filter(lambda n: n not in RESERVED_EVENTS) | st.integers(0, 1000)
ack_ids = st.none() | st.integers(0, 2**40)


@st.composite
def engine_packets(draw: Any, eio: int) -> EnginePacket:
    ptype = draw(engine_types)
    if ptype is EngineType.MESSAGE and draw(st.booleans()):
        return EnginePacket(ptype, draw(st.binary(max_size=40)))
    return EnginePacket(ptype, draw(text))


@st.composite
def socket_packets(draw: Any) -> SocketPacket:
    ptype = draw(st.sampled_from(list(SocketType)))
    namespace = draw(namespaces)
    if ptype is SocketType.CONNECT:
        data = draw(st.none() | st.dictionaries(text, json_values, max_size=4))
        return SocketPacket(ptype, namespace, data)
    if ptype is SocketType.DISCONNECT:
        return SocketPacket(ptype, namespace)
    if ptype is SocketType.CONNECT_ERROR:
        data = draw(text | st.dictionaries(text, json_values, max_size=3))
        return SocketPacket(ptype, namespace, data)
    ack_id = draw(ack_ids)
    args = draw(st.lists(json_values, max_size=4))
    if ptype in (SocketType.EVENT, SocketType.BINARY_EVENT):
        data = [draw(event_names), *args]
    else:
        data = args
        ack_id = draw(st.integers(0, 2**40))
    if ptype >= 5:
        nums = draw(st.lists(st.integers(0, 9), min_size=1, max_size=4))
        count = max(nums) + 1
        data = data + [{"_placeholder": True, "num": n} for n in nums]
        return SocketPacket(ptype, namespace, data, ack_id, count)
    return SocketPacket(ptype, namespace, data, ack_id)


# --- any input, with the shapes that reach the deep corners of the decoders ------------------

seeds = st.sampled_from(
    ["", "0", "4", "42", "451-", "5-", '2["a"', "6:4hello", "b", "bAQ", "\x1e", ":", "0:", "2:4😀"]
)
# Numbers past what Python converts (4300 digits) or past the largest double, where the
# protocol has a length, a count or an ack id: JavaScript reads them as Infinity.
huge_numbers = st.sampled_from(["1" * 4301, "9" * 5000, "0x" + "f" * 300, "0b" + "1" * 1100])
any_text = (
    st.text(max_size=80)
    | seeds.flatmap(lambda seed: st.text(max_size=20).map(lambda tail: seed + tail))
    | st.tuples(seeds, huge_numbers, st.sampled_from(["", ":4", "-", '["a"]', "-[]"])).map("".join)
)
huge_binary_payloads = st.sampled_from([b"\x00", b"\x01"]).map(
    lambda marker: marker + bytes([1]) * 4400 + b"\xff4"
)


# --- what a peer may send: well-formed and not, text and binary ------------------------------


@st.composite
def handshakes(draw: Any, eio: int) -> str:
    """An open packet, as a server sends it (or with odd but valid values)."""
    value: dict[str, Any] = {
        "sid": draw(st.sampled_from(["abc", "x" * 20]) | text.filter(bool)),
        "upgrades": draw(st.sampled_from([[], ["websocket"], ["websocket", "polling"]])),
        "pingInterval": draw(st.integers(0, 30_000)),
        "pingTimeout": draw(st.integers(0, 30_000)),
    }
    if eio == 4 and draw(st.booleans()):
        value["maxPayload"] = draw(st.integers(0, 1_000_000))
    if draw(st.integers(0, 9)) == 0:
        value = draw(or_junk(value))
    return "0" + json.dumps(value)


def engine_messages(eio: int) -> st.SearchStrategy[str | bytes]:
    """One Engine.IO packet as a WebSocket frame: text, or binary as the revision frames it."""

    def encode(packet: EnginePacket) -> str | bytes:
        if eio == 4 and isinstance(packet.data, bytes):
            packet = packet._replace(type=EngineType.MESSAGE)
        return engineio.encode_packet(packet, eio)

    return engine_packets(eio).map(encode)


def socket_messages(eio: int) -> st.SearchStrategy[list[str | bytes]]:
    """A Socket.IO packet as the WebSocket frames that carry it (binary: header, then each
    attachment), or with placeholders that point nowhere."""

    def encode(packet: SocketPacket) -> list[str | bytes]:
        try:
            return socketio.encode_message(packet, eio)
        except Exception:
            return ["4" + str(packet.type.value)]

    bytes_args = st.lists(st.binary(max_size=6), min_size=1, max_size=3)
    with_bytes = st.builds(
        lambda name, args, ack: SocketPacket(SocketType.EVENT, "/", [name, *args], ack),
        event_names,
        bytes_args,
        ack_ids,
    )
    return (socket_packets() | with_bytes).map(encode)


CLOSE_CODES = st.none() | st.sampled_from([1000, 1001, 1006, 1011, 4000])


def wire_messages(eio: int) -> st.SearchStrategy[list[str | bytes]]:
    """What a peer may send in a row, over WebSocket: each item one frame."""
    single: st.SearchStrategy[str | bytes] = (
        handshakes(eio)
        | engine_messages(eio)
        | st.sampled_from(["2probe", "3probe", "2", "3", "40", "41", "6", "5", "1", "4", "b"])
        | any_text
        | any_text.map(lambda t: "4" + t)  # a message: Socket.IO junk
        | st.binary(max_size=20)
    )
    return st.one_of(single.map(lambda m: [m]), socket_messages(eio))


def polling_bodies(eio: int) -> st.SearchStrategy[str | bytes]:
    """A polling body: packets framed as the revision frames them (text, or Engine.IO 3's
    binary framing), or anything at all."""
    frames = st.lists(
        engine_packets(eio) | handshakes(eio).map(lambda h: EnginePacket(EngineType.OPEN, h[1:])),
        min_size=1,
        max_size=4,
    )

    def encode(packets: list[EnginePacket], binary: bool) -> str | bytes:
        try:
            return engineio.encode_payload(packets, eio, binary=binary)
        except Exception:
            return ""

    return (
        st.builds(encode, frames, st.booleans())
        | any_text
        | st.binary(max_size=30)
        | huge_binary_payloads
    )


def plausible_frames(eio: int, opening: bool) -> st.SearchStrategy[list[str | bytes]]:
    """What a working peer sends next, as WebSocket frames of revision ``eio``: the handshake
    while the session opens, then namespaces, events, acks, heartbeats and the probe's
    answer. Random frames seldom get a session that far; these do."""
    if opening:
        return handshakes(eio).map(lambda h: [h])
    control = st.sampled_from(["2", "3", "6", "3probe", "2probe", "40", "40/chat,", "5", "1"])
    return control.map(lambda m: [m]) | socket_messages(eio)


def as_polling_body(frames: list[str | bytes], eio: int, binary: bool) -> str | bytes:
    """The same packets as one polling body (Engine.IO 3 binary framing with ``binary``)."""
    packets = [engineio.decode_packet(frame, eio) for frame in frames]
    return engineio.encode_payload(packets, eio, binary=binary)
