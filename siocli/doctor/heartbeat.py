"""Check 10, Heartbeat: one heartbeat cycle of a session, timed against pingInterval and
pingTimeout. Engine.IO 4: the server pings, the client pongs; Engine.IO 3: the reverse
(engine.io-protocol spec: "Heartbeat")."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

from ..protocol import engineio
from ..protocol.errors import DecodeError, LocalProtocolError
from ..protocol.session import Closed, NamespaceConnected, NamespaceRejected
from ..protocol.types import Direction, EngineType, Handshake, Transport
from ..wire import WireMessage
from .evidence import milliseconds, ms, ping_settings
from .results import CheckResult, Report, Status, skipped
from .session import SessionPlan, flag_ended, next_event_before, open_session

if TYPE_CHECKING:
    from ..transports.driver import Connection

__all__ = ["check_heartbeat", "interval_late"]

HEARTBEAT_FIX = (
    "the server's event loop may be blocked (long synchronous work, CPU starvation, a paused "
    "process), or a proxy holds its messages (nginx: `proxy_buffering off` for long-polling, "
    "proxy_read_timeout above pingInterval + pingTimeout). A larger pingTimeout on the server "
    "tolerates slow networks"
)


GONE_FIX = (
    "the connection was closed or cut, not left unanswered: did the server exit, crash or "
    "restart (its logs, its process manager)? A proxy or load balancer that closes idle "
    "connections does this too (its timeouts must exceed pingInterval + pingTimeout)"
)


async def check_heartbeat(plan: SessionPlan, hs: Handshake) -> CheckResult:
    report = Report("heartbeat")
    eio, timeout = plan.revision, plan.timeout
    interval, grace = hs.ping_interval / 1000, hs.ping_timeout / 1000
    report.data.update(
        transport=plan.transport, pingInterval=hs.ping_interval, pingTimeout=hs.ping_timeout
    )
    if interval + 0.5 > timeout:
        return skipped(
            "heartbeat",
            f"pingInterval {hs.ping_interval} ms is longer than --timeout {timeout:g} s; "
            f"run with --timeout {int(interval + grace + 2)} to see one",
            report.data,
        )
    clock = _HeartbeatClock(eio, plan.tap())
    async with open_session(plan, report, clock.tap) as connection:
        if connection is None:
            return report.result()
        opened = clock.marks.get("open", time.monotonic())
        bound = opened + min(timeout, interval + grace + 1.0)
        closed = await _wait_for(connection, clock.beat, bound)
        if eio == 4 and closed is None and "ping" in clock.marks:
            closed = await _answer_after_ping(plan, connection, clock, grace)
    _judge(plan, hs, report, clock, opened, closed, connection)
    return report.result()


def interval_late(hs: Handshake) -> float:
    """Seconds after the handshake past which an Engine.IO 4 ping is late: halfway into
    pingTimeout (the client gives up at pingInterval + pingTimeout, engine.io-protocol spec:
    "Heartbeat")."""
    return (hs.ping_interval + hs.ping_timeout / 2) / 1000


async def _wait_for(connection: Connection, flag: asyncio.Event, deadline: float) -> Closed | None:
    """Wait until ``flag`` is set, the session closes, or ``deadline`` (monotonic)."""
    while not flag.is_set() and time.monotonic() < deadline:
        event = await next_event_before(connection, deadline)
        if isinstance(event, Closed):
            return event
    return None


async def _answer_after_ping(
    plan: SessionPlan, connection: Connection, clock: _HeartbeatClock, grace: float
) -> Closed | None:
    """Engine.IO 4: the server times our pong, which we cannot see arrive. A CONNECT sent
    right behind it travels the same way: its answer bounds the pong's delivery."""
    main = plan.namespace
    try:
        connection.act(connection.session.connect, main, plan.options.auth)
    except LocalProtocolError:
        return connection.session.close_reason
    deadline = time.monotonic() + max(grace, 1.0) + 0.5
    while time.monotonic() < deadline:
        event = await next_event_before(connection, deadline)
        if isinstance(event, (NamespaceConnected, NamespaceRejected)) and event.namespace == main:
            clock.marks["answer"] = time.monotonic()
            return None
        if isinstance(event, Closed):
            return event
    return None


def _judge(
    plan: SessionPlan,
    hs: Handshake,
    report: Report,
    clock: _HeartbeatClock,
    opened: float,
    closed: Closed | None,
    connection: Connection,
) -> None:
    eio = plan.revision
    marks = clock.marks
    report.note(f"session over {plan.transport}; {ping_settings(hs)}")
    ping = marks.get("ping")
    if ping is not None:
        delay = ping - opened
        report.data["interval_ms"] = milliseconds(delay)
        who = "the server's ping" if eio == 4 else "our ping (Engine.IO 3: the client pings)"
        report.note(f"{who} {ms(delay)} after the handshake")
    if closed is not None:
        detail = f"{closed.reason}" + (f": {closed.detail}" if closed.detail else "")
        report.note(f"the session ended: {detail}")
        if closed.reason == "ping timeout":
            summary = (
                f"no ping from the server within pingInterval + pingTimeout "
                f"({hs.ping_interval} + {hs.ping_timeout} ms): clients disconnect with "
                "'ping timeout'"
                if eio == 4
                else f"the server did not answer our ping within pingTimeout ({hs.ping_timeout} ms)"
            )
            report.flag(Status.FAIL, summary, HEARTBEAT_FIX)
        else:
            # The connection itself went away: the server exited, restarted, or a proxy
            # cut it; a blocked event loop ends sessions by ping timeout, not like this.
            gone = closed.reason in ("transport close", "transport error")
            flag_ended(
                report,
                connection,
                f"the session ended during the heartbeat: {detail}",
                GONE_FIX if gone else HEARTBEAT_FIX,
            )
        return
    if ping is None:
        report.flag(
            Status.WARN,
            f"no heartbeat within --timeout {plan.timeout:g} s (the server may take up to "
            f"pingInterval + pingTimeout = {hs.ping_interval + hs.ping_timeout} ms)",
            f"run with --timeout {int((hs.ping_interval + hs.ping_timeout) / 1000 + 2)}",
        )
        return
    delay = ping - opened
    beat = f"one heartbeat in {ms(delay)} (pingInterval {hs.ping_interval} ms)"
    if eio == 3:
        pong = marks.get("pong")
        answer = (pong - ping) if pong is not None else None
    else:
        done = marks.get("answer")
        answer = (done - ping) if done is not None else None
        if answer is not None:
            report.note(f"our pong, and a CONNECT sent behind it, answered within {ms(answer)}")
    if answer is None and eio == 4:
        # no answer to the CONNECT (a slow middleware?), but the server did not close the
        # session when pingTimeout passed: it got the pong
        report.note(
            "the CONNECT sent behind our pong got no answer; the session outlived "
            "pingTimeout, so the server got the pong"
        )
        report.passed(f"{beat}, and our pong accepted")
        return
    if answer is None:
        report.flag(
            Status.FAIL,
            "nothing came back after the heartbeat within pingTimeout",
            HEARTBEAT_FIX,
        )
        return
    report.data["answer_ms"] = milliseconds(answer)
    if eio == 3:
        report.note(f"the server's pong {ms(answer)} after our ping")
    if eio == 4 and delay > interval_late(hs):
        report.flag(
            Status.WARN,
            f"the ping came late: {ms(delay)} after the handshake, "
            f"pingInterval {hs.ping_interval} ms",
            HEARTBEAT_FIX,
        )
    if answer > hs.ping_timeout / 2000:
        report.flag(
            Status.WARN,
            f"the heartbeat's answer took {ms(answer)}, pingTimeout is {hs.ping_timeout} ms",
            "a slow link or a busy server: a little slower and sessions drop; "
            "a larger pingTimeout on the server gives more room",
        )
    report.passed(f"{beat}, answered in {ms(answer)} (pingTimeout {hs.ping_timeout} ms)")


class _HeartbeatClock:
    """A tap that times the heartbeat packets, read by the core as they cross the wire."""

    def __init__(self, eio: int, forward: Callable[[WireMessage], None] | None) -> None:
        self.eio = eio
        self.forward = forward
        self.marks: dict[str, float] = {}
        self.beat = asyncio.Event()  # EIO 4: the server's ping; EIO 3: the pong to ours

    def tap(self, message: WireMessage) -> None:
        now = time.monotonic()
        if self.forward is not None:
            self.forward(message)
        try:
            if message.transport is Transport.POLLING:
                packets = engineio.decode_payload(message.data, self.eio)
            else:
                packets = [engineio.decode_packet(message.data, self.eio)]
        except DecodeError:
            return
        from_server = message.direction is Direction.S2C
        for packet in packets:
            if packet.data == "probe":
                continue
            if packet.type is EngineType.OPEN and from_server:
                self.marks.setdefault("open", now)
            pinger_is_server = self.eio == 4
            if packet.type is EngineType.PING and from_server == pinger_is_server:
                self.marks.setdefault("ping", now)
                if self.eio == 4:
                    self.beat.set()
            elif packet.type is EngineType.PONG and from_server != pinger_is_server:
                self.marks.setdefault("pong", now)
                if self.eio == 3:
                    self.beat.set()
