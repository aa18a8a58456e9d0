"""Check 4, Handshake: sid, upgrades, pingInterval/pingTimeout, maxPayload; and what a
browser meets on the polling handshake: CORS, cookies."""

from __future__ import annotations

import json

from ..protocol.types import Handshake
from .answer import Answer
from .evidence import ping_settings
from .findings import Findings
from .probe import Prober
from .results import CheckResult, Report, Status

__all__ = ["check_handshake"]

_AFFINITY_COOKIES = (
    "awsalb",
    "awselb",
    "serverid",
    "route",
    "ingresscookie",
    "gclb",
    "bigipserver",
    "arraffinity",
    "sticky",
    "jsessionid",
    "srv_id",
    "__cf",
)


async def check_handshake(probe: Prober, found: Findings) -> CheckResult:
    report = Report("handshake")
    path, eio = found.endpoint()
    answer = found.answers.get(eio)
    if found.handshake is None:
        if answer is None or answer.handshake is None:
            report.flag(Status.FAIL, "no handshake to read", None)
            return report.result()
        found.handshake = answer.handshake
    hs = found.handshake
    report.note(f"sid {hs.sid}")
    report.data.update(
        sid=hs.sid,
        upgrades=list(hs.upgrades),
        pingInterval=hs.ping_interval,
        pingTimeout=hs.ping_timeout,
        maxPayload=hs.max_payload,
    )
    _judge_upgrades(report, hs, found.polling_disabled)
    report.note(ping_settings(hs))
    if hs.ping_interval >= 55000:
        report.flag(
            Status.WARN,
            f"pingInterval {hs.ping_interval} ms: a long-poll waits that long",
            "proxies cut requests idle for 60 s by default (nginx proxy_read_timeout): "
            "keep pingInterval below the proxies' timeouts",
        )
    if hs.max_payload is not None:
        report.note(f"maxPayload {hs.max_payload} bytes (the server's maxHttpBufferSize)")
    elif eio == 4:
        report.note("maxPayload absent: an older server (engine.io < 6.2, socket.io < 4.5)")
    else:
        report.note("maxPayload absent (Engine.IO 3 servers do not send it)")
    if not found.polling_disabled:
        await _judge_cors(probe, report, path, eio)
        if answer is not None:
            _judge_cookies(report, answer)
    report.passed(
        f"session {hs.sid}: upgrades {json.dumps(list(hs.upgrades))}, {ping_settings(hs)}"
    )
    return report.result()


def _judge_upgrades(report: Report, hs: Handshake, polling_disabled: bool) -> None:
    report.note(f"upgrades {json.dumps(list(hs.upgrades))}")
    if not polling_disabled and "websocket" not in hs.upgrades:
        report.flag(
            Status.WARN,
            "the server offers no upgrade: clients stay on long-polling",
            "allowUpgrades: false or transports without 'websocket' on the server; "
            "long-polling costs latency and needs sticky sessions",
        )


async def _judge_cors(probe: Prober, report: Report, path: str, eio: int) -> None:
    """What a browser page on another origin gets (WebSocket is not subject to CORS)."""
    given = next((v for k, v in probe.connect.headers if k.lower() == "origin"), None)
    origin = given or "https://example.com"
    answer = await probe.handshake(path, eio, headers={"Origin": origin})
    allowed = answer.header("access-control-allow-origin")
    credentials = answer.header("access-control-allow-credentials")
    report.data["cors"] = {
        "origin": origin,
        "allow_origin": allowed,
        "credentials": credentials,
    }
    if answer.status != 200:
        report.note(f"CORS: Origin {origin} → {answer.describe()}")
        report.flag(
            Status.FAIL if given else Status.WARN,
            f"the server refuses requests from Origin {origin}",
            "the server's allowRequest or cors option refuses this origin: allow it "
            "(socket.io cors: { origin: [...] }, python-socketio cors_allowed_origins)",
        )
        return
    if allowed in ("*", origin):
        extra = (
            ", with credentials"
            if credentials == "true"
            else " (withCredentials: true needs the exact origin and "
            "Access-Control-Allow-Credentials)"
            if allowed == "*"
            else ""
        )
        report.note(
            f"CORS: Origin {origin} allowed (Access-Control-Allow-Origin: {allowed}){extra}"
        )
        return
    shown = (
        f"Access-Control-Allow-Origin: {allowed}" if allowed else "no Access-Control-Allow-Origin"
    )
    report.note(f"CORS: Origin {origin} → {shown}")
    report.flag(
        Status.FAIL if given else Status.WARN,
        f"browsers on {origin} cannot poll: {shown}",
        "the server's cors option must allow the page's origin: new Server(httpServer, "
        '{ cors: { origin: ["https://your.app"], credentials: true } }) (python-socketio: '
        "cors_allowed_origins); fine when the page comes from the server's own origin"
        + ("" if given else "; check yours with -H 'Origin: https://your.app'"),
    )


def _judge_cookies(report: Report, answer: Answer) -> None:
    raw = answer.headers.get_list("set-cookie") if answer.headers is not None else []
    if not raw:
        report.note("cookies: none (no load-balancer affinity cookie)")
        report.data["cookies"] = []
        return
    names = []
    for header in raw:
        name, attributes = _cookie_summary(header)
        names.append(name)
        low = name.lower()
        if low == "io":
            role = "the engine.io session cookie (Socket.IO 2.x sets it by default)"
        elif any(low.startswith(a) for a in _AFFINITY_COOKIES):
            role = "a load balancer's affinity cookie: clients must send it back " + (
                "(cross-origin pages: withCredentials: true)"
            )
        else:
            role = "set by the server or a proxy"
        report.note(f"cookie {name} ({attributes}): {role}")
    report.data["cookies"] = names


def _cookie_summary(header: str) -> tuple[str, str]:
    """``io=abc; Path=/; HttpOnly`` → ``("io", "Path=/; HttpOnly")``: never the value."""
    first, _, rest = header.partition(";")
    name = first.split("=", 1)[0].strip()
    attributes = "; ".join(a.strip() for a in rest.split(";") if a.strip()) or "no attributes"
    return name, attributes
