"""decode's findings on what the reference reads silently or otherwise (issue 12, part 3): each
named where it happens, on the packet's own line, with the version ranges it rests on."""

from __future__ import annotations

from siocli.protocol import engineio
from siocli.protocol.checker import Checker
from siocli.protocol.engine_server import EngineServer, HttpRequest
from siocli.protocol.types import Direction, EnginePacket, EngineType, Trace, Transport

from .test_decode_cli import assert_golden, records, run

HANDSHAKE = '0{{"sid":"s","upgrades":[],"pingInterval":25000,"pingTimeout":{timeout}{extra}}}'


def codes(record: dict) -> list[str]:
    return [f["code"] for f in record["findings"] if f["code"] != "input.guessed-revision"]


def test_a_message_with_an_empty_socketio_packet_is_flagged() -> None:
    [record] = records("4")
    assert codes(record) == ["sio.empty-packet"]
    assert "CONNECT to '/'" in record["findings"][-1]["message"]
    [record] = records("--eio", "3", "4")
    assert codes(record) == ["sio.empty-packet"]
    empty, event = records("--transport", "polling", '4\x1e42["a"]')  # in a payload too
    assert codes(empty) == ["sio.empty-packet"]
    assert codes(event) == []


def test_placeholders_that_do_not_match_the_attachments_are_named() -> None:
    more = records('452-["up",{"_placeholder":true,"num":0}]', "hex:01", "hex:02")
    assert codes(more[0]) == ["sio.attachment-without-placeholder"]
    assert "attachment 1" in more[0]["findings"][-1]["message"]
    twice = records(
        '452-["up",{"_placeholder":true,"num":0},{"_placeholder":true,"num":0}]',
        "hex:01",
        "hex:02",
    )
    assert codes(twice[0]) == ["sio.attachment-without-placeholder"]
    string = records('451-["up",{"_placeholder":"true","num":0}]', "hex:01")
    assert codes(string[0]) == ["sio.placeholder-not-true", "sio.attachment-without-placeholder"]
    fine = records(
        '452-["up",{"_placeholder":true,"num":1},{"_placeholder":true,"num":0}]',
        "hex:01",
        "hex:02",
    )
    assert codes(fine[0]) == []


def test_a_connect_payload_under_protocol_4_says_where_2x_reads_auth() -> None:
    [main, chat, query] = records(
        "--eio", "3", '40{"token":"t"}', '40/chat,{"token":"t"}', "40/chat?token=t,"
    )
    assert codes(main) == codes(chat) == ["sio.connect-payload-v4"]
    assert "namespace's query" in main["findings"][-1]["message"]
    assert codes(query) == []
    [v5] = records("--eio", "4", '40{"token":"t"}')
    assert codes(v5) == []


def test_a_packet_awaiting_attachments_at_the_end_carries_its_own_finding() -> None:
    lines = records('451-["up",{"_placeholder":true,"num":0}]')
    assert len(lines) == 1  # no last line of its own
    [header] = lines
    assert header["incomplete"] is True
    assert codes(header) == ["sio.attachments-missing"]
    assert "the capture ended" in header["findings"][-1]["message"]
    complete = records('451-["up",{"_placeholder":true,"num":0}]', "hex:01")
    assert "incomplete" not in complete[0]


def test_an_empty_engineio_3_binary_body_is_zero_packets_and_a_finding() -> None:
    trace = Trace()
    assert list(engineio.split_payload(b"", 3, trace=trace)) == []
    assert [f.code for f in trace.findings] == ["eio.empty-binary-payload"]
    assert engineio.decode_payload(b"", 3) == []
    # a server session that receives one lives on (the reference reads zero packets)
    engine = EngineServer(eio=3)
    engine.receive_request(HttpRequest(1, "GET", {"EIO": "3", "transport": "polling"}, {}), 0)
    [opened] = engine.events_received()
    engine.data_to_send()
    post = HttpRequest(
        2,
        "POST",
        {"EIO": "3", "transport": "polling", "sid": opened.sid},
        {"content-type": "application/octet-stream"},
        b"",
    )
    engine.receive_request(post, 0.1)
    assert engine.events_received() == []
    assert opened.sid in engine.sessions


def _ping_timeout_codes(eio: int, timeout: int, max_payload: bool) -> list[str]:
    checker = Checker(eio)
    extra = ',"maxPayload":1000000' if max_payload else ""
    open_packet = HANDSHAKE.format(timeout=timeout, extra=extra)
    handshake = engineio.decode_handshake(open_packet[1:])
    found = checker.engine_packet(
        Direction.S2C,
        EnginePacket(EngineType.OPEN, open_packet[1:]),
        Transport.POLLING,
        0.0,
        handshake,
    )
    return [f.code for f in found if f.code == "eio.ping-timeout-not-default"]


def test_the_ping_timeout_defaults_are_those_of_the_releases_people_run() -> None:
    finding = ["eio.ping-timeout-not-default"]
    # Engine.IO 3: engine.io 3.6 (socket.io 2.5) 20000, engine.io 3.2-3.5 5000
    assert _ping_timeout_codes(3, 20000, False) == []
    assert _ping_timeout_codes(3, 5000, False) == []
    assert _ping_timeout_codes(3, 60000, False) == finding
    # Engine.IO 4: engine.io >= 5 20000, engine.io 4.x 5000; maxPayload means >= 6.2
    assert _ping_timeout_codes(4, 20000, False) == []
    assert _ping_timeout_codes(4, 5000, False) == []
    assert _ping_timeout_codes(4, 20000, True) == []
    assert _ping_timeout_codes(4, 5000, True) == finding


def test_serve_eio_3_handshake_is_not_flagged() -> None:
    """What siocli serve --eio 3 answers is what socket.io 2.5 answers: no finding."""
    engine = EngineServer(eio=3)
    engine.receive_request(HttpRequest(1, "GET", {"EIO": "3", "transport": "polling"}, {}), 0)
    [response] = engine.data_to_send()
    [open_packet] = engineio.decode_payload(response.body.decode(), 3)
    assert isinstance(open_packet.data, str)
    handshake = engineio.decode_handshake(open_packet.data)
    assert handshake.ping_timeout == 20000
    found = Checker(3).engine_packet(Direction.S2C, open_packet, Transport.POLLING, 0.0, handshake)
    assert [f.code for f in found] == []


def test_the_findings_as_decode_prints_them() -> None:
    code, out, _ = run(
        "--eio",
        "3",
        "4",
        '40{"token":"t"}',
        '452-["up",{"_placeholder":"true","num":0}]',
        "hex:0401",
        "hex:0402",
        '451-["left",{"_placeholder":true,"num":0}]',
    )
    assert code == 0
    assert_golden("findings-section3.txt", out)
