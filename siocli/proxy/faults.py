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

from typing import NamedTuple

from ..protocol import engineio, socketio
from ..protocol.errors import DecodeError
from ..protocol.types import (
    Direction,
    EnginePacket,
    EngineType,
    SocketType,
    heartbeat_pinger,
    socket_protocol,
)
from .options import Faults
from .view import ClientSession

__all__ = ["Kept", "filter_body", "message_verdict", "verdict"]


class Kept(NamedTuple):
    """A packet a fault kept from its peer: which fault (``drop``, ``stall-heartbeat``),
    why, as the live view says it, and whether it is the server's ping, which the relay
    then answers upstream itself (revision 4)."""

    fault: str
    reason: str
    ping: bool = False


def verdict(
    faults: Faults, session: ClientSession, direction: Direction, packet: EnginePacket
) -> Kept | None:
    """Why ``packet`` is kept from its peer, or ``None`` to relay it."""
    ptype = packet.type
    if faults.stall_heartbeat and ptype in (EngineType.PING, EngineType.PONG):
        # The server's half of the heartbeat is kept from the client: its ping where the
        # server pings (revision 4), its pong where the client does (3). The probe is no
        # heartbeat.
        server_pings = heartbeat_pinger(session.eio) is Direction.S2C
        heartbeat = EngineType.PING if server_pings else EngineType.PONG
        if direction is Direction.S2C and ptype is heartbeat and packet.data != "probe":
            why = f"heartbeat {ptype.label} swallowed (--stall-heartbeat)"
            return Kept("stall-heartbeat", why, ping=server_pings)
        return None
    if not faults.drop or ptype is not EngineType.MESSAGE:
        return None
    data = packet.data
    if isinstance(data, bytes):
        left = session.skip.get(direction, 0)
        if left:
            session.skip[direction] = left - 1
            return Kept("drop", "attachment of a dropped event (--drop)")
        return None
    try:
        sio = socketio.decode_packet(data, socket_protocol(session.eio))
    except DecodeError:
        return None
    name = sio.event
    if name is None:
        return None
    for rule in faults.drop:
        if rule.matches(direction, name):
            if sio.type is SocketType.BINARY_EVENT and sio.attachments:
                session.skip[direction] = sio.attachments
            return Kept("drop", f"event {name!r} dropped (--drop {rule.glob})")
    return None


def message_verdict(
    faults: Faults, session: ClientSession, direction: Direction, data: str | bytes
) -> Kept | None:
    """:func:`verdict` on a WebSocket message (one Engine.IO packet); one that does not
    decode is relayed."""
    try:
        packet = engineio.decode_packet(data, session.eio)
    except DecodeError:
        return None
    return verdict(faults, session, direction, packet)


def filter_body(
    faults: Faults, session: ClientSession, direction: Direction, body: str | bytes
) -> tuple[str | bytes, list[Kept]]:
    """A polling body without the packets the faults keep back, and what each was. A body
    that does not decode is relayed as it is."""
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
