"""Check 6, Polling: a POST and a GET on a session, with their latency; and that round trip
itself, which the sticky-session check repeats."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from ..protocol import engineio
from ..protocol.errors import DecodeError
from ..protocol.types import EngineType
from .answer import Answer, answers_probe, http_hint, probe_packet
from .evidence import milliseconds, ms, preview
from .findings import Findings
from .fixes import PARSER_SEE_ABOVE, unknown_session
from .probe import Prober
from .results import CheckResult, Report, Status, skipped

if TYPE_CHECKING:
    import httpx

__all__ = ["RoundTrip", "check_polling", "round_trip"]


async def check_polling(probe: Prober, found: Findings) -> CheckResult:
    report = Report("polling")
    path, eio = found.endpoint()
    if found.polling_disabled:
        return skipped("polling", "the server has long-polling off")
    session = found.answers.get(eio)
    if session is None or session.handshake is None:
        session = await probe.handshake(path, eio, keep=True)
        if session.handshake is None:
            report.flag(Status.FAIL, f"no session: {session.describe()}", http_hint(session))
            return report.result()
    assert session.handshake is not None
    report.note(f"handshake GET → {session.describe()} in {ms(session.seconds)}")
    trip = await round_trip(probe, path, eio, session.handshake.sid)
    for line in trip.lines:
        report.note(line)
    if trip.problem is not None:
        report.flag(Status.FAIL, trip.problem, trip.fix)
        return report.result()
    found.polling_works = True
    post, get = trip.post_seconds, trip.get_seconds
    report.data.update(
        handshake_ms=milliseconds(session.seconds),
        post_ms=milliseconds(post),
        get_ms=milliseconds(get),
    )
    slowest = max(session.seconds, post, get)
    if slowest > 1.0:
        report.flag(
            Status.WARN,
            f"long-polling works but is slow ({ms(slowest)} per request)",
            "a slow network or server; a proxy that buffers answers adds delay too "
            "(nginx: proxy_buffering off)",
        )
    report.passed(f"a POST and a GET on the session work ({ms(post)} and {ms(get)})")
    return report.result()


@dataclass(slots=True)
class RoundTrip:
    """The requests of a :func:`round_trip`, their evidence lines, and what went wrong."""

    lines: list[str] = field(default_factory=list)
    requests: list[Answer] = field(default_factory=list)
    post_seconds: float = 0.0
    get_seconds: float = 0.0
    problem: str | None = None
    fix: str | None = None
    closed: bool = False  # the server closed the session itself (a close packet)

    def took(self, answer: Answer, shown: str) -> bool:
        """Add a request of the trip, and its evidence line: ``shown`` → what came back. False
        (and the problem set) when it failed."""
        self.requests.append(answer)
        self.lines.append(f"{shown} → {answer.describe()} in {ms(answer.seconds)}")
        if answer.status == 200:
            return True
        what = f"the {answer.method}"
        if answer.unknown_session:
            self.problem, self.fix = unknown_session(what, answer)
        else:
            self.problem = f"{what} failed: {answer.describe()}"
            self.fix = http_hint(answer)
        return False


async def round_trip(
    probe: Prober, path: str, eio: int, sid: str, client: httpx.AsyncClient | None = None
) -> RoundTrip:
    """POST something the server answers at once (:func:`~.answer.probe_packet`), then GET
    the answer; then close the session."""
    trip = RoundTrip()
    parser = probe.connect.parser
    body = str(engineio.encode_payload([probe_packet(eio, parser)], eio))
    post = await probe.request("POST", path, probe.query(eio, sid), body=body, client=client)
    trip.post_seconds = post.seconds
    if not trip.took(post, f"POST {preview(body)}"):
        return trip
    deadline = time.monotonic() + probe.timeout
    for _ in range(3):  # the answer may follow events the server had queued
        remaining = deadline - time.monotonic()
        get = await probe.request(
            "GET", path, probe.query(eio, sid), client=client, timeout=max(remaining, 0.1)
        )
        trip.get_seconds = get.seconds
        if not trip.took(get, "GET"):
            return trip
        try:
            received = engineio.decode_payload(get.payload, eio)
        except DecodeError as exc:
            trip.problem = f"the GET's body is not an Engine.IO {eio} payload: {exc}"
            trip.fix = "a proxy altered the body? (compression, an HTML error page)"
            return trip
        if answers_probe(received, eio, parser):
            break
        if any(p.type is EngineType.CLOSE for p in received):
            # The server ended the session itself: the GETs after it would be answered
            # "Session ID unknown" by this very instance, which is no sticky-session problem.
            trip.closed = True
            trip.problem = (
                "the server closed the session right after the CONNECT POSTed, without answering it"
            )
            trip.fix = PARSER_SEE_ABOVE
            return trip
    else:
        what = "CONNECT" if eio == 4 else "ping"
        trip.problem = f"three GETs brought no answer to the {what} POSTed"
        trip.fix = "the server or a proxy loses POSTed data; see the evidence"
    trip.requests.append(await probe.close_session(path, eio, sid, client))
    return trip
