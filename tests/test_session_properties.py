"""The sessions take anything a peer sends: property tests of ClientSession and SocketServer.

As the codecs are held to "any input decodes or raises DecodeError", the sans-I/O sessions
are held to h11's rule: any sequence of any wire messages (text and bytes, well-formed and
not, on both transports, in both revisions, in the right order or not) yields only events,
requests and the project's own errors, and never an internal failure.

The peer is arbitrary; the driver is not: it performs the requests the session asks for and
answers each once, as ``siocli.transports`` does. So the tests model a driver and let
hypothesis choose what the network says back, and when.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from siocli.protocol.engine_server import (
    EngineServer,
    HttpRequest,
    HttpResponse,
    WsAccept,
    WsClose,
    WsReject,
    WsSend,
)
from siocli.protocol.errors import LocalProtocolError
from siocli.protocol.server import (
    ClientAck,
    ClientBroke,
    ClientEvent,
    ClientJoined,
    ClientLeft,
    ClientRefused,
    Refusal,
    SocketServer,
)
from siocli.protocol.session import (
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
from siocli.protocol.states import EngineState

from .strategies import (
    CLOSE_CODES,
    as_polling_body,
    json_values,
    namespaces,
    plausible_frames,
    polling_bodies,
    text,
    wire_messages,
)

SESSION_EVENTS = (
    Opened,
    Upgraded,
    UpgradeFailed,
    NamespaceConnected,
    NamespaceRejected,
    NamespaceDisconnected,
    EventMessage,
    AckMessage,
    Closed,
)
STEPS = st.integers(1, 30)
# More for a long hunt: SIOCLI_FUZZ_EXAMPLES=20000 pytest tests/test_session_properties.py
EXAMPLES = int(os.environ.get("SIOCLI_FUZZ_EXAMPLES", "400"))
revisions = st.sampled_from([3, 4])
statuses = st.sampled_from([400, 403, 404, 500, 502])
http_bodies = st.sampled_from(['{"code":1,"message":"Session ID unknown"}', '"x"', "", "oops"])


# --- the client ---------------------------------------------------------------------------------


@dataclass
class _Driver:
    """What the requests the session made leave to answer, as the real driver holds them."""

    gets: list[HttpGet] = field(default_factory=list)
    posts: list[HttpPost] = field(default_factory=list)
    connecting: list[WebSocketConnect] = field(default_factory=list)
    websocket: bool = False  # one WebSocket open
    closing: bool = False  # the session asked to close it: only its close may come

    def take(self, session: ClientSession) -> None:
        for request in session.data_to_send():
            if isinstance(request, HttpGet):
                self.gets.append(request)
            elif isinstance(request, HttpPost):
                assert isinstance(request.body, (str, bytes))
                self.posts.append(request)
            elif isinstance(request, WebSocketConnect):
                self.connecting.append(request)
            elif isinstance(request, WebSocketSend):
                assert isinstance(request.data, (str, bytes))
            elif isinstance(request, WebSocketClose):
                self.closing = self.websocket
            else:
                raise AssertionError(f"not a request: {request!r}")


def _time_passes(data: st.DataObject, peer: ClientSession | SocketServer, now: float) -> float:
    """Time goes on, often to the peer's next deadline: the clock after it."""
    deadline = peer.next_deadline()
    if deadline is not None and data.draw(st.integers(0, 2)) == 0:
        now = max(now, deadline)  # the deadline comes
    else:
        now += data.draw(st.sampled_from([0.01, 0.1, 0.5]))
    peer.receive_timeout(now)
    return now


def _client_step(data: st.DataObject, session: ClientSession, driver: _Driver, now: float) -> float:
    """Let hypothesis pick one thing that happens, among those that can happen now."""
    # weights: what keeps a session going comes more often than what ends it
    choices = ["time", "local", "local"]
    if driver.gets:
        choices += ["get"] * 4
    if driver.posts:
        choices += ["post"] * 2
    if driver.connecting:
        choices += ["connecting"] * 2
    if driver.websocket:
        choices += ["close"] if driver.closing else ["message"] * 6 + ["close"]
    choice = data.draw(st.sampled_from(choices))
    if choice == "time":
        now = _time_passes(data, session, now)
    elif choice == "local":
        _local_action(data, session)
    elif choice == "get":
        request = driver.gets.pop(0)
        how = data.draw(st.sampled_from(["ok"] * 8 + ["status", "failure"]))
        if how == "ok":
            session.receive_poll(_server_body(data, session), now)
        elif how == "status":
            session.receive_http_error(request, data.draw(statuses), data.draw(http_bodies), now)
        else:
            session.receive_http_failure(request, "connection reset", now)
    elif choice == "post":
        request = driver.posts.pop(0)
        how = data.draw(st.sampled_from(["ok"] * 8 + ["status", "failure"]))
        if how == "ok":
            session.receive_post_done(now)
        elif how == "status":
            session.receive_http_error(request, data.draw(statuses), data.draw(http_bodies), now)
        else:
            session.receive_http_failure(request, "timed out", now)
    elif choice == "connecting":
        driver.connecting.pop(0)
        if data.draw(st.integers(0, 4)) and not driver.websocket:
            driver.websocket = True
            driver.closing = False
            session.receive_websocket_open(now)
        else:
            session.receive_websocket_closed(None, "connection refused", now)
    elif choice == "message":
        for frame in _server_frames(data, session):
            session.receive_websocket_message(frame, now)
    else:  # the WebSocket closes
        driver.websocket = driver.closing = False
        session.receive_websocket_closed(data.draw(CLOSE_CODES) or 1006, "", now)
    return now


def _peer_revision(data: st.DataObject, session: ClientSession) -> int:
    """The revision the server speaks: mostly the session's, sometimes the other one."""
    return data.draw(st.sampled_from([session.eio] * 3 + [7 - session.eio]))


def _server_frames(data: st.DataObject, session: ClientSession) -> list[str | bytes]:
    eio = _peer_revision(data, session)
    if session.state is EngineState.PROBING and data.draw(st.integers(0, 3)):
        return ["3probe"]  # the way to an upgrade, step by step
    if data.draw(st.integers(0, 5)):
        return data.draw(plausible_frames(eio, session.state is EngineState.OPENING))
    return data.draw(wire_messages(eio))


def _server_body(data: st.DataObject, session: ClientSession) -> str | bytes:
    eio = _peer_revision(data, session)
    if session.state is EngineState.PAUSING and data.draw(st.integers(0, 3)):
        return as_polling_body(["6"], eio, False)  # the server releases the poll
    if data.draw(st.integers(0, 5)):
        frames = data.draw(plausible_frames(eio, session.state is EngineState.OPENING))
        return as_polling_body(frames, eio, data.draw(st.booleans()))
    return data.draw(polling_bodies(eio))


def _local_action(data: st.DataObject, session: ClientSession) -> None:
    """What the application may ask; refusing it is the session's right (LocalProtocolError),
    anything else is a bug."""
    action = data.draw(
        st.sampled_from(["connect"] * 3 + ["emit"] * 3 + ["ack"] * 2 + ["disconnect", "close"])
    )
    namespace = data.draw(st.sampled_from(["/", "/chat"]) | namespaces)
    try:
        if action == "connect":
            auth = data.draw(st.none() | st.dictionaries(text, json_values, max_size=2))
            session.connect(namespace, auth)
        elif action == "emit":
            args = data.draw(st.lists(json_values | st.binary(max_size=4), max_size=2))
            session.emit("hello", *args, namespace=namespace, ack=data.draw(st.booleans()))
        elif action == "ack":
            owed = session.acks_owed(namespace)
            ack_id = data.draw(st.sampled_from(owed)) if owed else 0
            session.ack(ack_id, "ok", namespace=namespace)
        elif action == "disconnect":
            session.disconnect(namespace)
        else:
            session.close()
    except LocalProtocolError:
        pass


@settings(max_examples=EXAMPLES, deadline=None)
@given(
    st.data(),
    st.sampled_from([3, 4, None]),
    st.sampled_from(["polling", "websocket"]),
    st.booleans(),
    STEPS,
)
def test_client_session_takes_anything_a_server_sends(
    data: st.DataObject, eio: int | None, transport: str, upgrade: bool, steps: int
) -> None:
    session = ClientSession(eio=eio, transport=transport, upgrade=upgrade)
    driver = _Driver()
    now = 0.0
    closed = False
    for _ in range(steps):
        driver.take(session)
        now = _client_step(data, session, driver, now)
        if session.internal_error is not None:
            raise session.internal_error
        for event in session.events_received():
            assert isinstance(event, SESSION_EVENTS), event
            assert not closed, f"{event!r} after the session closed"
            closed = isinstance(event, Closed)


# --- the server ---------------------------------------------------------------------------------

APP_EVENTS = (ClientJoined, ClientEvent, ClientAck, ClientLeft, ClientRefused, ClientBroke)


def _authorize(sid: str, namespace: str, auth: Any) -> Refusal | None:
    if namespace == "/missing":
        raise KeyError(namespace)
    if namespace == "/deny":
        return Refusal("denied", {"why": "test"})
    return None


@dataclass
class _Front:
    """The front end's view: the sessions and WebSocket connections it has seen opened."""

    sids: list[str] = field(default_factory=list)
    conns: list[int] = field(default_factory=list)
    next_id: int = 0

    def take(self, server: SocketServer) -> None:
        for event in server.events_received():
            if not isinstance(event, APP_EVENTS):
                continue  # WireSeen, with wire=True
            if isinstance(event, ClientJoined) and event.sid not in self.sids:
                self.sids.append(event.sid)
        self.sids.extend(sid for sid in server.engine.sessions if sid not in self.sids)
        for output in server.data_to_send():
            assert isinstance(output, (HttpResponse, WsAccept, WsReject, WsSend, WsClose)), output
            if isinstance(output, WsAccept):
                self.conns.append(output.conn)
            if isinstance(output, WsSend):
                assert isinstance(output.data, (str, bytes))
            if isinstance(output, HttpResponse):
                assert 100 <= output.status < 600 and isinstance(output.body, bytes)


def _request(data: st.DataObject, front: _Front, server: SocketServer) -> HttpRequest:
    front.next_id += 1
    sid = data.draw(st.sampled_from(front.sids) | st.just("nope")) if front.sids else None
    query: dict[str, str] = {
        "EIO": data.draw(st.sampled_from(["3", "4", "5", "x"])),
        "transport": data.draw(st.sampled_from(["polling", "polling", "websocket", "flash"])),
    }
    if sid is not None and data.draw(st.integers(0, 3)):
        query["sid"] = sid
    if data.draw(st.integers(0, 5)) == 0:
        query["b64"] = "1"
    method = data.draw(st.sampled_from(["GET", "GET", "POST", "POST", "OPTIONS", "PUT"]))
    body = b""
    headers = {"origin": "http://example.test"}
    if method == "POST":
        session = server.engine.sessions.get(query.get("sid", ""))
        if session is not None and data.draw(st.integers(0, 3)):  # a working client's body
            frames = data.draw(plausible_frames(session.eio, False))
            raw = as_polling_body(frames, session.eio, data.draw(st.booleans()))
        else:
            raw = data.draw(polling_bodies(data.draw(revisions)))
        body = raw.encode("utf-8", "surrogatepass") if isinstance(raw, str) else raw
        binary = isinstance(raw, bytes) and data.draw(st.booleans())
        headers["content-type"] = "application/octet-stream" if binary else "text/plain"
    upgrade = query["transport"] == "websocket" and data.draw(st.integers(0, 4)) > 0
    return HttpRequest(front.next_id, method, query, headers, body, upgrade)


def _client_frames(data: st.DataObject, server: SocketServer, conn: int) -> list[str | bytes]:
    """Mostly what a working client sends next on ``conn``: the probe and the upgrade on a
    candidate, packets on a session's own WebSocket; now and then anything."""
    sid = server.engine.session_of(conn)
    session = server.engine.sessions.get(sid or "")
    if session is None or not data.draw(st.integers(0, 5)):
        return data.draw(wire_messages(data.draw(revisions)))
    if conn == session.candidate:
        return [data.draw(st.sampled_from(["2probe", "5"]))]
    return data.draw(plausible_frames(session.eio, False))


@settings(max_examples=EXAMPLES, deadline=None)
@given(st.data(), st.sampled_from([3, 4, None]), st.booleans(), STEPS)
def test_server_session_takes_anything_a_client_sends(
    data: st.DataObject, eio: int | None, wire: bool, steps: int
) -> None:
    engine = EngineServer(eio=eio, ping_interval=1000, ping_timeout=500, max_payload=200, wire=wire)
    server = SocketServer(engine, _authorize, connect_timeout=2)
    front = _Front()
    now = 0.0
    for _ in range(steps):
        choices = ["request", "request", "time", "app"]
        if front.conns:
            choices += ["message", "message", "message", "closed"]
        choice = data.draw(st.sampled_from(choices))
        if choice == "request":
            server.receive_request(_request(data, front, server), now)
        elif choice == "message":
            conn = data.draw(st.sampled_from(front.conns))
            for frame in _client_frames(data, server, conn):
                server.receive_ws_message(conn, frame, now)
        elif choice == "closed":
            conn = data.draw(st.sampled_from(front.conns))
            front.conns.remove(conn)
            server.receive_ws_closed(conn, now)
        elif choice == "time":
            now = _time_passes(data, server, now)
        elif front.sids:  # the application answers
            sid = data.draw(st.sampled_from(front.sids))
            namespace = data.draw(st.sampled_from(["/", "/chat"]))
            action = data.draw(st.sampled_from(["emit", "ack", "disconnect", "close"]))
            if action == "emit":
                server.emit(sid, namespace, "news", b"\x01", ack=data.draw(st.booleans()))
            elif action == "ack":
                server.ack(sid, namespace, data.draw(st.integers(0, 3)), "ok")
            else:
                server.disconnect(sid, namespace, close=action == "close")
        front.take(server)
