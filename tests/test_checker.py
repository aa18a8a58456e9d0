"""The checker: cross-packet rules, and the known mistakes of the docs' sample session."""

from __future__ import annotations

from siocli.protocol.checker import Checker
from siocli.protocol.dissect import Dissector
from siocli.protocol.types import (
    Direction,
    EnginePacket,
    EngineType,
    Handshake,
    Severity,
    SocketPacket,
    SocketType,
    Transport,
)

from .conftest import load_cases, unhex

C2S, S2C = Direction.C2S, Direction.S2C
WS, POLL = Transport.WEBSOCKET, Transport.POLLING


def handshake_for(eio: int, transport: Transport) -> Handshake:
    """A default handshake, as a reference server of that revision sends it."""
    upgrades = ("websocket",) if transport is POLL else ()
    if eio == 3:
        return Handshake("sid", upgrades, 25000, 5000)
    return Handshake("sid", upgrades, 25000, 20000, 1000000)


def findings_by_message(case: dict) -> list[list[tuple[str, str]]]:
    dissector = Dissector(case["eio"])
    result = []
    for direction, transport, raw in case["messages"]:
        report = dissector.receive(Direction(direction), Transport(transport), unhex(raw))
        found = [(f.severity.value, f.code) for f in report.findings]
        for packet in report.packets:
            assert packet.error is None, packet.error
            found += [
                (f.severity.value, f.code) for f in (*packet.findings, *packet.socket_findings)
            ]
        result.append(found)
    result.append([(f.severity.value, f.code) for f in dissector.end()])
    return result


def test_sample_session_mistakes_are_found_one_by_one() -> None:
    """README.md, "The docs' sample session": what the checker must say about the docs' v5 sample
    session."""
    found = findings_by_message(load_cases("sample_session_v5.json"))
    # handshake: pingTimeout 5000 is not the EIO=4 default (item 8, not an error)
    assert found[0] == [("info", "eio.ping-timeout-not-default")]
    # the namespace connection and the events are fine
    assert found[1:5] == [[], [], [], []]
    # item 1: probe arrows reversed
    assert found[5] == [("violation", "eio.probe-direction")]
    assert found[6] == [("violation", "eio.probe-direction")]
    # ...so the upgrade comes without a completed probe
    assert found[7] == [("violation", "eio.upgrade-without-probe")]
    # item 6: messages already POSTed are sent again after the upgrade
    assert found[8] == [("warning", "eio.repeated-after-upgrade")]
    assert found[9] == [("warning", "eio.repeated-after-upgrade")]
    # /admin: connect, grant, event with ack 1, BINARY_ACK 1 with its attachment
    assert found[10:15] == [[], [], [], [], []]
    # item 2: heartbeat arrows reversed for EIO=4
    assert found[15] == [("violation", "eio.heartbeat-direction")]
    assert found[16] == [("violation", "eio.heartbeat-direction")]
    # item 3: close packet over WebSocket
    assert found[17] == [("warning", "eio.close-over-websocket")]
    # nothing left hanging
    assert found[18] == []


def test_sample_session_binary_ack_is_reassembled_and_matched() -> None:
    case = load_cases("sample_session_v5.json")
    dissector = Dissector(4)
    reports = [
        dissector.receive(Direction(d), Transport(t), unhex(raw)) for d, t, raw in case["messages"]
    ]
    header, attachment = reports[13], reports[14]
    assert header.packets[0].complete is None
    assert attachment.packets[0].attachment == (13, 0)
    complete = attachment.packets[0].complete
    assert complete == SocketPacket(SocketType.BINARY_ACK, "/admin", [b""], 1, 1)


def run(checker: Checker, *steps: tuple) -> list[list[str]]:
    """Feed (direction, transport, packet, time) steps; packets are EnginePacket or SocketPacket."""
    out = []
    for direction, transport, packet, time in steps:
        if isinstance(packet, SocketPacket):
            found = checker.socket_packet(direction, packet, time)
        else:
            handshake = (
                handshake_for(checker.eio, transport) if packet.type is EngineType.OPEN else None
            )
            found = checker.engine_packet(direction, packet, transport, time, handshake)
        out.append([f.code for f in found])
    return out


def eio(ptype: EngineType, data: str = "") -> EnginePacket:
    return EnginePacket(ptype, data)


OPEN = eio(EngineType.OPEN, "{}")


def test_handshake_must_come_first() -> None:
    assert run(Checker(4), (S2C, WS, eio(EngineType.MESSAGE, "2[]"), None)) == [
        ["eio.no-handshake"]
    ]
    assert run(Checker(4, expect_handshake=False), (S2C, WS, eio(EngineType.PING), None)) == [[]]
    assert run(Checker(4), (C2S, POLL, OPEN, None)) == [["eio.open-from-client"]]


def test_v3_heartbeat_direction_is_the_other_way() -> None:
    checker = Checker(3)
    assert run(
        checker,
        (S2C, POLL, OPEN, 0.0),
        (C2S, POLL, eio(EngineType.PING), 25.0),
        (S2C, POLL, eio(EngineType.PONG), 25.1),
        (S2C, POLL, eio(EngineType.PING), 26.0),
    ) == [[], [], [], ["eio.heartbeat-direction"]]


def test_heartbeat_timing_against_the_handshake() -> None:
    checker = Checker(4)
    assert run(
        checker,
        (S2C, WS, OPEN, 0.0),
        (S2C, WS, eio(EngineType.PING), 25.0),
        (C2S, WS, eio(EngineType.PONG), 46.0),  # 21 s > pingTimeout 20 s
        (S2C, WS, eio(EngineType.PING), 95.0),  # 70 s > 25 + 20 s
        (C2S, WS, eio(EngineType.PONG), 95.1),
        (C2S, WS, eio(EngineType.PONG), 95.2),
    ) == [[], [], ["eio.pong-late"], ["eio.ping-gap"], [], ["eio.pong-without-ping"]]


def test_upgrade_done_right() -> None:
    checker = Checker(4)
    assert run(
        checker,
        (S2C, POLL, OPEN, None),
        (C2S, WS, eio(EngineType.PING, "probe"), None),
        (S2C, WS, eio(EngineType.PONG, "probe"), None),
        (S2C, POLL, eio(EngineType.NOOP), None),
        (C2S, WS, eio(EngineType.UPGRADE), None),
        (C2S, WS, eio(EngineType.MESSAGE, "2[]"), None),
    ) == [[], [], [], [], [], []]
    assert checker.transport is WS
    assert [f.code for f in checker.message(C2S, POLL, 10)] == ["eio.polling-after-upgrade"]


def test_message_on_the_candidate_transport_before_upgrade() -> None:
    checker = Checker(4)
    assert run(
        checker,
        (S2C, POLL, OPEN, None),
        (C2S, WS, eio(EngineType.PING, "probe"), None),
        (C2S, WS, eio(EngineType.MESSAGE, '2["x"]'), None),
    )[-1] == ["eio.message-before-upgrade"]


def test_packets_after_a_polling_close() -> None:
    checker = Checker(4)
    assert run(
        checker,
        (S2C, POLL, OPEN, None),
        (C2S, POLL, eio(EngineType.CLOSE), None),
        (S2C, POLL, eio(EngineType.MESSAGE, "2[]"), None),
    )[-1] == ["eio.after-close"]


def test_max_payload() -> None:
    checker = Checker(4)
    run(checker, (S2C, POLL, OPEN, None))
    assert [f.code for f in checker.message(C2S, POLL, 1_000_001)] == ["eio.max-payload"]
    assert "413" in checker.message(C2S, POLL, 1_000_001)[0].message
    assert "1009" in checker.message(C2S, WS, 2_000_000)[0].message
    assert checker.message(C2S, POLL, 1_000_000) == []


def sio(
    ptype: SocketType, nsp: str = "/", data: object = None, ack_id: int | None = None
) -> SocketPacket:
    return SocketPacket(ptype, nsp, data, ack_id)


def test_connect_answered_and_acks_paired() -> None:
    checker = Checker(4, expect_handshake=False)
    assert run(
        checker,
        (C2S, WS, sio(SocketType.CONNECT), None),
        (S2C, WS, sio(SocketType.CONNECT, data={"sid": "x"}), None),
        (C2S, WS, sio(SocketType.CONNECT, "/admin"), None),
        (S2C, WS, sio(SocketType.CONNECT, "/admin", {"sid": "y"}), None),
        (C2S, WS, sio(SocketType.EVENT, "/admin", ["q"], 1), None),
        (S2C, WS, sio(SocketType.ACK, "/", [], 1), None),  # wrong namespace
        (S2C, WS, sio(SocketType.ACK, "/admin", [], 1), None),
        (S2C, WS, sio(SocketType.ACK, "/admin", [], 1), None),  # twice
        (S2C, WS, sio(SocketType.ACK, "/admin", [], 9), None),  # never asked
        (S2C, WS, sio(SocketType.EVENT, "/admin", ["s"], 1), None),  # same id, other direction
        (C2S, WS, sio(SocketType.ACK, "/admin", [], 1), None),
    ) == [
        [],
        [],
        [],
        [],
        [],
        ["sio.ack-namespace"],
        [],
        ["sio.ack-twice"],
        ["sio.ack-unknown"],
        [],
        [],
    ]
    assert checker.end() == []


def test_v5_namespace_rules() -> None:
    checker = Checker(4, expect_handshake=False)
    assert run(
        checker,
        (C2S, WS, sio(SocketType.EVENT, "/", ["early"]), None),
        (S2C, WS, sio(SocketType.CONNECT), None),  # v2 server: unasked and without sid
        (C2S, WS, sio(SocketType.CONNECT, "/admin"), None),
        (S2C, WS, sio(SocketType.CONNECT_ERROR, "/admin", "nope"), None),
        (C2S, WS, sio(SocketType.CONNECT, "/chat"), None),
    ) == [
        ["sio.not-connected"],
        ["sio.connect-without-sid", "sio.connect-unrequested"],
        [],
        ["sio.connect-error-string"],
        [],
    ]
    [unanswered] = checker.end()
    assert unanswered.code == "sio.connect-unanswered" and "/chat" in unanswered.message


def test_v4_main_namespace_is_implicit() -> None:
    checker = Checker(3, expect_handshake=False)
    assert run(
        checker,
        (S2C, WS, sio(SocketType.CONNECT), None),
        (C2S, WS, sio(SocketType.EVENT, "/", ["x"]), None),
        (C2S, WS, sio(SocketType.CONNECT, "/admin?x=1"), None),
        (S2C, WS, sio(SocketType.CONNECT, "/admin"), None),
        (S2C, WS, sio(SocketType.CONNECT_ERROR, "/random", "Invalid namespace"), None),
    ) == [[], [], [], [], []]


def test_severities_are_as_documented() -> None:
    checker = Checker(4)
    run(checker, (S2C, WS, OPEN, None))
    [finding] = checker.engine_packet(C2S, eio(EngineType.PING), WS)
    assert finding.severity is Severity.VIOLATION
    assert "invalid heartbeat direction" in finding.message
