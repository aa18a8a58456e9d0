"""Check 3, Protocol: the EIO=4 and EIO=3 handshakes tell which server this is, and which
clients it refuses."""

from __future__ import annotations

import asyncio

from ..protocol.wordings import TRANSPORT_REFUSED, UNSUPPORTED_PROTOCOL
from .answer import Answer, http_hint, revisions_from, socket_packets
from .evidence import preview
from .findings import Findings
from .probe import Prober
from .results import CheckResult, Report, Status
from .websocket import open_direct

__all__ = ["check_protocol"]

_SERVER = {3: "a Socket.IO 2.x server", 4: "a Socket.IO 3.x/4.x server"}


async def check_protocol(probe: Prober, found: Findings) -> CheckResult:
    report = Report("protocol")
    path = found.path
    assert path is not None
    wanted = [eio for eio in (4, 3) if eio not in found.answers]
    probes = await asyncio.gather(*(probe.handshake(path, eio, keep=True) for eio in wanted))
    found.answers.update(zip(wanted, probes, strict=True))
    a4, a3 = found.answers[4], found.answers[3]
    for eio, answer in ((4, a4), (3, a3)):
        report.note(f"EIO={eio} handshake: {answer.describe()}")
    spoken = _spoken(a4, a3)
    if not spoken and _polling_refused(a4) and _polling_refused(a3):
        return await _websocket_only_server(probe, found, report)
    # the session of the revision we go on with feeds the polling check; close the rest
    keep = _pick_revision(probe, spoken)
    for eio, answer in found.answers.items():
        if eio != keep:
            probe.release(path, answer)
    if not spoken:
        problem = next((a for a in (a4, a3) if a.failure or a.status != 200), a4)
        report.flag(
            Status.FAIL,
            f"the server refuses the handshake: {problem.describe()}",
            http_hint(problem)
            or (problem.problem and "this does not look like a Socket.IO server"),
        )
        return report.result()
    found.revision = keep
    return _judge(probe, report, spoken, keep, a4, a3)


def _pick_revision(probe: Prober, spoken: set[int]) -> int | None:
    if not spoken:
        return None
    if probe.connect.eio in spoken:
        return probe.connect.eio
    return 4 if 4 in spoken else 3


def _judge(
    probe: Prober, report: Report, spoken: set[int], using: int | None, a4: Answer, a3: Answer
) -> CheckResult:
    """Which server this is, and whether the client's ``--eio`` works with it; the later
    checks speak ``using``."""
    python = UNSUPPORTED_PROTOCOL[1] in (a3.error_message or "")
    if spoken == {4, 3}:
        server = f"{_SERVER[4]} with allowEIO3 (Engine.IO 4 and 3)"
        report.note("socket.io-client 3.x/4.x and 2.x clients can both connect")
    elif spoken == {4}:
        server = f"{_SERVER[4]} (Engine.IO 4 only)" + (
            ", python-socketio by its answer to EIO=3" if python else ""
        )
        report.note("socket.io-client 3.x/4.x (EIO=4): compatible")
        report.note(
            f"socket.io-client 2.x (EIO=3): refused with {a3.describe()}"
            + ("" if python else "; the server needs allowEIO3: true")
        )
    else:
        server = f"{_SERVER[3]} (Engine.IO 3; it ignores EIO=4)"
        report.note("socket.io-client 2.x (EIO=3): compatible")
        report.note(
            "socket.io-client 3.x/4.x (EIO=4): cannot connect, the answer comes in "
            "Engine.IO 3 framing (<length>:<packet>) it cannot read"
        )
        if any(p.data == "0" for p in socket_packets(a3.packets or a4.packets, 3)):
            report.note("the handshake carries CONNECT / (40): Socket.IO 2.x joins / at once")
    report.data.update(server=server, eio=sorted(spoken, reverse=True), using=using)
    wanted = probe.connect.eio
    if wanted is not None and wanted not in spoken:
        if wanted == 3:
            fix = (
                "python-socketio does not speak Engine.IO 3: use socket.io-client 3.x/4.x"
                if python
                else "set allowEIO3: true on the server (new Server(httpServer, "
                "{ allowEIO3: true })), or move the client to socket.io-client 3.x/4.x "
                "(siocli: --eio 4)"
            )
            refused = f"refused: {a3.describe()}"
        else:
            fix = (
                "upgrade the server to socket.io 4 (allowEIO3: true keeps 2.x clients "
                "during the move), or use socket.io-client 2.x (siocli: --eio 3 or auto)"
            )
            refused = "the server answers in Engine.IO 3 framing"
        report.flag(
            Status.FAIL,
            f"{server}: the client's EIO={wanted} (--eio {wanted}) does not work, {refused}",
            fix + f". The next checks use EIO={using}",
        )
        return report.result()
    report.passed(server.removeprefix("a "))
    return report.result()


async def _websocket_only_server(probe: Prober, found: Findings, report: Report) -> CheckResult:
    """Both polling handshakes say "transport unknown": a WebSocket-only server. Read
    its handshake over WebSocket instead."""
    found.polling_disabled = True
    path = found.path
    assert path is not None
    for eio in revisions_from(probe.asked):
        outcome = await open_direct(probe, path, eio)
        if outcome.handshake is not None:
            found.revision = outcome.eio
            found.handshake = outcome.handshake
            found.websocket_works = True
            report.note(f"WebSocket EIO={eio}: open packet {preview(outcome.first, 120)}")
            report.data.update(eio=[outcome.eio], using=outcome.eio, websocket_only=True)
            report.flag(
                Status.WARN,
                f"{_SERVER[outcome.eio]} that accepts WebSocket only (long-polling is off)",
                "clients need transports: ['websocket'] (siocli --transport websocket); "
                "the default client starts with long-polling and never connects",
            )
            return report.result()
        report.note(f"WebSocket EIO={eio}: {outcome.problem}")
    report.flag(
        Status.FAIL,
        "the server refuses long-polling, and the WebSocket handshake failed too",
        "see the evidence; the server's transports option decides what it accepts",
    )
    return report.result()


def _spoken(a4: Answer, a3: Answer) -> set[int]:
    """The revisions whose handshake succeeded."""
    return {a.eio for a in (a4, a3) if a.handshake is not None and a.eio is not None}


def _polling_refused(answer: Answer) -> bool:
    """The server refuses the polling transport itself (transports: ['websocket'])."""
    message = answer.error_message or ""
    return answer.error_code == 0 or message in TRANSPORT_REFUSED
