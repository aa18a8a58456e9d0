"""Check 7, WebSocket: a direct WebSocket, and the upgrade from polling (``2probe``,
``3probe``, ``5``), as the JS client does them."""

from __future__ import annotations

import asyncio
import contextlib
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from ..protocol import engineio
from ..protocol.errors import DecodeError
from ..protocol.types import EnginePacket, EngineType, Handshake, Parser
from .answer import answers_probe, http_hint, probe_packet
from .evidence import ms, preview
from .findings import Findings
from .fixes import PROXY_WEBSOCKET_FIX, STICKY_SEE_BELOW
from .probe import Prober, close_websocket, closed_words
from .refusal import Refusal, refusal
from .results import CheckResult, Report, Status

if TYPE_CHECKING:
    from websockets.asyncio.client import ClientConnection

__all__ = ["WebSocketOutcome", "check_websocket", "open_direct"]


async def check_websocket(probe: Prober, found: Findings) -> CheckResult:
    report = Report("websocket")
    path, eio = found.endpoint()
    assert found.handshake is not None
    offered = "websocket" in found.handshake.upgrades and not found.polling_disabled
    # one after the other: behind a balancer without affinity, a direct WebSocket between
    # the upgrade's handshake and its WebSocket could make the pair land together
    direct = await open_direct(probe, path, eio)
    upgrade = await _upgrade(probe, path, eio) if offered else None
    report.data["direct"] = direct.problem is None
    if direct.problem is None:
        report.note(
            f"direct WebSocket: open packet in {ms(direct.seconds)} ({preview(direct.first, 80)})"
        )
        found.websocket_works = True
    else:
        report.note(f"direct WebSocket: {direct.problem}")
        status = Status.WARN if direct.disabled else Status.FAIL
        report.flag(status, f"WebSocket fails: {direct.problem}", direct.fix)
    if upgrade is None:
        report.note("upgrade from polling: not offered by the server (upgrades [])")
    else:
        report.data["upgrade"] = upgrade.problem is None
        for line in upgrade.lines:
            report.note(line)
        if upgrade.problem is not None:
            _judge_upgrade(report, direct, upgrade)
    report.passed(
        "WebSocket works: "
        + ("direct, and the upgrade from polling" if upgrade else "direct")
        + f" ({ms(direct.seconds)})"
    )
    return report.result()


def _judge_upgrade(report: Report, direct: WebSocketOutcome, upgrade: WebSocketOutcome) -> None:
    problem, fix = upgrade.problem or "", upgrade.fix
    if direct.problem is None and upgrade.refused in (400, 403):
        # A new WebSocket opens, the one carrying the session's sid is refused without a
        # reason (uvicorn answers 403 for python-engineio's "Invalid session").
        problem = (
            f"the WebSocket carrying the session's sid was refused (HTTP {upgrade.refused}) "
            "while a new one opens: it most likely reached a server instance that does not "
            "know the session (see Sticky sessions)"
        )
        fix = STICKY_SEE_BELOW
    if problem == direct.problem:
        report.note("upgrade from polling: fails the same way")
        return
    report.note(f"upgrade from polling: {problem}")
    report.flag(Status.FAIL, f"the upgrade from polling fails: {problem}", fix)


@dataclass(slots=True)
class WebSocketOutcome:
    """How a WebSocket probe went: the open packet, or the first problem and its fix."""

    eio: int
    seconds: float = 0.0
    first: str | bytes | None = None
    handshake: Handshake | None = None
    lines: list[str] = field(default_factory=list)
    problem: str | None = None
    fix: str | None = None
    disabled: bool = False  # the server does not take WebSocket at all (its own setting)
    refused: int | None = None  # the HTTP status of a refusal without a known reason

    def failed(self, problem: str, fix: str | None) -> None:
        if self.problem is None:
            self.problem, self.fix = problem, fix

    def refused_by(self, refusal: Refusal) -> None:
        self.failed(refusal.problem, refusal.fix)
        self.disabled, self.refused = refusal.disabled, refusal.status


async def open_direct(probe: Prober, path: str, eio: int) -> WebSocketOutcome:
    """A WebSocket-only session: the first message must be the open packet (engine.io-protocol
    spec: "Handshake")."""
    outcome = WebSocketOutcome(eio=eio)
    started = time.perf_counter()
    try:
        ws = await probe.open_websocket(path, eio)
    except Exception as exc:  # websockets' and the network's exceptions, named below
        outcome.refused_by(refusal(probe, path, exc, upgrade=False))
        return outcome
    try:
        message = await asyncio.wait_for(ws.recv(), probe.timeout)
        outcome.seconds = time.perf_counter() - started
        outcome.first = message
        probe.trace(f"< {preview(message)}")
        packet = engineio.decode_packet(message, eio)
        if packet.type is not EngineType.OPEN:
            outcome.failed(f"the first message is {packet.type.label}, not the open packet", None)
        else:
            outcome.handshake = engineio.decode_handshake(str(packet.data))
    except asyncio.TimeoutError:
        outcome.failed(
            f"the WebSocket opened but no open packet came within {probe.timeout:g} s",
            "a proxy holds WebSocket frames, or this is not an Engine.IO endpoint",
        )
    except DecodeError as exc:
        outcome.failed(f"the first message is not an open packet: {exc}", None)
    except Exception as exc:  # the connection closed under us
        outcome.failed(
            f"the WebSocket closed before the open packet ({closed_words(exc)})",
            PROXY_WEBSOCKET_FIX,
        )
    finally:
        await close_websocket(ws)
    return outcome


async def _upgrade(probe: Prober, path: str, eio: int) -> WebSocketOutcome:
    """The upgrade as the JS client does it (engine.io-protocol spec: "Upgrade"): a polling
    session, a WebSocket
    with its sid, ``2probe`` → ``3probe``, then ``5``; then one exchange over it."""
    outcome = WebSocketOutcome(eio=eio)
    session = await probe.handshake(path, eio, keep=True)
    if session.handshake is None:
        outcome.failed(f"no polling session to upgrade: {session.describe()}", http_hint(session))
        return outcome
    sid = session.handshake.sid
    cookie = "; ".join(f"{n}={v}" for n, v in session.cookies) or None
    started = time.perf_counter()
    try:
        ws = await probe.open_websocket(path, eio, sid, cookie)
    except Exception as exc:
        outcome.refused_by(refusal(probe, path, exc, upgrade=True))
        probe.release(path, session)
        return outcome
    try:
        await _probe_exchange(probe, ws, eio, outcome, started)
    finally:
        await close_websocket(ws)
    if outcome.problem is not None:
        probe.release(path, session)
    return outcome


async def _probe_exchange(
    probe: Prober, ws: ClientConnection, eio: int, outcome: WebSocketOutcome, started: float
) -> None:
    timeout = probe.timeout
    ping = engineio.encode_packet(EnginePacket(EngineType.PING, "probe"), eio)
    try:
        await ws.send(ping)
        message = await asyncio.wait_for(ws.recv(), timeout)
        answer = engineio.decode_packet(message, eio)
    except asyncio.TimeoutError:
        outcome.failed(
            f"2probe got no answer within {timeout:g} s",
            "a proxy buffers WebSocket frames, or the WebSocket reached another server "
            "instance; " + PROXY_WEBSOCKET_FIX,
        )
        return
    except DecodeError as exc:
        outcome.failed(f"the probe's answer does not decode: {exc}", None)
        return
    except Exception as exc:
        outcome.failed(
            f"the server closed the WebSocket instead of answering 2probe ({closed_words(exc)})",
            "the session was already upgraded, or the WebSocket reached an instance that "
            "does not know it; " + STICKY_SEE_BELOW,
        )
        return
    if answer != EnginePacket(EngineType.PONG, "probe"):
        outcome.failed(f"2probe was answered with {preview(message)}, not 3probe", None)
        return
    outcome.lines.append(f"upgrade: 2probe → 3probe in {ms(time.perf_counter() - started)}")
    try:
        await ws.send(engineio.encode_packet(EnginePacket(EngineType.UPGRADE), eio))
        answered = await _exchange_after_upgrade(ws, eio, timeout, probe.connect.parser)
    except asyncio.TimeoutError:
        outcome.failed(
            f"after 5 (upgrade) the session did not answer over the WebSocket within {timeout:g} s",
            "a proxy buffers WebSocket frames; " + PROXY_WEBSOCKET_FIX,
        )
        return
    except Exception as exc:
        outcome.failed(f"the WebSocket closed after the upgrade ({closed_words(exc)})", None)
        return
    outcome.lines.append(f"upgrade: 5 sent; the session answers over the WebSocket ({answered})")


async def _exchange_after_upgrade(
    ws: ClientConnection, eio: int, timeout: float, parser: Parser
) -> str:
    """Send :func:`~.answer.probe_packet` over the upgraded WebSocket; its answer, shown."""
    await ws.send(engineio.encode_packet(probe_packet(eio, parser), eio))
    deadline = time.monotonic() + timeout
    while True:
        message = await asyncio.wait_for(ws.recv(), max(deadline - time.monotonic(), 0.01))
        with contextlib.suppress(DecodeError):
            packet = engineio.decode_packet(message, eio)
            if answers_probe([packet], eio, parser):
                return preview(message, 40)
