"""The MessagePack parser: the codec, its validation against the reference
(socket.io-msgpack-parser 3.0.2, run by Node), and sessions with real MessagePack peers
(socket.io 4 with socket.io-msgpack-parser, python-socketio with serializer="msgpack")."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import itertools
import json
import os
import random
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import msgpack
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from siocli.protocol import msgpack_parser, socketio
from siocli.protocol.dissect import Dissector
from siocli.protocol.errors import DecodeError
from siocli.protocol.session import (
    AckMessage,
    EventMessage,
    NamespaceConnected,
    NamespaceRejected,
    SessionEvent,
)
from siocli.protocol.types import Parser, SocketPacket, SocketType, Trace
from siocli.transports.config import ConnectOptions
from siocli.transports.driver import Connection
from siocli.wire import WireMessage

from . import realservers
from .command import siocli
from .realservers import RunningServer, run_server
from .strategies import any_json
from .test_live import joined, until
from .test_recorded_server import (
    CLIENTS,
    by_event,
    finish,
    mock,
    node_client,
    sees_the_recorded_session,
)
from .test_serve import serving

JUDGE = Path(__file__).parent / "vectors" / "msgpack_judge.js"
UNDEFINED = msgpack.ExtType(0, b"\x00")  # notepack.io's undefined (d4 00 00)


def pack(value: Any) -> bytes:
    return msgpack.packb(value, use_bin_type=True)


def decode(value: Any) -> tuple[SocketPacket, list[str]]:
    trace = Trace()
    packet = msgpack_parser.read_packet(pack(value), trace)
    return packet, [f.code for f in trace.findings]


# --- the codec, rule by rule (each checked against the reference below) ----------------------


def test_an_event_with_binary_and_an_id() -> None:
    packet, findings = decode({"type": 2, "nsp": "/admin", "data": ["hi", b"\x01\x02"], "id": 7})
    assert packet == SocketPacket(SocketType.EVENT, "/admin", ["hi", b"\x01\x02"], 7)
    assert findings == []


def test_undefined_data_is_absent_but_nil_is_refused_as_the_reference_does() -> None:
    packet, _ = decode({"type": 0, "nsp": "/", "data": UNDEFINED})
    assert packet == SocketPacket(SocketType.CONNECT, "/", None)
    with pytest.raises(DecodeError, match="python-socketio writes nil"):
        decode({"type": 0, "nsp": "/", "data": None})
    with pytest.raises(DecodeError, match="invalid payload for DISCONNECT"):
        decode({"type": 1, "nsp": "/", "data": None})


@pytest.mark.parametrize(
    ("value", "words"),
    [
        ([2, "/", ["x"]], "not a map"),
        (None, "nil, not a map"),
        ({"type": 5, "nsp": "/", "data": ["x"]}, "binary is inline"),
        ({"type": True, "nsp": "/", "data": ["x"]}, "invalid packet type"),
        ({"type": 2, "nsp": 1, "data": ["x"]}, "invalid namespace"),
        ({"type": 2, "nsp": "/", "data": {"a": 1}}, "invalid payload for EVENT"),
        ({"type": 4, "nsp": "/", "data": ["x"]}, "invalid payload for CONNECT_ERROR"),
        ({"type": 2, "nsp": "/", "data": ["x"], "id": 1.5}, "invalid packet id"),
        ({"type": 2, "nsp": "/", "data": ["x"], "id": None}, "invalid packet id"),
        ({"type": 2, "nsp": "/", "data": ["x"], "id": "1"}, "invalid packet id"),
    ],
)
def test_what_the_reference_throws_on_is_a_decode_error(value: Any, words: str) -> None:
    with pytest.raises(DecodeError, match=words) as info:
        decode(value)
    assert info.value.layer == "socketio"


@pytest.mark.parametrize(
    ("value", "code"),
    [
        ({"type": 2, "nsp": "/", "data": ["x"], "extra": 1}, "msgpack.unknown-key"),
        ({"type": 2, "nsp": "/", "data": ["x"], "id": 2**53 + 1}, "msgpack.id-precision"),
        ({"type": 2, "nsp": "/", "data": ["x"], "id": -1}, "msgpack.negative-id"),
        ({"type": 2.0, "nsp": "/", "data": ["x"]}, "msgpack.float-type"),
        ({"type": 2, "nsp": "/", "data": ["x"], "id": 3.0}, "msgpack.float-id"),
        ({"type": 2, "nsp": "admin", "data": ["x"]}, "msgpack.namespace-form"),
        ({"type": 2, "nsp": "/", "data": []}, "msgpack.event-without-name"),
        ({"type": 2, "nsp": "/", "data": ["connect"]}, "msgpack.reserved-event"),
        ({"type": 2, "nsp": "/", "data": [{"a": 1}]}, "msgpack.event-name-type"),
        ({"type": 3, "nsp": "/", "data": []}, "sio.ack-without-id"),
        ({"type": 0, "nsp": "/", "data": {}, "id": 1}, "sio.id-on-non-event"),
    ],
)
def test_what_the_reference_accepts_but_should_not_is_a_finding(value: Any, code: str) -> None:
    _, findings = decode(value)
    assert code in findings


def test_trailing_bytes_and_garbage_are_decode_errors_with_offsets() -> None:
    data = pack({"type": 2, "nsp": "/", "data": ["x"]})
    with pytest.raises(DecodeError, match="1 trailing byte") as info:
        msgpack_parser.decode_packet(data + b"\x00")
    assert info.value.offset == len(data)
    for bad in (b"", b"\xc1", data[:-1]):
        with pytest.raises(DecodeError):
            msgpack_parser.decode_packet(bad)


def test_notepack_extensions_decode_as_the_reference_reads_them() -> None:
    date = msgpack.ExtType(0, (1_700_000_000_000).to_bytes(8, "big"))
    packet, _ = decode({"type": 2, "nsp": "/", "data": ["x", UNDEFINED, date, {1: UNDEFINED}]})
    assert packet.data == ["x", None, "2023-11-14T22:13:20.000Z", {"1": None}]


def test_encode_writes_the_map_the_reference_writes() -> None:
    packet = SocketPacket(SocketType.BINARY_EVENT, "/", ["hi", b"\x01"], 5, 1)
    assert msgpack.unpackb(msgpack_parser.encode_packet(packet)) == {
        "type": 2,
        "nsp": "/",
        "data": ["hi", b"\x01"],
        "id": 5,
    }
    assert socketio.encode_message(packet, 3, Parser.MSGPACK)[0][:1] == b"\x04"


def test_every_byte_is_explained() -> None:
    data = pack({"type": 2, "nsp": "/", "data": ["hi", b"\x01\x02\x03"], "id": 5})
    trace = Trace()
    msgpack_parser.read_packet(data, trace)
    covered = sorted((s.start, s.end) for s in trace.spans)
    assert covered[0][0] == 0 and covered[-1][1] == len(data)
    assert all(a[1] == b[0] for a, b in itertools.pairwise(covered))  # no gap, no overlap
    meanings = [s.meaning for s in trace.spans]
    assert meanings[0].startswith("map of 4 entries: ")
    assert "<binary 3 bytes: 01 02 03>" in meanings[0]
    assert 'Socket.IO "EVENT" packet type' in " ".join(meanings)


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=64))
def test_any_bytes_decode_or_raise_the_one_error(data: bytes) -> None:
    with contextlib.suppress(DecodeError):
        msgpack_parser.read_packet(data, Trace())


@settings(max_examples=200, deadline=None)
@given(
    st.dictionaries(
        st.sampled_from(["type", "nsp", "data", "id", "x"]),
        any_json | st.binary(max_size=4) | st.integers(),
        max_size=5,
    )
)
def test_any_map_decodes_or_raises_the_one_error(value: dict[str, Any]) -> None:
    try:
        data = pack(value)
    except OverflowError:  # an integer MessagePack cannot hold: no such wire message
        assume(False)
    with contextlib.suppress(DecodeError):
        msgpack_parser.read_packet(data, Trace())


def test_the_default_parser_never_imports_msgpack() -> None:
    script = (
        "import sys\n"
        "from siocli.protocol import socketio, annotate, dissect, session, server\n"
        "from siocli.protocol.types import Direction, Transport\n"
        "d = dissect.Dissector(4)\n"
        "d.receive(Direction.C2S, Transport.WEBSOCKET, "
        '\'451-["a",{"_placeholder":true,"num":0}]\')\n'
        "d.receive(Direction.C2S, Transport.WEBSOCKET, b'\\x01')\n"
        "socketio.encode(socketio.decode_packet('2[\"x\"]'))\n"
        "assert 'msgpack' not in sys.modules, 'msgpack imported'\n"
    )
    subprocess.run([sys.executable, "-c", script], check=True)


def test_a_msgpack_packet_given_to_the_default_parser_is_named() -> None:
    assembler = socketio.PacketAssembler(5)
    with pytest.raises(DecodeError, match="uses the MessagePack parser"):
        assembler.receive_binary(pack({"type": 0, "nsp": "/", "data": {"sid": "x"}}))
    with pytest.raises(DecodeError, match="no binary packet awaits"):
        assembler.receive_binary(b"\x01\x02")
    under_msgpack = socketio.PacketAssembler(5, Parser.MSGPACK)
    with pytest.raises(DecodeError, match=r"every Socket\.IO packet is a binary"):
        under_msgpack.receive_message('40{"token":1}')


# --- differential: the reference decoder and encoder, run by Node ---------------------------

SEED = 20261207
CASES = 1500


def _random_value(rng: random.Random, depth: int = 0) -> Any:
    kinds = ["nil", "bool", "int", "big", "float", "str", "bin", "undefined"]
    if depth < 2:
        kinds += ["list", "map"]
    kind = rng.choice(kinds)
    if kind == "nil":
        return None
    if kind == "bool":
        return rng.random() < 0.5
    if kind == "int":
        return rng.choice([0, 1, 5, 127, 128, 255, 65536, -1, -33, -200])
    if kind == "big":
        return rng.choice([2**32, 2**53 - 1, 2**53 + 1, 2**63, -(2**40)])
    if kind == "float":
        return rng.choice([0.5, -2.25, 3.0, 1e300])
    if kind == "str":
        return rng.choice(["", "x", "hello", "connect", "é", "/admin"])
    if kind == "bin":
        return bytes(rng.randrange(256) for _ in range(rng.randrange(4)))
    if kind == "undefined":
        return UNDEFINED
    if kind == "list":
        return [_random_value(rng, depth + 1) for _ in range(rng.randrange(4))]
    return {rng.choice(["a", "b", "sid"]): _random_value(rng, depth + 1) for _ in range(3)}


def _random_packet(rng: random.Random) -> bytes:
    value: dict[Any, Any] = {}
    if rng.random() < 0.95:
        value["type"] = rng.choice([0, 1, 2, 2, 2, 2, 3, 3, 4, 5, 2.0, -1, True, "2"])
    if rng.random() < 0.95:
        value["nsp"] = rng.choice(["/", "/", "/", "/admin", "/admin", "admin", 1, None])
    if value.get("type") == 1 and rng.random() < 0.7:
        pass  # DISCONNECT: no data
    elif rng.random() < 0.9:
        choice = rng.random()
        if choice < 0.5:
            value["data"] = [rng.choice(["ev", "connect", 1])] + [
                _random_value(rng, 1) for _ in range(rng.randrange(3))
            ]
        else:
            value["data"] = _random_value(rng)
    if rng.random() < 0.4:
        value["id"] = rng.choice([0, 1, 42, 9, 300, 2**53 + 1, -5, 1.5, 2.0, None, "1", UNDEFINED])
    if rng.random() < 0.1:
        value["extra"] = _random_value(rng)
    keys = list(value)
    rng.shuffle(keys)
    data = pack({k: value[k] for k in keys})
    mutation = rng.random()
    if mutation < 0.1:
        data = data[: rng.randrange(len(data) + 1)]
    elif mutation < 0.15:
        data += bytes([rng.randrange(256)])
    elif mutation < 0.25 and data:
        at = rng.randrange(len(data))
        data = data[:at] + bytes([rng.randrange(256)]) + data[at + 1 :]
    return data


def _judge(request: dict[str, Any], line: str = "v3") -> dict[str, Any]:
    out = subprocess.run(
        [realservers.node(), str(JUDGE), line],
        input=json.dumps(request).encode(),
        capture_output=True,
        check=True,
        timeout=60,
    )
    return json.loads(out.stdout)  # type: ignore[no-any-return]


def _for_node(packets: list[SocketPacket]) -> list[dict[str, Any]]:
    """The packet objects the judge's encoder takes, binary as ``{"$binary": hex}``."""

    def value(data: Any) -> Any:
        if isinstance(data, bytes):
            return {"$binary": data.hex()}
        if isinstance(data, list):
            return [value(v) for v in data]
        if isinstance(data, dict):
            return {k: value(v) for k, v in data.items()}
        return data

    maps = (
        {"type": int(p.type), "nsp": p.namespace, "data": value(p.data), "id": p.id}
        for p in packets
    )
    return [{k: v for k, v in m.items() if v is not None} for m in maps]


def _from_node(value: Any) -> Any:
    """The reference's decoded value, as siocli holds it."""
    if isinstance(value, list):
        return [_from_node(v) for v in value]
    if isinstance(value, dict):
        if "$binary" in value:
            return bytes.fromhex(value["$binary"])
        if "$undefined" in value:
            return None
        return {k: _from_node(v) for k, v in value.items()}
    return value


def _as_js(value: Any) -> Any:
    """siocli's decoded value as JavaScript holds it: numbers are doubles."""
    if isinstance(value, list):
        return [_as_js(v) for v in value]
    if isinstance(value, dict):
        return {k: _as_js(v) for k, v in value.items()}
    if isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    if isinstance(value, float):
        return float(value)
    return value


@pytest.mark.node
@pytest.mark.parametrize(("line", "protocol"), [("v3", 5), ("v2", 4)])
def test_decoding_agrees_with_the_reference_decoder(line: str, protocol: int) -> None:
    # v3: socket.io-msgpack-parser 3.0.2 (socket.io 3/4); v2: 2.2.1 (socket.io 2)
    rng = random.Random(SEED)
    inputs = [_random_packet(rng) for _ in range(CASES)]
    verdicts = _judge({"decode": [data.hex() for data in inputs]}, line)["decode"]
    accepted = 0
    for data, verdict in zip(inputs, verdicts, strict=True):
        try:
            packet = msgpack_parser.decode_packet(data, protocol=protocol)
        except DecodeError as exc:
            assert not verdict["ok"], f"{data.hex()}: siocli refuses ({exc}), Node accepts"
            continue
        assert verdict["ok"], f"{data.hex()}: siocli accepts, Node throws {verdict['error']}"
        accepted += 1
        node = verdict["packet"]
        assert node["type"] == packet.type and node["nsp"] == packet.namespace, data.hex()
        assert _as_js(_from_node(node.get("data"))) == _as_js(packet.data), data.hex()
        node_id = node.get("id")
        node_id = None if isinstance(node_id, dict) else node_id  # undefined
        assert node_id == (None if packet.id is None else float(packet.id)), data.hex()
    assert 150 < accepted < CASES - 150, accepted  # both verdicts are exercised


@pytest.mark.node
def test_encoding_agrees_with_the_reference_encoder() -> None:
    rng = random.Random(SEED + 1)
    packets = []
    for _ in range(300):
        ptype = rng.choice([0, 1, 2, 3, 4])
        data: Any = {
            0: {"token": "t"},
            1: None,
            2: ["ev", _random_value(rng, 1), b"\x01\x02"],
            3: [_random_value(rng, 1)],
            4: {"message": "no"},
        }[ptype]
        ack_id = rng.choice([None, 0, 7, 2**31]) if ptype in (2, 3) else None
        packets.append(SocketPacket(SocketType(ptype), rng.choice(["/", "/admin"]), data, ack_id))
    packets = [p._replace(data=_no_undefined(p.data)) for p in packets]
    answer = _judge(
        {
            "encode": _for_node(packets),
            "decode": [msgpack_parser.encode_packet(p).hex() for p in packets],
        }
    )
    for packet, theirs, verdict in zip(packets, answer["encode"], answer["decode"], strict=True):
        ours = msgpack_parser.decode_packet(bytes.fromhex(theirs))  # theirs, read here
        assert ours._replace(data=None) == packet._replace(data=None)
        assert _as_js(ours.data) == _as_js(packet.data)  # JSON carried it to Node: doubles
        assert verdict["ok"], verdict  # ours, read there
        assert _as_js(_from_node(verdict["packet"].get("data"))) == _as_js(packet.data)


def _no_undefined(value: Any) -> Any:
    """What goes to Node as JSON: no undefined, and numbers a double holds that notepack.io
    writes right (it writes an integral double beyond 2^64, like 1e300, as a wrong uint 64)."""
    if value is UNDEFINED:
        return None
    if isinstance(value, (int, float)) and not isinstance(value, bool) and abs(value) > 2**53:
        return 7
    if isinstance(value, list):
        return [_no_undefined(v) for v in value]
    if isinstance(value, dict):
        return {k: _no_undefined(v) for k, v in value.items()}
    return value


# --- sessions with real MessagePack peers ----------------------------------------------------

AUTH = {"token": "secret-token"}


@pytest.fixture(scope="module", params=["node4", "psio", "node2"])
def msgpack_server(request: pytest.FixtureRequest) -> Iterator[RunningServer]:
    with run_server(request.param, parser="msgpack") as server:
        yield server


@pytest.mark.parametrize("transport", ["polling", "websocket", "auto"])
def test_a_session_with_a_msgpack_server(msgpack_server: RunningServer, transport: str) -> None:
    server = msgpack_server

    async def scenario() -> list[SessionEvent]:
        options = ConnectOptions(url=server.url, transport=transport, parser=Parser.MSGPACK)
        connection = Connection(options)
        try:
            await connection.open()
            seen = []
            connection.act(connection.session.connect, "/", None)
            seen += await until(connection, joined("/"))
            connection.act(connection.session.emit, "binary", ack=True)
            seen += await until(connection, lambda e: isinstance(e, AckMessage))
            connection.act(connection.session.emit, "echo", b"\x09\x08", {"k": [1]})
            seen += await until(
                connection, lambda e: isinstance(e, EventMessage) and e.name == "echo"
            )
            connection.act(connection.session.connect, "/private", None)
            seen += await until(connection, joined("/private"))
            connection.act(connection.session.connect, "/admin", AUTH)
            seen += await until(connection, joined("/admin"))
            connection.act(connection.session.emit, "hello", 1, namespace="/admin", ack=True)
            seen += await until(
                connection, lambda e: isinstance(e, AckMessage) and e.namespace == "/admin"
            )
            return seen
        finally:
            await connection.close()

    seen = asyncio.run(scenario())
    acks = [e for e in seen if isinstance(e, AckMessage)]
    assert acks[0].args == [b"\x01\x02\x03", {"nested": b"\x04\x05"}]
    assert acks[1].args == ["hi", 1]
    echo = next(e for e in seen if isinstance(e, EventMessage) and e.name == "echo")
    assert echo.args in ([b"\x09\x08", {"k": [1]}], [[b"\x09\x08", {"k": [1]}]])
    rejected = next(e for e in seen if isinstance(e, NamespaceRejected))
    assert rejected.namespace == "/private"
    assert any(isinstance(e, NamespaceConnected) and e.namespace == "/admin" for e in seen)


# --- decode: MessagePack sessions recognised and explained ------------------------------------


def _captured(server: RunningServer, transport: str) -> list[WireMessage]:
    """The wire of a real session with ``server``, as siocli's tap saw it."""
    wire: list[WireMessage] = []

    async def scenario() -> None:
        options = ConnectOptions(url=server.url, transport=transport, parser=Parser.MSGPACK)
        connection = Connection(options, tap=wire.append)
        try:
            await connection.open()
            connection.act(connection.session.connect, "/admin", AUTH)
            await until(connection, joined("/admin"))
            connection.act(connection.session.emit, "binary", namespace="/admin", ack=True)
            await until(connection, lambda e: isinstance(e, AckMessage))
        finally:
            await connection.close()

    asyncio.run(scenario())
    return wire


@pytest.mark.parametrize("transport", ["polling", "websocket", "auto"])
def test_decode_detects_a_msgpack_session_and_decodes_all_of_it(
    msgpack_server: RunningServer, transport: str
) -> None:
    wire = _captured(msgpack_server, transport)
    dissector = Dissector(msgpack_server.eio, parser=None)  # detect
    reports = [dissector.receive(m.direction, m.transport, m.data, m.time) for m in wire]
    findings = [f.code for r in reports for f in r.findings]
    assert findings.count("input.detected-parser") == 1
    errors = [p.error for r in reports for p in r.packets if p.error is not None]
    assert errors == []
    packets = [p.complete for r in reports for p in r.packets if p.complete is not None]
    # socket.io 2.x types an ack holding binary BINARY_ACK, even inline
    ack = next(p for p in packets if p.type in (SocketType.ACK, SocketType.BINARY_ACK))
    assert ack.namespace == "/admin" and ack.data == [b"\x01\x02\x03", {"nested": b"\x04\x05"}]
    assert any(
        p.type is SocketType.CONNECT
        and (p.data == AUTH or p.namespace == "/admin?token=secret-token")  # 2.x: the query
        for p in packets
    )


def test_decode_of_msgpack_frames_no_longer_says_no_packet_awaits_attachments() -> None:
    # Before the parser seam, each frame was "got binary data when no binary packet awaits
    # attachments" (issue 14).
    frame = pack({"type": 2, "nsp": "/", "data": ["hi", b"\x01\x02\x03"], "id": 5})
    result = subprocess.run(
        [sys.executable, "-m", "siocli", "decode", f"hex:{frame.hex()}"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "awaits attachments" not in out
    assert "[input.detected-parser] detected the MessagePack parser" in out
    for line in (
        '84                       => map of 4 entries: {"type": 2, "nsp": "/"',
        "a4                       => fixstr, 4 bytes",
        "type                     => key 'type'",
        '02                       => positive fixint: Socket.IO "EVENT" packet type',
        "92                       => fixarray, 2 elements",
        'a2 68 69 c4 03 01 02 03  => data: ["hi", <binary 3 bytes: 01 02 03>]',
        "05                       => positive fixint: acknowledgement id 5",
        '= EVENT id=5 "hi" [<binary 3 bytes: 01 02 03>]',
    ):
        assert line in out, (line, out)


def test_decode_json_keeps_its_schema_for_msgpack() -> None:
    frame = pack({"type": 2, "nsp": "/a", "data": ["hi", b"\x01"], "id": 5})
    result = subprocess.run(
        [
            *(sys.executable, "-m", "siocli", "decode", "--json", "--parser", "msgpack"),
            *("--eio", "4", "--transport", "websocket", f"hex:{frame.hex()}"),
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    record = json.loads(result.stdout)
    assert record["raw"] == {"$binary": base64.b64encode(frame).decode()}
    assert (record["sio_type"], record["nsp"], record["id"], record["attachments"]) == (
        "EVENT",
        "/a",
        5,
        0,
    )
    assert record["data"] == ["hi", {"$binary": "AQ=="}]
    assert record["findings"] == []  # forced, not detected: nothing to say


def test_siocli_parser_env_forces_the_parser() -> None:
    frame = pack({"type": 2, "nsp": "/", "data": ["hi"]})
    result = subprocess.run(
        [sys.executable, "-m", "siocli", "decode", "--json", f"hex:{frame.hex()}"],
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "SIOCLI_PARSER": "default"},
    )
    record = json.loads(result.stdout)
    assert "uses the MessagePack parser" in record["error"]["message"]


# --- connect, emit, listen: --parser msgpack, and a mismatch named --------------------------

USES_MSGPACK = "siocli: this server looks like it uses the MessagePack parser: add --parser msgpack"


@pytest.mark.parametrize("transport", ["polling", "websocket", "auto"])
def test_emit_listen_connect_with_parser_msgpack(
    msgpack_server: RunningServer, transport: str
) -> None:
    url = msgpack_server.url
    common = ("--parser", "msgpack", "--transport", transport, "--json")
    emitted = siocli("emit", f"{url}/admin", "binary", "--ack", "--auth", json.dumps(AUTH), *common)
    assert emitted.returncode == 0, emitted.stderr
    ack = next(r for r in map(json.loads, emitted.stdout.splitlines()) if r["type"] == "ack")
    assert ack["args"] == [{"$binary": "AQID"}, {"nested": {"$binary": "BAU="}}]

    listened = siocli(
        "listen", url, "echo", "--count", "1", "--emit", 'echo hex:0908 {"k":1}', *common
    )
    assert listened.returncode == 0, listened.stderr
    echo = next(r for r in map(json.loads, listened.stdout.splitlines()) if r["type"] == "event")
    assert echo["args"] in ([{"$binary": "CQg="}, {"k": 1}], [[{"$binary": "CQg="}, {"k": 1}]])

    script = 'emit --ack hello 1\njoin /admin {"token": "secret-token"}\nuse /admin\n'
    script += "emit --ack whoami\n"
    connected = siocli("connect", url, *common, stdin=script)
    assert connected.returncode == 0, connected.stderr
    acks = [r["args"] for r in map(json.loads, connected.stdout.splitlines()) if r["type"] == "ack"]
    assert acks == [["hi", 1], [AUTH]]


@pytest.mark.parametrize("transport", ["polling", "websocket"])
def test_a_node_msgpack_server_closing_after_a_text_connect_is_named(transport: str) -> None:
    # Before: "the session ended: transport close (the server closed the session)", exit 7,
    # and nothing about the parser (issue 14).
    with run_server("node4", parser="msgpack") as server:
        result = siocli("emit", server.url, "hello", "--ack", "--transport", transport)
    assert result.returncode == 7
    assert USES_MSGPACK in result.stderr
    assert "cannot decode text" in result.stderr


def test_a_python_socketio_msgpack_server_that_never_answers_gets_the_hint() -> None:
    with run_server("psio", parser="msgpack") as server:
        result = siocli("emit", server.url, "hello", "--timeout", "2")
    assert result.returncode == 5
    assert "try --parser msgpack" in result.stderr


def test_msgpack_frames_from_a_socketio_2_server_are_named() -> None:
    # socket.io 2.x with socket.io-msgpack-parser 2.x: the main namespace's CONNECT comes as
    # JSON text, events as MessagePack. Before: an internal error (exit 70).
    with run_server("node2", parser="msgpack") as server:
        result = siocli("emit", server.url, "hello", "--timeout", "3")
    assert result.returncode == 7, result.stderr
    assert USES_MSGPACK in result.stderr


def test_parser_msgpack_against_a_default_server_is_named() -> None:
    with run_server("node4") as server:
        result = siocli("emit", server.url, "hello", "--parser", "msgpack")
    assert result.returncode == 7
    assert "uses the default parser, not MessagePack: drop --parser msgpack" in result.stderr


def test_a_msgpack_event_on_a_default_session_is_named_not_misread() -> None:
    # A binary message holding a MessagePack map, to a client of the default parser: before,
    # "got binary data when no binary packet awaits attachments".
    assembler = socketio.PacketAssembler(5)
    frame = pack({"type": 2, "nsp": "/", "data": ["tick", 1]})
    with pytest.raises(DecodeError, match="the peer uses the MessagePack parser"):
        assembler.receive_message(frame)


# --- serve, record, replay, replay --serve ----------------------------------------------------

# "wait welcome" first: the Node client waits for it before it says hello, so the recorded
# server must have it before hello too
SCRIPT = """wait welcome
emit --ack hello 1 "two" {"three": [3]}
emit --ack binary hex:0102
emit echo b64:AQID text
wait echo
emit ask 7
wait question
ack last "yes" hex:07
wait answered
join /admin {"token": "secret-token"}
emit --ack whoami
emit what-time
wait clock
leave /admin
"""


def test_record_replay_and_replay_serve_a_msgpack_session(tmp_path: Path) -> None:
    path = tmp_path / "msgpack.jsonl"
    with run_server("node4", parser="msgpack") as server:
        recorded = siocli(
            "connect", server.url, "--parser", "msgpack", "--record", str(path), "-q", stdin=SCRIPT
        )
        assert recorded.returncode == 0, recorded.stdout + recorded.stderr
        lines = [json.loads(line) for line in path.read_text().splitlines()]
        assert lines[0]["parser"] == "msgpack"
        binary = [base64.b64decode(r["b64"]) for r in lines[1:] if "b64" in r]
        texts = [r["text"] for r in lines[1:] if "text" in r]
        assert binary  # the packets, as MessagePack
        # the auth, binary in a MessagePack CONNECT, is redacted too
        assert not any(b"secret-token" in b for b in binary)
        assert not any("secret-token" in t or "c2VjcmV0LXRva2Vu" in t for t in texts)
        # decode reads the recording as MessagePack
        decoded = siocli("decode", "--json", str(path))
        assert decoded.returncode == 0, decoded.stderr
        assert "error" not in decoded.stdout
        # replay against the server: the recording says MessagePack
        replayed = siocli(
            *("replay", str(path), "--url", server.url, "--fast", "--auth", json.dumps(AUTH)),
            *("--ignore", "clock[0].time"),
        )
        assert replayed.returncode == 0, replayed.stdout + replayed.stderr
    for transport in ("polling", "websocket"):
        with mock(path, "--fast", "--strict", "--clients", "1") as (url, process):
            records = node_client(4, url, transports=[transport], parser="msgpack")
            status, out = finish(process)
        assert status == 0, out
        sees_the_recorded_session(records)


@pytest.mark.parametrize("transport", ["polling", "websocket", None])
def test_serve_parser_msgpack_with_the_node_client(transport: str | None) -> None:
    token = json.dumps(AUTH)
    with serving("--parser", "msgpack", "-n", "/admin", "--auth", token) as (url, view):
        done = subprocess.run(
            [
                realservers.node(),
                str(CLIENTS / "node_msgpack_client.js"),
                json.dumps({"url": url, "transports": transport and [transport], **AUTH}),
            ],
            capture_output=True,
            text=True,
            timeout=20,
            check=False,
        )
        event = view.wait_for(lambda r: r["type"] == "event" and r["event"] == "binary")
    records = [json.loads(line) for line in done.stdout.splitlines()]
    seen = by_event(records)
    assert done.returncode == 0, records
    assert event["args"] == [{"$binary": "AQI="}, {"n": 1}]
    # serve acks with the args, and echoes events: binary inline both ways
    assert seen["ack / binary"]["args"] == [{"$binary": "0102"}, {"n": 1}]
    assert seen["event / echo"]["args"] == ["text", {"$binary": "03"}]
    assert seen["ack /admin whoami"]["args"] == [7]
    assert seen["transport / "]["name"] == (transport or "websocket")


def test_serve_with_the_default_parser_says_the_client_speaks_msgpack() -> None:
    with serving() as (url, view):
        client = subprocess.Popen(
            [
                realservers.node(),
                str(CLIENTS / "node_recorded_client.js"),
                json.dumps({"version": 4, "url": url, "parser": "msgpack"}),
            ],
            stdout=subprocess.DEVNULL,
        )
        try:
            broke = view.wait_for(lambda r: r["type"] == "protocol_error")
        finally:
            client.kill()
            client.wait(5)
    assert "the peer uses the MessagePack parser" in broke["reason"]
    assert broke["hint"] == "the client speaks MessagePack: serve --parser msgpack"


# --- doctor: a parser check; the sticky-session verdict kept for real cross-instance loss ----


def _doctor(url: str, *args: str) -> tuple[int, dict[str, dict[str, Any]]]:
    result = siocli("doctor", url, "--json", "--timeout", "3", *args, timeout=90)
    checks = {r["check"]: r for r in map(json.loads, result.stdout.splitlines())}
    return result.returncode, checks


def test_doctor_names_the_msgpack_parser_instead_of_blaming_sticky_sessions(
    msgpack_server: RunningServer,
) -> None:
    # Before: polling and sticky sessions failed with "Session ID unknown" and the fix was to
    # configure a load balancer, for one local process (issue 14).
    status, checks = _doctor(msgpack_server.url)
    assert status == 1
    assert checks["parser"]["status"] == "fail"
    assert checks["parser"]["data"]["parser"] == "msgpack"
    assert "add --parser msgpack" in checks["parser"]["fix"]
    assert "load balancer" not in json.dumps(checks)
    # the checks after Parser speak MessagePack, as the server does: Parser is the one
    # failure, and its fix the one fix
    assert "the checks below speak the MessagePack parser" in json.dumps(checks["parser"])
    failed = [c for c, r in checks.items() if r["status"] == "fail" and c != "summary"]
    assert failed == ["parser"], checks


def test_doctor_with_the_wrong_parser_does_not_wait_for_answers_that_cannot_come() -> None:
    """A default-parser server, asked with --parser msgpack and the default --timeout (20 s):
    before, Polling, WebSocket and Namespaces each waited out the timeout for an answer to
    a MessagePack CONNECT (two minutes in all); now they speak the default parser, and
    their answers come at once (the heartbeat check is skipped: pingInterval 25 s)."""
    with run_server("psio") as server:
        result = siocli("doctor", server.url, "--json", "--parser", "msgpack", timeout=50)
    checks = {r["check"]: r for r in map(json.loads, result.stdout.splitlines())}
    assert result.returncode == 1, result.stdout
    assert checks["parser"]["status"] == "fail"
    assert "drop --parser msgpack" in checks["parser"]["fix"]
    failed = [c for c, r in checks.items() if r["status"] == "fail" and c != "summary"]
    assert failed == ["parser"], checks
    assert checks["namespaces"]["status"] == "pass", checks["namespaces"]


def test_doctor_with_parser_msgpack_passes(msgpack_server: RunningServer) -> None:
    status, checks = _doctor(msgpack_server.url, "--parser", "msgpack")
    assert status == 0, checks
    assert checks["parser"]["status"] == "pass"
    assert {c["status"] for c in checks.values() if c["check"] != "summary"} <= {"pass", "skip"}


@pytest.mark.parametrize("transport", ["polling", "websocket"])
def test_serve_parser_msgpack_with_the_python_socketio_client(transport: str) -> None:
    import socketio as psio

    async def scenario(url: str) -> tuple[Any, Any, Any]:
        client = psio.AsyncClient(serializer="msgpack", reconnection=False)
        echoed: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        client.on("echo", lambda *args: echoed.done() or echoed.set_result(list(args)))
        try:
            await client.connect(
                url, namespaces=["/", "/admin"], auth=AUTH, transports=[transport], wait_timeout=5
            )
            acked = await client.call("hello", (b"\x01\x02", {"n": 1}), timeout=5)
            whoami = await client.call("whoami", namespace="/admin", timeout=5)
            await client.emit("echo", (b"\x03", "text"))
            return acked, whoami, await asyncio.wait_for(echoed, 5)
        finally:
            await client.disconnect()

    with serving("--parser", "msgpack", "-n", "/admin", "--auth", json.dumps(AUTH)) as (url, _):
        acked, whoami, echoed = asyncio.run(scenario(url))
    assert acked == (b"\x01\x02", {"n": 1})  # serve acks with the args, binary inline
    assert whoami is None  # serve acks whoami with its args: none
    assert echoed == [b"\x03", "text"]


@pytest.mark.parametrize("parser", [Parser.MSGPACK, Parser.DEFAULT])
def test_a_msgpack_connect_is_redacted_in_recordings(parser: Parser) -> None:
    # DEFAULT: what the proxy records, not knowing the parser
    from siocli.protocol import engineio
    from siocli.protocol.types import Direction, EnginePacket, EngineType, Transport
    from siocli.recording import REDACTED, redact_message

    connect = pack({"type": 0, "nsp": "/admin", "data": {"token": "secret-token"}})
    secrets: set[str] = set()
    frame, changed = redact_message(connect, Direction.C2S, Transport.WEBSOCKET, 4, secrets, parser)
    assert changed and b"secret-token" not in frame
    assert msgpack_parser.decode_packet(frame).data == {"token": REDACTED}  # type: ignore[arg-type]
    body = engineio.encode_payload([EnginePacket(EngineType.MESSAGE, connect)], 4)
    redacted, _ = redact_message(body, Direction.C2S, Transport.POLLING, 4, set(), parser)
    packet = engineio.decode_payload(redacted, 4)[0]
    assert msgpack_parser.decode_packet(packet.data).data == {"token": REDACTED}  # type: ignore[arg-type]
    # the server echoing the token back, later, in MessagePack
    echo = pack({"type": 2, "nsp": "/admin", "data": ["echo", "secret-token"]})
    echoed, _ = redact_message(echo, Direction.S2C, Transport.WEBSOCKET, 4, secrets, parser)
    assert b"secret-token" not in echoed
    # an attachment of the default parser stays byte for byte
    attachment = b"\x01secret-token"
    kept, changed = redact_message(
        attachment, Direction.S2C, Transport.WEBSOCKET, 4, secrets, Parser.DEFAULT
    )
    assert kept == attachment and not changed


def test_the_proxy_shows_and_records_a_msgpack_session(tmp_path: Path) -> None:
    from .test_proxy import run_proxy

    with (
        run_server("node4", parser="msgpack") as server,
        run_proxy(server.url, "--json", "--record", str(tmp_path)) as proxy,
    ):
        node_client(4, proxy.url, transports=["websocket"], parser="msgpack")
        output = proxy.stop()
    messages = [json.loads(line) for line in output.splitlines()]
    messages = [m for m in messages if "type" not in m]
    assert not [m for m in messages if "error" in m]
    assert any(m.get("event") == "hello" and m["dir"] == "c2s" for m in messages)
    # the auth of the MessagePack CONNECT to /admin is not in the recording, in clear
    for recording in tmp_path.glob("*.jsonl"):
        for line in recording.read_text().splitlines()[1:]:
            record = json.loads(line)
            if "b64" in record:
                assert b"secret-token" not in base64.b64decode(record["b64"])
            assert "secret-token" not in record.get("text", "")


@pytest.mark.node
def test_the_2x_line_encodes_as_the_reference_2x_encoder() -> None:
    # socket.io-msgpack-parser 2.2.1: CONNECT, DISCONNECT and ERROR as JSON text
    packets = [
        SocketPacket(SocketType.CONNECT, "/admin?token=x"),
        SocketPacket(SocketType.DISCONNECT, "/admin"),
        SocketPacket(SocketType.CONNECT_ERROR, "/private", "not authorized"),
        SocketPacket(SocketType.EVENT, "/", ["up", b"\x01\x02", {"n": 1}], 3),
        SocketPacket(SocketType.ACK, "/admin", [b"\x07"], 3),
    ]
    ours = [msgpack_parser.encode_v4(p)[0] for p in packets]
    answer = _judge(
        {
            "encode": _for_node(packets),
            "decode": [o.hex() if isinstance(o, bytes) else {"text": o} for o in ours],
        },
        "v2",
    )
    for packet, theirs, verdict in zip(packets, answer["encode"], answer["decode"], strict=True):
        if isinstance(theirs, dict):  # JSON text, as ours
            read = msgpack_parser.decode_json(theirs["text"], 0, 4)
        else:
            read = msgpack_parser.decode_packet(bytes.fromhex(theirs), protocol=4)
        assert read == packet  # theirs, read here
        assert verdict["ok"], verdict  # ours, read there
        assert verdict["packet"]["type"] == packet.type
        assert verdict["packet"]["nsp"] == packet.namespace
        assert _from_node(verdict["packet"].get("data")) == packet.data


@pytest.mark.parametrize(
    ("bad", "says", "offset"),
    [
        (b"\xde\x19\x65\x6c\x6c", "ends inside a MessagePack map announced with 6501 entries", 5),
        (b"\x81\xa4type", "ends before its MessagePack value does", 6),
        (b"\xc1", "reserved byte 0xc1", 0),
    ],
)
def test_broken_messagepack_is_said_in_the_messages_terms(
    bad: bytes, says: str, offset: int
) -> None:
    # not the msgpack library's words (ValueError, max_map_len, Unpack failed)
    with pytest.raises(DecodeError, match=says) as info:
        msgpack_parser.decode_packet(bad)
    assert info.value.offset == offset
    assert not re.search(r"Error|max_\w+_len|Unpack failed", info.value.reason)
