"""The one table of states (protocol/states.py), and each role held to it."""

from __future__ import annotations

import pytest

from siocli.protocol import session as session_module
from siocli.protocol.checker import Checker
from siocli.protocol.engine_server import (
    EngineServer,
    HttpRequest,
    SessionUpgraded,
    WsAccept,
    WsClose,
    WsSend,
)
from siocli.protocol.errors import LocalProtocolError
from siocli.protocol.session import ClientSession
from siocli.protocol.states import (
    TRANSITIONS,
    EngineState,
    Event,
    NamespaceState,
    allowed,
    observed,
    state_diagram,
    step,
)
from siocli.protocol.types import (
    Direction,
    EnginePacket,
    EngineType,
    Handshake,
    SocketPacket,
    SocketType,
    Transport,
)

OPEN_V4 = '0{"sid":"S","upgrades":["websocket"],"pingInterval":25000,"pingTimeout":20000}'


def test_the_upgrade_path_and_its_way_back() -> None:
    state = EngineState.OPENING
    for event in (Event.HANDSHAKE, Event.PROBE, Event.PROBE_ANSWERED, Event.UPGRADE):
        state = step(state, event)
    assert state is EngineState.UPGRADED
    for failed_in in (EngineState.PROBING, EngineState.PAUSING):
        assert step(failed_in, Event.PROBE_FAILED) is EngineState.OPEN
    assert not allowed(EngineState.UPGRADED, Event.PROBE)  # one upgrade per session
    assert all(
        step(state, Event.CLOSE) is EngineState.CLOSED
        for state in EngineState
        if state is not EngineState.CLOSED
    )


def test_a_namespace_can_be_asked_for_again_after_a_refusal_or_a_disconnect() -> None:
    state = step(NamespaceState.DISCONNECTED, Event.CONNECT)
    assert step(state, Event.REFUSED) is NamespaceState.DISCONNECTED
    state = step(step(state, Event.GRANTED), Event.EMIT)
    assert state is NamespaceState.CONNECTED
    assert step(state, Event.SERVER_DISCONNECT) is NamespaceState.DISCONNECTED
    assert step(state, Event.CLOSE) is NamespaceState.DISCONNECTED


def test_every_event_leads_one_kind_of_state_to_one_state() -> None:
    # what an observer records of a step the table refuses rests on it
    targets: dict[tuple[type, Event], set[object]] = {}
    for (state, event), target in TRANSITIONS.items():
        assert type(target) is type(state), (state, event)
        targets.setdefault((type(state), event), set()).add(target)
    assert {key: len(found) for key, found in targets.items() if len(found) > 1} == {}


def test_an_illegal_step_names_the_event_and_the_state() -> None:
    with pytest.raises(LocalProtocolError) as info:
        step(EngineState.OPEN, Event.UPGRADE)
    assert str(info.value) == "can't upgrade: session open"
    with pytest.raises(LocalProtocolError) as info:
        step(NamespaceState.CONNECTING, Event.EMIT, "emit on '/chat'")
    assert str(info.value) == "can't emit on '/chat': namespace connecting"
    with pytest.raises(LocalProtocolError, match="session closed"):
        step(EngineState.CLOSED, Event.CLOSE)


def test_an_observer_records_where_a_refused_step_leads() -> None:
    assert not allowed(NamespaceState.CONNECTED, Event.CONNECT)
    assert observed(NamespaceState.CONNECTED, Event.CONNECT) is NamespaceState.CONNECTING
    assert not allowed(EngineState.OPEN, Event.UPGRADE)
    assert observed(EngineState.OPEN, Event.UPGRADE) is EngineState.UPGRADED
    assert observed(EngineState.PROBING, Event.PROBE_ANSWERED) is EngineState.PAUSING


def test_the_diagram_has_every_step_of_the_table() -> None:
    dot = state_diagram()
    edges = [line for line in dot.splitlines() if "->" in line]
    assert len(edges) == len(TRANSITIONS)
    assert '"engine:pausing" -> "engine:upgraded" [label="upgrade"]' in dot
    assert '"namespace:connected" -> "namespace:disconnected" [label="close"]' in dot


def test_the_client_keeps_no_table_of_its_own() -> None:
    assert not [name for name in vars(session_module) if name.endswith("TRANSITIONS")]
    assert session_module.EngineState is EngineState


def test_the_client_walks_the_table_through_an_upgrade() -> None:
    session = ClientSession()
    session.data_to_send()
    session.receive_poll(OPEN_V4, 0.0)
    session.receive_websocket_open(0.1)
    assert session.state is EngineState.PROBING
    session.receive_websocket_message("3probe", 0.2)
    session.receive_poll("6", 0.3)
    assert session.state is EngineState.UPGRADED and session.transport is Transport.WEBSOCKET
    session.receive_websocket_message("40", 0.4)  # messages flow after the upgrade
    assert session.namespace_state("/") is NamespaceState.CONNECTED
    session.close()
    assert session.state is EngineState.CLOSED
    assert session.namespace_state("/") is NamespaceState.DISCONNECTED


@pytest.mark.parametrize(("first", "eio"), [("40", 3), (None, 4)])
def test_the_client_decides_the_revision_in_a_state_of_its_own(first: str | None, eio: int) -> None:
    # an engine.io 3 handshake (no maxPayload) over WebSocket, the revision left to detect
    old_handshake = '0{"sid":"S","upgrades":[],"pingInterval":25000,"pingTimeout":5000}'
    session = ClientSession(eio=None, transport="websocket")
    session.data_to_send()
    session.receive_websocket_open(0.0)
    session.receive_websocket_message(old_handshake, 0.0)
    assert session.state is EngineState.DECIDING
    session.connect("/chat")  # waits for the revision: it decides what CONNECT looks like
    assert session.data_to_send() == []
    if first is not None:  # Socket.IO 2.x speaks first
        session.receive_websocket_message(first, 0.1)
    else:  # the server said nothing: Engine.IO 4
        session.receive_timeout(1.0)
    assert session.state is EngineState.OPEN and session.eio == eio
    assert session.namespace_state("/chat") is NamespaceState.CONNECTING


def test_the_client_refuses_an_illegal_step_through_the_table() -> None:
    session = ClientSession()
    session.data_to_send()
    session.receive_poll(OPEN_V4, 0.0)
    session.connect("/chat")
    with pytest.raises(LocalProtocolError) as info:
        session.connect("/chat")
    assert str(info.value) == "can't connect to '/chat': namespace connecting"
    with pytest.raises(LocalProtocolError) as info:
        session.ack(0, namespace="/chat")
    assert str(info.value) == "can't ack on '/chat': namespace connecting"


C2S, S2C = Direction.C2S, Direction.S2C
POLLING, WEBSOCKET = Transport.POLLING, Transport.WEBSOCKET


def _codes(findings: list) -> list[str]:
    return [finding.code for finding in findings]


def test_the_checker_reports_an_upgrade_the_table_refuses_and_records_it() -> None:
    checker = Checker(4)
    handshake = Handshake("S", ("websocket",), 25000, 20000, 1000000)
    opened = checker.engine_packet(S2C, EnginePacket(EngineType.OPEN, "{}"), POLLING, 0, handshake)
    assert "eio.upgrade-without-probe" not in _codes(opened)
    upgrade = EnginePacket(EngineType.UPGRADE)
    # 5 with no probe before it: open -> upgraded is not in the table
    assert _codes(checker.engine_packet(C2S, upgrade, WEBSOCKET)) == ["eio.upgrade-without-probe"]
    # ...yet the session is upgraded, as the capture shows: polling now breaks the rules
    assert _codes(checker.message(C2S, POLLING, 10)) == ["eio.polling-after-upgrade"]


def test_the_checker_walks_the_upgrade_without_a_finding() -> None:
    checker = Checker(4)
    handshake = Handshake("S", ("websocket",), 25000, 20000, 1000000)
    checker.engine_packet(S2C, EnginePacket(EngineType.OPEN, "{}"), POLLING, 0, handshake)
    steps = [
        (C2S, EnginePacket(EngineType.PING, "probe")),
        (S2C, EnginePacket(EngineType.PONG, "probe")),
        (C2S, EnginePacket(EngineType.UPGRADE)),
    ]
    assert [_codes(checker.engine_packet(d, p, WEBSOCKET)) for d, p in steps] == [[], [], []]
    # a second 3probe: probing -> pausing is a step the table no longer allows
    late = checker.engine_packet(S2C, EnginePacket(EngineType.PONG, "probe"), WEBSOCKET)
    assert _codes(late) == ["eio.probe-unasked"]


def test_the_checker_reports_a_namespace_step_the_table_refuses_and_records_it() -> None:
    checker = Checker(4, expect_handshake=False)
    granted = SocketPacket(SocketType.CONNECT, "/admin", {"sid": "A"})
    # a CONNECT answer with no CONNECT: disconnected -> connected is not in the table
    assert _codes(checker.socket_packet(S2C, granted)) == ["sio.connect-unrequested"]
    # ...yet /admin is connected, as the capture shows: its events break no rule
    event = SocketPacket(SocketType.EVENT, "/admin", ["x"])
    assert _codes(checker.socket_packet(C2S, event)) == []
    assert _codes(checker.socket_packet(S2C, SocketPacket(SocketType.DISCONNECT, "/admin"))) == []
    # after a refusal the namespace is disconnected: an event there is reported
    checker.socket_packet(C2S, SocketPacket(SocketType.CONNECT, "/x"))
    checker.socket_packet(S2C, SocketPacket(SocketType.CONNECT_ERROR, "/x", {"message": "no"}))
    assert _codes(checker.socket_packet(C2S, SocketPacket(SocketType.EVENT, "/x", ["y"]))) == [
        "sio.not-connected"
    ]


def _polling_session(engine: EngineServer) -> str:
    engine.receive_request(HttpRequest(1, "GET", {"EIO": "4", "transport": "polling"}, {}), 0)
    engine.data_to_send()
    return next(iter(engine.sessions))


def _candidate(engine: EngineServer, sid: str, request: int) -> int:
    query = {"EIO": "4", "transport": "websocket", "sid": sid}
    engine.receive_request(HttpRequest(request, "GET", query, {}, upgrade=True), 0.1)
    (accept,) = engine.data_to_send()
    assert isinstance(accept, WsAccept)
    return accept.conn


def test_the_server_session_walks_the_table_through_an_upgrade() -> None:
    engine = EngineServer()
    sid = _polling_session(engine)
    session = engine.sessions[sid]
    assert session.state is EngineState.OPEN
    conn = _candidate(engine, sid, 2)
    engine.receive_ws_message(conn, "2probe", 0.2)
    assert session.state is EngineState.PAUSING
    engine.receive_ws_message(conn, "5", 0.3)
    assert session.state is EngineState.UPGRADED
    assert SessionUpgraded(sid) in engine.events_received()
    engine.close(sid)
    assert session.state is EngineState.CLOSED


def test_the_server_refuses_an_upgrade_the_table_does_not_allow() -> None:
    engine = EngineServer()
    sid = _polling_session(engine)
    conn = _candidate(engine, sid, 2)
    engine.receive_ws_message(conn, "5", 0.2)  # no probe: open -> upgraded is no step
    assert engine.data_to_send() == [WsClose(conn, 1000)]
    assert engine.sessions[sid].state is EngineState.OPEN


def test_a_new_candidate_starts_the_upgrade_over() -> None:
    engine = EngineServer()
    sid = _polling_session(engine)
    first = _candidate(engine, sid, 2)
    engine.receive_ws_message(first, "2probe", 0.2)
    assert engine.data_to_send() == [WsSend(first, "3probe")]
    engine.receive_ws_message(first, "4hello", 0.3)  # only 2probe and 5 go on a candidate
    assert engine.data_to_send() == [WsClose(first, 1000)]
    assert engine.sessions[sid].state is EngineState.OPEN
    second = _candidate(engine, sid, 3)
    engine.receive_ws_message(second, "5", 0.4)  # the probe was the first candidate's
    assert engine.data_to_send() == [WsClose(second, 1000)]
    assert engine.sessions[sid].transport is Transport.POLLING
