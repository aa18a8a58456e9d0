"""Which relayed Engine.IO packets a fault keeps from their peer (``--drop``,
``--stall-heartbeat``), and polling bodies rebuilt without them.

``--stall-heartbeat`` keeps the server's heartbeat from the client only: in revision 4 the
relay answers the server's pings itself (see :mod:`.relay`), so that the client, not the
server, is the one to time out, as the fault is meant to show (engine.io-protocol,
"Heartbeat": a client that gets no ping within pingInterval + pingTimeout closes with
"ping timeout"; in revision 3 it waits pingTimeout for the pong to its own ping).

A dropped binary event takes its attachments with it: in the Socket.IO protocol they
follow it as separate binary Engine.IO messages, as many as its header announces
(socket.io-protocol, "Packet encoding"), and a peer that gets them alone would misread them.
"""

from __future__ import annotations

from ..protocol import engineio, socketio
from ..protocol.errors import DecodeError
from ..protocol.types import Direction, EnginePacket, EngineType, SocketType, socket_protocol
from .options import Faults
from .view import ClientSession

__all__ = ["filter_body", "verdict"]

_EVENTS = (SocketType.EVENT, SocketType.BINARY_EVENT)


def verdict(
    faults: Faults, session: ClientSession, direction: Direction, packet: EnginePacket
) -> str | None:
    """Why ``packet`` is dropped, or ``None`` to relay it."""
    ptype = packet.type
    if faults.stall_heartbeat and ptype in (EngineType.PING, EngineType.PONG):
        # The server's half of the heartbeat is kept from the client: the ping in revision
        # 4, the pong in revision 3 (where the client pings). The probe is no heartbeat.
        heartbeat = EngineType.PING if session.eio == 4 else EngineType.PONG
        if direction is Direction.S2C and ptype is heartbeat and packet.data != "probe":
            return f"heartbeat {ptype.label} swallowed (--stall-heartbeat)"
        return None
    if not faults.drop or ptype is not EngineType.MESSAGE:
        return None
    data = packet.data
    if isinstance(data, bytes):
        left = session.skip.get(direction, 0)
        if left:
            session.skip[direction] = left - 1
            return "attachment of a dropped event (--drop)"
        return None
    try:
        sio = socketio.decode_packet(data, socket_protocol(session.eio))
    except DecodeError:
        return None
    if sio.type not in _EVENTS or not isinstance(sio.data, list) or not sio.data:
        return None
    name = sio.data[0]
    for rule in faults.drop:
        if rule.matches(direction, name):
            if sio.type is SocketType.BINARY_EVENT and sio.attachments:
                session.skip[direction] = sio.attachments
            return f"event {name!r} dropped (--drop {rule.glob})"
    return None


def filter_body(
    faults: Faults, session: ClientSession, direction: Direction, body: str | bytes
) -> tuple[str | bytes, list[str]]:
    """A polling body without the packets the faults drop, and why each went. A body that
    does not decode is relayed as it is."""
    try:
        packets = engineio.decode_payload(body, session.eio)
    except DecodeError:
        return body, []
    kept = []
    reasons = []
    for packet in packets:
        why = verdict(faults, session, direction, packet)
        if why is None:
            kept.append(packet)
        else:
            reasons.append(why)
    if not reasons:
        return body, []
    if not kept:
        return b"" if isinstance(body, bytes) else "", reasons
    return engineio.encode_payload(kept, session.eio, binary=isinstance(body, bytes)), reasons
