"""The sans-I/O servers' bookkeeping that keeps ``siocli serve`` cheap with many clients
(bench/serve_load.py): only sessions with something to send are visited, and heartbeat
deadlines come from a heap. Plain data, no sockets: time is the ``now`` passed in."""

from __future__ import annotations

from siocli.protocol.engine_server import (
    EngineServer,
    HttpRequest,
    HttpResponse,
    SessionClosed,
    WsAccept,
    WsSend,
)
from siocli.protocol.server import SocketServer

ids = iter(range(1, 10_000))


def request(
    method: str = "GET", body: bytes = b"", upgrade: bool = False, **query: str
) -> HttpRequest:
    return HttpRequest(next(ids), method, query, {}, body, upgrade)


def open_ws(engine: EngineServer | SocketServer, now: float, eio: str = "4") -> int:
    engine.receive_request(request(upgrade=True, EIO=eio, transport="websocket"), now)
    accepted = [o for o in engine.data_to_send() if isinstance(o, WsAccept)]
    return accepted[-1].conn


def frames(server: EngineServer | SocketServer) -> list[tuple[int, str | bytes]]:
    return [(o.conn, o.data) for o in server.data_to_send() if isinstance(o, WsSend)]


def closed(engine: EngineServer) -> list[str]:
    return [e.reason for e in engine.events_received() if isinstance(e, SessionClosed)]


def test_each_session_is_pinged_at_its_own_time_and_times_out_alone() -> None:
    engine = EngineServer(ping_interval=100, ping_timeout=50)
    first, second = open_ws(engine, 0.0), open_ws(engine, 0.03)
    engine.events_received()
    assert engine.next_deadline() == 0.1
    engine.receive_timeout(0.1)
    assert frames(engine) == [(first, "2")]  # the second is not due yet
    engine.receive_ws_message(first, "3", 0.12)  # pong: next ping at 0.22
    engine.receive_timeout(0.13)
    assert frames(engine) == [(second, "2")]
    # the first's entry (its pong deadline, 0.15) comes up early: nothing happens
    engine.receive_timeout(0.15)
    assert frames(engine) == [] and closed(engine) == []
    engine.receive_timeout(0.18)  # the second never answered
    assert closed(engine) == ["ping timeout"] and len(engine.sessions) == 1
    engine.receive_timeout(engine.next_deadline() or 0)
    assert frames(engine) == [(first, "2")]
    assert engine.next_deadline() == 0.27


def test_revision_3_messages_push_the_ping_deadline_back() -> None:
    engine = EngineServer(eio=None, ping_interval=100, ping_timeout=50)
    conn = open_ws(engine, 0.0, eio="3")
    engine.receive_ws_message(conn, "4hello", 0.1)
    engine.receive_timeout(0.15)  # the first deadline has moved to 0.25
    assert closed(engine) == []
    engine.receive_timeout(0.25)
    assert closed(engine) == ["ping timeout"]


def test_packets_queued_while_no_poll_waits_go_out_with_the_next_poll() -> None:
    engine = EngineServer()
    engine.receive_request(request(EIO="4", transport="polling"), 0.0)
    sid = next(iter(engine.sessions))
    assert [type(o) for o in engine.data_to_send()] == [HttpResponse]  # the handshake
    engine.send(sid, "hi")
    assert engine.data_to_send() == []  # no GET pending: the packet waits
    poll = request(EIO="4", transport="polling", sid=sid)
    engine.receive_request(poll, 0.1)
    (answer,) = engine.data_to_send()
    assert isinstance(answer, HttpResponse) and answer.request == poll.id
    assert answer.body == b"4hi"


def test_packets_queued_during_the_upgrade_go_out_over_the_websocket() -> None:
    engine = EngineServer()
    engine.receive_request(request(EIO="4", transport="polling"), 0.0)
    sid = next(iter(engine.sessions))
    engine.data_to_send()
    engine.receive_request(request(upgrade=True, EIO="4", transport="websocket", sid=sid), 0.1)
    (accept,) = engine.data_to_send()
    assert isinstance(accept, WsAccept)
    engine.receive_ws_message(accept.conn, "2probe", 0.1)
    assert frames(engine) == [(accept.conn, "3probe")]
    engine.send(sid, "hi")  # no GET pending: it waits
    engine.data_to_send()
    engine.receive_ws_message(accept.conn, "5", 0.2)
    assert frames(engine) == [(accept.conn, "4hi")]


def test_a_polling_client_without_connect_is_closed_once() -> None:
    server = SocketServer(EngineServer(), lambda sid, nsp, auth: None, connect_timeout=1.0)
    server.receive_request(request(EIO="4", transport="polling"), 0.0)
    sid = next(iter(server.engine.sessions))
    server.data_to_send()
    assert server.next_deadline() == 1.0
    server.receive_timeout(1.0)  # no GET pending: the close packet waits for one
    assert server.next_deadline() == 25.0  # the connect deadline is handled: no spin
    server.receive_timeout(1.5)
    poll = request(EIO="4", transport="polling", sid=sid)
    server.receive_request(poll, 2.0)
    (answer,) = server.data_to_send()
    assert isinstance(answer, HttpResponse) and answer.body == b"1"  # one close packet
    assert sid not in server.engine.sessions


def test_nothing_is_queued_after_the_close_packet() -> None:
    """A polling session the server closed, its close packet waiting for a GET: a ping
    that comes due, a message the application sends, a packet the client POSTs are all
    dropped; the GET gets the close packet alone, and the session's end says why."""
    engine = EngineServer(ping_interval=100, ping_timeout=50)
    engine.receive_request(request(EIO="4", transport="polling"), 0.0)
    sid = next(iter(engine.sessions))
    engine.data_to_send()
    engine.close(sid, "parse error")
    assert not engine.is_open(sid)
    engine.receive_timeout(0.1)  # the ping is due
    engine.send(sid, "late")
    post = request("POST", b"4more", EIO="4", transport="polling", sid=sid)
    engine.receive_request(post, 0.11)
    engine.events_received()
    poll = request(EIO="4", transport="polling", sid=sid)
    engine.receive_request(poll, 0.12)
    answers = {o.request: o.body for o in engine.data_to_send() if isinstance(o, HttpResponse)}
    assert answers[poll.id] == b"1"
    assert closed(engine) == ["parse error"]
