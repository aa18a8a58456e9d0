"""Check 8, Sticky sessions: several sessions, every request on a new connection, as a
browser's may be: does any reach a server instance that does not know its session?"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from ..protocol.wordings import UNKNOWN_SESSION
from ..transports.config import transport_of
from .findings import Findings
from .polling import round_trip
from .probe import Prober
from .results import CheckResult, Report, Status, skipped

if TYPE_CHECKING:
    import httpx

__all__ = ["check_sticky"]

STICKY_FIX = (
    "requests of one session must reach the same server instance: enable sticky sessions on "
    "the load balancer (cookie affinity: AWS ALB target-group stickiness, nginx `hash "
    "$remote_addr consistent` / `ip_hash` or `sticky cookie`, HAProxy `cookie SERVERID insert` "
    "or `balance source`, ingress-nginx `affinity: cookie`; Node cluster: @socket.io/sticky), "
    "or make clients WebSocket-only (transports: ['websocket']; siocli --transport websocket), "
    "which keeps a session on one connection"
)


async def check_sticky(probe: Prober, found: Findings, sessions: int) -> CheckResult:
    report = Report("sticky")
    path, eio = found.endpoint()
    if found.polling_disabled:
        return skipped("sticky", "long-polling is off, a WebSocket session lives on one connection")
    total = unknown = lost = 0
    words = UNKNOWN_SESSION[1]  # python-engineio's; engine.io's is UNKNOWN_SESSION[0]
    cookies: set[str] = set()
    for number in range(1, sessions + 1):
        # One session after the other, each request on a new connection (as a browser's
        # GET and POST may be): concurrent sessions could keep step with a round-robin.
        async with probe.client(fresh=True) as client:
            trip = await _session(probe, path, eio, client)
            cookies.update(name for name, _ in trip.cookies)
        if trip.closed:
            return skipped(
                "sticky",
                "the server closes each session right after the CONNECT, unanswered (see "
                "Polling and Parser): not a question of server instances",
            )
        total += trip.count
        unknown += trip.unknown
        if trip.code1:
            words = f"{UNKNOWN_SESSION[0]}, code 1"
        lost += trip.unknown > 0
        report.note(f"session {number}: {trip.line}")
    report.data.update(sessions=sessions, requests=total, unknown_session=unknown)
    if cookies:
        report.note(f"cookies sent back, as a browser does: {', '.join(sorted(cookies))}")
    if unknown:
        websocket_only = transport_of(probe.connect, probe.target) == "websocket"
        report.flag(
            Status.WARN if websocket_only else Status.FAIL,
            f"no sticky sessions: {unknown} of {total} requests reached a server instance "
            f"that does not know their session ({words}), in {lost} of {sessions} "
            "sessions",
            STICKY_FIX
            + (". Your client is WebSocket-only: it is not affected" if websocket_only else ""),
        )
    elif not total:
        report.flag(Status.FAIL, "no session could be opened", None)
    report.passed(
        f"{sessions} sessions, {total} requests, each on a new connection: every "
        "request found its session"
    )
    return report.result()


@dataclass(slots=True)
class _SessionTrip:
    """One session of the check: its requests in a line, and how many were lost."""

    line: str = ""
    count: int = 0
    unknown: int = 0
    code1: bool = False
    closed: bool = False  # the server closed the session itself
    cookies: list[tuple[str, str]] = field(default_factory=list)


async def _session(probe: Prober, path: str, eio: int, client: httpx.AsyncClient) -> _SessionTrip:
    trip = _SessionTrip()
    hs = await probe.handshake(path, eio, client=client, keep=True)
    trip.cookies = hs.cookies
    if hs.handshake is None:
        trip.line = f"handshake: {hs.describe()}"
        return trip
    outcome = await round_trip(probe, path, eio, hs.handshake.sid, client=client)
    trip.closed = outcome.closed
    requests = [hs, *outcome.requests]
    trip.count = len(requests)
    trip.unknown = sum(a.unknown_session for a in requests)
    trip.code1 = any(a.error_code == 1 for a in requests)
    trip.line = ", ".join(
        f"{'handshake' if a is hs else a.method} "
        + (str(a.status) if a.status == 200 else a.describe())
        for a in requests
    )
    return trip
