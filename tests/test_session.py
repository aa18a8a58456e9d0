"""ClientSession, driven with data alone: what a client sends, and what it makes of answers."""

from __future__ import annotations

import pytest

from siocli.protocol.errors import LocalProtocolError
from siocli.protocol.session import (
    NEVER_PINGED,
    AckMessage,
    ClientSession,
    Closed,
    EventMessage,
    HttpGet,
    HttpPost,
    NamespaceConnected,
    NamespaceDisconnected,
    NamespaceRejected,
    Opened,
    Upgraded,
    UpgradeFailed,
    WebSocketClose,
    WebSocketConnect,
    WebSocketSend,
)
from siocli.protocol.states import EngineState, NamespaceState, state_diagram
from siocli.protocol.types import Transport

OPEN_V4 = (
    '0{"sid":"S","upgrades":["websocket"],"pingInterval":25000,"pingTimeout":20000,'
    '"maxPayload":1000000}'
)
OPEN_V4_WS = (
    '0{"sid":"S","upgrades":[],"pingInterval":25000,"pingTimeout":20000,"maxPayload":1000000}'
)
OPEN_V3 = '0{"sid":"S","upgrades":["websocket"],"pingInterval":25000,"pingTimeout":5000}'
POLL = {"EIO": "4", "transport": "polling", "sid": "S"}


def bodies(requests: list) -> list:
    return [r.body if isinstance(r, HttpPost) else r for r in requests]


def polling_session(upgrade: bool = False) -> ClientSession:
    session = ClientSession(eio=4, upgrade=upgrade)
    assert session.data_to_send() == [HttpGet({"EIO": "4", "transport": "polling"})]
    session.receive_poll(OPEN_V4, 0.0)
    return session


def test_polling_handshake_connect_emit_ack() -> None:
    session = polling_session()
    [opened] = session.events_received()
    assert isinstance(opened, Opened) and opened.eio == 4 and opened.handshake.sid == "S"
    assert session.data_to_send() == [HttpGet(POLL)]

    session.connect("/", {"token": "t"})
    assert session.data_to_send() == [HttpPost(POLL, '40{"token":"t"}', "text/plain;charset=UTF-8")]
    session.receive_post_done(0.1)
    session.receive_poll('40{"sid":"A"}\x1e42["hey","Jude"]\x1e4212["ask",1]', 0.2)
    assert session.events_received() == [
        NamespaceConnected("/", "A", {"sid": "A"}),
        EventMessage("/", "hey", ["Jude"]),
        EventMessage("/", "ask", [1], 12),
    ]
    assert session.namespace_state("/") is NamespaceState.CONNECTED
    assert session.data_to_send() == [HttpGet(POLL)]

    assert session.emit("q", 1, {"a": None}, ack=True) == 0
    session.ack(12, "answer")
    # one POST at a time: the ack waits for the first POST to finish
    assert bodies(session.data_to_send()) == ['420["q",1,{"a":null}]']
    session.receive_post_done(0.3)
    assert bodies(session.data_to_send()) == ['4312["answer"]']
    session.receive_post_done(0.3)
    session.receive_poll('430["r1","r2"]\x1e437[]', 0.4)
    assert session.events_received() == [
        AckMessage("/", 0, ["r1", "r2"]),
        AckMessage("/", 7, [], expected=False),
    ]


def test_v4_pong_answers_ping_and_rearms_the_timeout() -> None:
    session = polling_session()
    assert session.next_deadline() == pytest.approx(45.0)
    session.data_to_send()
    session.receive_poll("2", 25.0)
    assert bodies(session.data_to_send()) == ["3", HttpGet(POLL)]
    assert session.next_deadline() == pytest.approx(70.0)
    session.receive_timeout(70.0)
    assert session.events_received()[-1] == Closed(
        "ping timeout",
        "no ping from the server within pingInterval + pingTimeout (25000 + 20000 ms)",
    )
    assert session.state is EngineState.CLOSED


def test_upgrade_probe_pause_and_flush() -> None:
    session = polling_session(upgrade=True)
    assert session.data_to_send() == [
        WebSocketConnect({"EIO": "4", "transport": "websocket", "sid": "S"}),
        HttpGet(POLL),
    ]
    session.receive_websocket_open(0.1)
    assert session.data_to_send() == [WebSocketSend("2probe")]
    session.connect("/")  # polling works as usual until the probe is answered
    assert bodies(session.data_to_send()) == ["40"]
    session.receive_websocket_message("3probe", 0.2)
    assert session.state is EngineState.PAUSING
    session.receive_post_done(0.25)
    assert session.data_to_send() == []  # the GET is still pending
    session.receive_poll("6", 0.3)  # the server releases it with a noop
    assert session.data_to_send() == [WebSocketSend("5")]
    assert session.events_received()[-1] == Upgraded(Transport.WEBSOCKET)
    assert session.transport is Transport.WEBSOCKET
    session.receive_websocket_message('40{"sid":"A"}', 0.4)
    session.emit("x", b"\x01\x02")
    assert session.data_to_send() == [
        WebSocketSend('451-["x",{"_placeholder":true,"num":0}]'),
        WebSocketSend(b"\x01\x02"),
    ]


def test_failed_probe_keeps_polling() -> None:
    session = polling_session(upgrade=True)
    session.data_to_send()
    session.receive_websocket_open(0.1)
    session.data_to_send()
    session.receive_websocket_message("3nope", 0.2)
    assert session.data_to_send() == [WebSocketClose(1000)]
    assert isinstance(session.events_received()[-1], UpgradeFailed)
    assert session.state is EngineState.OPEN and session.transport is Transport.POLLING
    session.receive_poll("6", 0.3)
    assert session.data_to_send() == [HttpGet(POLL)]


def test_websocket_that_never_opens_is_an_upgrade_failure_not_an_error() -> None:
    session = polling_session(upgrade=True)
    session.receive_websocket_closed(None, "connection refused", 0.1)
    assert session.events_received()[-1] == UpgradeFailed("connection refused")
    assert session.state is EngineState.OPEN


def test_websocket_only_session() -> None:
    session = ClientSession(eio=4, transport="websocket")
    assert session.data_to_send() == [WebSocketConnect({"EIO": "4", "transport": "websocket"})]
    session.connect("/admin", {"k": 1})  # before the handshake: queued
    assert session.data_to_send() == []
    session.receive_websocket_message(OPEN_V4_WS, 0.0)
    assert session.data_to_send() == [WebSocketSend('40/admin,{"k":1}')]
    session.receive_websocket_message(
        '44/admin,{"message":"not authorized","data":{"code":42}}', 0.1
    )
    assert session.events_received()[-1] == NamespaceRejected(
        "/admin", "not authorized", {"code": 42}
    )
    session.receive_websocket_closed(1006, "", 0.2)
    assert session.events_received()[-1] == Closed(
        "transport close", "WebSocket closed with code 1006", 1006
    )


def test_v3_session_main_namespace_and_client_pings() -> None:
    session = ClientSession(eio=3)
    session.data_to_send()
    session.receive_poll(f"{len(OPEN_V3)}:{OPEN_V3}2:40", 0.0)
    assert session.events_received()[1] == NamespaceConnected("/", None, None)
    assert session.next_deadline() == pytest.approx(25.0)
    session.data_to_send()
    session.receive_timeout(25.0)  # the client pings in Engine.IO 3
    assert bodies(session.data_to_send()) == ["1:2"]
    assert session.next_deadline() == pytest.approx(30.0)  # pong expected within pingTimeout
    session.receive_post_done(25.1)
    session.receive_poll("1:3", 25.2)
    assert session.next_deadline() == pytest.approx(50.0)
    session.connect("/admin", {"token": "a b"})
    session.data_to_send()
    session.receive_timeout(50.0)
    session.receive_timeout(55.0)  # no pong within pingTimeout
    assert session.events_received()[-1].reason == "ping timeout"


def test_v3_binary_goes_as_an_xhr2_payload() -> None:
    session = ClientSession(eio=3)
    session.data_to_send()
    session.receive_poll(f"{len(OPEN_V3)}:{OPEN_V3}2:40", 0.0)
    session.data_to_send()
    session.emit("up", b"\x07")
    [post] = session.data_to_send()
    assert isinstance(post, HttpPost) and post.content_type == "application/octet-stream"
    assert post.body.startswith(b"\x00")
    assert post.body.endswith(b"\x01\x02\xff\x04\x07")


def test_revision_is_detected_from_a_v3_polling_answer() -> None:
    session = ClientSession(eio=None)
    assert session.data_to_send() == [HttpGet({"EIO": "4", "transport": "polling"})]
    session.receive_poll(f"{len(OPEN_V3)}:{OPEN_V3}2:40", 0.0)
    assert session.eio == 3
    assert session.events_received()[0].eio == 3


def test_local_mistakes_name_the_action_and_the_state() -> None:
    session = polling_session()
    with pytest.raises(LocalProtocolError, match="can't emit on '/chat': namespace disconnected"):
        session.emit("x", namespace="/chat")
    session.connect("/chat")
    with pytest.raises(LocalProtocolError, match="namespace connecting"):
        session.emit("x", namespace="/chat")
    with pytest.raises(LocalProtocolError, match="can't connect to '/chat': namespace connecting"):
        session.connect("/chat")
    session.receive_poll('40/chat,{"sid":"C"}', 0.1)
    with pytest.raises(LocalProtocolError, match="no event from the server awaits"):
        session.ack(3, namespace="/chat")
    with pytest.raises(LocalProtocolError, match="starts with '/'"):
        session.connect("chat")
    session.close()
    with pytest.raises(LocalProtocolError, match="the session is closed"):
        session.connect("/other")


def test_server_disconnect_and_close_packet() -> None:
    session = polling_session()
    session.data_to_send()
    session.connect("/")
    session.receive_post_done(0.1)
    session.receive_poll('40{"sid":"A"}\x1e41', 0.2)
    assert session.events_received()[-1] == NamespaceDisconnected("/", "io server disconnect")
    assert bodies(session.data_to_send()) == ["40", HttpGet(POLL)]
    session.receive_poll("1", 0.3)
    assert session.events_received()[-1] == Closed(
        "transport close", "the server closed the session"
    )
    assert session.data_to_send() == []  # no more polling


def test_http_error_is_described() -> None:
    session = polling_session()
    [get] = session.data_to_send()
    session.receive_http_error(get, 400, '{"code":1,"message":"Session ID unknown"}', 1.0)
    assert session.events_received()[-1] == Closed(
        "transport error", "HTTP 400: Session ID unknown (code 1)"
    )


def test_client_close_leaves_namespaces_then_sends_close() -> None:
    session = polling_session()
    session.data_to_send()
    session.connect("/")
    session.receive_post_done(0.1)
    session.receive_poll('40{"sid":"A"}', 0.2)
    session.data_to_send()
    session.close()
    # as the JS client: DISCONNECT goes at once, the close packet once that POST is done
    assert bodies(session.data_to_send()) == ["41"]
    session.receive_post_done(0.3)
    assert bodies(session.data_to_send()) == ["1"]
    assert session.events_received()[-2:] == [
        NamespaceDisconnected("/", "io client disconnect"),
        Closed("io client disconnect"),
    ]


def test_batches_respect_max_payload() -> None:
    session = ClientSession(eio=4)
    session.data_to_send()
    session.receive_poll(OPEN_V4.replace("1000000", "40"), 0.0)
    session.connect("/")
    session.receive_post_done(0.0)
    session.receive_poll('40{"sid":"A"}', 0.0)
    session.data_to_send()
    session.receive_post_done(0.0)
    # one POST in flight, three queued
    session.emit("a" * 10)
    session.emit("b" * 10)
    session.emit("c" * 10)
    session.emit("d" * 10)
    assert bodies(session.data_to_send()) == ['42["aaaaaaaaaa"]']
    session.receive_post_done(0.1)
    assert bodies(session.data_to_send()) == ['42["bbbbbbbbbb"]\x1e42["cccccccccc"]']
    session.receive_post_done(0.2)
    assert bodies(session.data_to_send()) == ['42["dddddddddd"]']


def test_state_diagram_is_drawn_from_the_tables() -> None:
    dot = state_diagram()
    assert '"engine:probing" -> "engine:pausing" [label="probe answered"]' in dot
    assert '"namespace:connecting" -> "namespace:connected" [label="granted"]' in dot


def test_v3_auth_values_go_in_the_query_as_javascript_writes_them() -> None:
    session = ClientSession(eio=3)
    session.data_to_send()
    session.receive_poll(f"{len(OPEN_V3)}:{OPEN_V3}2:40", 0.0)
    session.connect("/admin", {"token": "a b", "n": {"a": 1}, "on": True, "none": None})
    sent = "".join(str(body) for body in bodies(session.data_to_send()))
    # Python's str() would have sent n={'a': 1} and on=True
    assert "40/admin?token=a+b&n=%7B%22a%22%3A1%7D&on=true&none=null" in sent, sent


def test_a_ping_timeout_without_one_ping_says_so() -> None:
    session = ClientSession(eio=4, transport=Transport.WEBSOCKET)
    session.data_to_send()
    session.receive_websocket_message(OPEN_V4_WS, 0.0)
    session.receive_timeout(45.0)
    closed = session.events_received()[-1]
    assert closed.reason == "ping timeout" and NEVER_PINGED in closed.detail
    pinged = ClientSession(eio=4, transport=Transport.WEBSOCKET)
    pinged.data_to_send()
    pinged.receive_websocket_message(OPEN_V4_WS, 0.0)
    pinged.receive_websocket_message("2", 20.0)
    pinged.receive_timeout(65.0)
    closed = pinged.events_received()[-1]
    assert closed.reason == "ping timeout" and NEVER_PINGED not in closed.detail


def test_what_the_server_owes_is_said_in_words() -> None:
    session = polling_session()
    session.connect("/")
    session.connect("/admin")
    assert session.awaited() == ["join /", "join /admin"]
    session.receive_poll('40{"sid":"a"}', 0.1)
    first = session.emit("x", namespace="/", ack=True)
    second = session.emit("y", namespace="/", ack=True)
    assert session.awaited() == [f"ack {first} on /", f"ack {second} on /", "join /admin"]
    assert session.awaiting() == 3
    # a namespace the server disconnects owes nothing more: socket.io sends nothing more on
    # that socket (socket.io-client drops its ack callbacks); one we leave owes nothing
    session.receive_poll('40/admin,{"sid":"b"}', 0.2)
    session.emit("z", namespace="/admin", ack=True)
    session.receive_poll("41", 0.3)
    assert session.awaited() == ["ack 0 on /admin"]
    session.disconnect("/admin")
    assert session.awaited() == []


def test_a_connect_while_the_revision_is_undecided_is_refused_as_it_would_be_after() -> None:
    """Over WebSocket with eio=None the CONNECTs wait until the revision is known; a second
    CONNECT to the same namespace, or a bad one, is refused at once rather than raising
    later, inside receive_timeout (found by tests/test_session_properties.py)."""
    session = ClientSession(eio=None, transport="websocket")
    session.connect("/")
    session.receive_websocket_open(0.0)
    session.receive_websocket_message(OPEN_V3.replace('["websocket"]', "[]"), 0.0)
    with pytest.raises(LocalProtocolError, match="can't connect to '/': namespace connecting"):
        session.connect("/")
    session.connect("/chat")
    with pytest.raises(LocalProtocolError, match="can't connect to '/chat': namespace connecting"):
        session.connect("/chat")
    with pytest.raises(LocalProtocolError, match="starts with '/'"):
        session.connect("chat")
    session.receive_timeout(1.0)  # the server said nothing: Engine.IO 4
    assert session.internal_error is None
    assert session.state is EngineState.OPEN
    assert session.namespace_state("/chat") is NamespaceState.CONNECTING


def test_a_handshake_answer_without_a_packet_is_a_parse_error_not_a_bug() -> None:
    # Engine.IO 3: an empty binary payload holds zero packets
    session = ClientSession(eio=3)
    session.data_to_send()
    session.receive_poll(b"", 0.0)
    assert session.internal_error is None
    assert session.events_received() == [
        Closed("parse error", "expected the open packet first, got no packet")
    ]
