"""The states of an Engine.IO session and of a Socket.IO namespace, and the one table of
their transitions, in the manner of h11's ``_state.py``.

The table is role-agnostic: the client (:mod:`.session`), the server (:mod:`.engine_server`)
and the checker's view of a capture (:mod:`.checker`) walk the same states on the same
events. The engine.io-protocol specification ("Upgrade") gives the session's path from
polling to WebSocket; the socket.io-protocol specification ("Connection to a namespace",
"Disconnection from a namespace") the namespace's.

* :func:`step` is for a peer: a step the table does not have raises
  :class:`~.errors.LocalProtocolError` naming the event and the state
  (``can't emit on '/chat': namespace disconnected``).
* :func:`allowed` and :func:`observed` are for an observer: the checker must record what a
  capture shows even when it breaks the rules, so it asks :func:`allowed`, reports a
  finding when the answer is no, and moves to where the event leads anyway.
* :func:`state_diagram` draws the table as a Graphviz graph.

A role reaches only part of the table: which, is said beside the states below.
"""

from __future__ import annotations

import enum
from typing import TypeVar, cast

from .errors import LocalProtocolError

__all__ = [
    "TRANSITIONS",
    "EngineState",
    "Event",
    "NamespaceState",
    "allowed",
    "observed",
    "state_diagram",
    "step",
]


class EngineState(enum.Enum):
    """An Engine.IO session, with its upgrade from polling to WebSocket."""

    OPENING = "opening"  # handshake asked for, open packet awaited
    # Client only: opened over WebSocket asking for "whichever revision", and waiting a moment
    # for a Socket.IO 2.x server to speak first (its engine.io 3 ignores EIO=4).
    DECIDING = "deciding"
    OPEN = "open"  # on the transport it opened with
    # The upgrade (engine.io-protocol spec: "Upgrade"). The checker and the server reach
    # these from a session opened over polling; the client when it upgrades.
    PROBING = "probing"  # a WebSocket opened beside polling, 2probe sent on it
    PAUSING = "pausing"  # 3probe answered: polling winds down (the server releases its GET)
    UPGRADED = "upgraded"  # 5 sent: the WebSocket carries the session; no second upgrade
    CLOSED = "closed"  # the checker never reaches it: a capture goes on after a close


class NamespaceState(enum.Enum):
    """One Socket.IO namespace (a socket) of a session. A namespace not yet asked for is
    :attr:`DISCONNECTED`."""

    DISCONNECTED = "disconnected"  # also after CONNECT_ERROR: it may be asked for again
    CONNECTING = "connecting"  # CONNECT sent, no answer yet
    CONNECTED = "connected"


class Event(enum.Enum):
    """What happens to a session or a namespace, whoever does it."""

    # Engine.IO
    HANDSHAKE = "handshake"  # the open packet
    HANDSHAKE_UNDECIDED = "handshake, revision unknown"  # the open packet, revision to tell
    DECIDED = "revision known"
    PROBE = "probe"  # 2probe on the new WebSocket
    PROBE_ANSWERED = "probe answered"  # 3probe
    PROBE_FAILED = "probe failed"  # the candidate WebSocket went away or answered wrong
    UPGRADE = "upgrade"  # 5 on the new WebSocket
    CLOSE = "close"  # the session ends, for whatever reason
    # Socket.IO, per namespace
    CONNECT = "connect"  # the client's CONNECT
    GRANTED = "granted"  # the server's CONNECT answer
    REFUSED = "refused"  # CONNECT_ERROR
    DISCONNECT = "disconnect"  # the client's DISCONNECT
    SERVER_DISCONNECT = "server disconnect"  # the server's DISCONNECT
    EMIT = "emit"  # an EVENT
    ACK = "ack"  # an ACK


_E = EngineState
_N = NamespaceState
State = EngineState | NamespaceState
_S = TypeVar("_S", EngineState, NamespaceState)

TRANSITIONS: dict[tuple[State, Event], State] = {
    (_E.OPENING, Event.HANDSHAKE): _E.OPEN,
    (_E.OPENING, Event.HANDSHAKE_UNDECIDED): _E.DECIDING,
    (_E.DECIDING, Event.DECIDED): _E.OPEN,
    (_E.OPEN, Event.PROBE): _E.PROBING,
    (_E.PROBING, Event.PROBE_ANSWERED): _E.PAUSING,
    (_E.PROBING, Event.PROBE_FAILED): _E.OPEN,
    (_E.PAUSING, Event.PROBE_FAILED): _E.OPEN,
    (_E.PAUSING, Event.UPGRADE): _E.UPGRADED,
    # engine.io lib/socket.ts, ``onClose``: from any state but closed
    **{(state, Event.CLOSE): _E.CLOSED for state in _E if state is not _E.CLOSED},
    (_N.DISCONNECTED, Event.CONNECT): _N.CONNECTING,
    (_N.CONNECTING, Event.GRANTED): _N.CONNECTED,
    (_N.CONNECTING, Event.REFUSED): _N.DISCONNECTED,
    (_N.CONNECTING, Event.DISCONNECT): _N.DISCONNECTED,
    (_N.CONNECTED, Event.DISCONNECT): _N.DISCONNECTED,
    (_N.CONNECTED, Event.SERVER_DISCONNECT): _N.DISCONNECTED,
    (_N.CONNECTED, Event.EMIT): _N.CONNECTED,
    (_N.CONNECTED, Event.ACK): _N.CONNECTED,
    # the session's end ends its namespaces
    (_N.CONNECTING, Event.CLOSE): _N.DISCONNECTED,
    (_N.CONNECTED, Event.CLOSE): _N.DISCONNECTED,
}
"""(state, event) -> next state, for every role."""

_LEADS_TO: dict[tuple[type[State], Event], State] = {
    (type(state), event): target for (state, event), target in TRANSITIONS.items()
}
"""Where each event leads a session or a namespace: one state whatever the state it comes
from (a test holds the table to it), which is what an observer records of a step the table
does not allow."""


def allowed(state: State, event: Event) -> bool:
    """Whether the table has a step from ``state`` on ``event``."""
    return (state, event) in TRANSITIONS


def step(state: _S, event: Event, action: str | None = None) -> _S:
    """The state after ``event``; :class:`LocalProtocolError` if the table has no such step,
    saying ``can't <action>: <session|namespace> <state>`` (``action`` defaults to the
    event's name)."""
    target = TRANSITIONS.get((state, event))
    if target is None:
        what = "session" if isinstance(state, EngineState) else "namespace"
        raise LocalProtocolError(f"can't {action or event.value}: {what} {state.value}")
    return cast("_S", target)  # the table never leads from one kind of state to the other


def observed(state: _S, event: Event) -> _S:
    """The state an observer records after ``event``: the table's step, or, for a step it
    does not allow (ask :func:`allowed` to report it), the state the event leads to."""
    target = TRANSITIONS.get((state, event))
    return cast("_S", _LEADS_TO[type(state), event] if target is None else target)


def state_diagram() -> str:
    """The table as a Graphviz ``dot`` graph."""
    lines = ["digraph siocli_states {", "  rankdir=LR;"]
    for (state, event), target in TRANSITIONS.items():
        prefix = "engine" if isinstance(state, EngineState) else "namespace"
        lines.append(
            f'  "{prefix}:{state.value}" -> "{prefix}:{target.value}" [label="{event.value}"];'
        )
    lines.append("}")
    return "\n".join(lines)
