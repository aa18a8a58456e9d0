"""``-v``: every wire message, dissected and rendered as ``decode`` shows it, on stderr.

:func:`make_tap` is one connection's view (the live client, the doctor's sessions);
:class:`WireView` is a server's (``serve``, ``replay --serve``): one tap per client session.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import IO, TYPE_CHECKING, Any

from ..wire import WireMessage

if TYPE_CHECKING:
    from ..protocol.engine_server import WireSeen

__all__ = ["WireView", "make_tap"]


def make_tap(
    verbose: bool, out: IO[str], started: float | None = None, *, no_color: bool = False
) -> Callable[[WireMessage], None] | None:
    """``-v``: every wire message, dissected and rendered as ``decode`` shows it; times
    count from ``started`` (epoch seconds: the command's start, the clock of its event
    lines), else from the first message."""
    if not verbose:
        return None
    from ..protocol.dissect import Dissector
    from ..protocol.recovery import Recovery
    from .console import make_console
    from .human import HumanRenderer

    renderer = HumanRenderer(make_console(out, no_color=no_color), interactive=True)
    state: dict[str, Any] = {"dissector": None, "eio": None, "sid": None, "count": 0}
    state["start"] = started
    recovery = Recovery()  # a reconnection is a new session of the same client

    def tap(message: WireMessage) -> None:
        # A new Engine.IO session (a reconnection) starts with a message tapped before its
        # sid is known (the open packet), or at least with another sid.
        sid = message.session
        new_sid = state["sid"] is not None and sid != state["sid"]
        if state["dissector"] is None or state["eio"] != message.eio or new_sid:
            # the parser is detected: a view of MessagePack frames says what they are
            state["dissector"] = Dissector(message.eio or 4, recovery=recovery, parser=None)
            state["eio"] = message.eio
            state["sid"] = None
        if sid is not None:
            state["sid"] = sid
        if state["start"] is None:
            state["start"] = message.time
        time = message.time - state["start"] if message.time is not None else None
        report = state["dissector"].receive(
            message.direction, message.transport, message.data, time, state["count"]
        )
        state["count"] += 1
        renderer.write_message(report)

    return tap


class WireView:
    """``-v``: every wire message, per session, dissected and shown as decode shows it."""

    def __init__(self, err: IO[str], *, no_color: bool = False) -> None:
        self.err = err
        self.no_color = no_color
        self.taps: dict[str, Any] = {}
        self.last: str | None = None  # the session of the last message shown

    def seen(self, event: WireSeen, eio: int) -> None:
        tap = self.taps.get(event.sid)
        if tap is None:
            tap = self.taps[event.sid] = make_tap(True, self.err, no_color=self.no_color)
        assert tap is not None
        if event.sid != self.last:  # sessions interleave: say whose messages follow
            self.last = event.sid
            self.err.write(f"── client {event.sid}\n")
        tap(WireMessage(event.data, event.direction, event.transport, time.time(), eio, event.sid))

    def note(self, text: str) -> None:
        """A line that is no client's message (a CORS preflight, say): the next message
        says again whose it is."""
        self.last = None
        self.err.write(text + "\n")
        self.err.flush()

    def forget(self, sid: str) -> None:
        self.taps.pop(sid, None)
