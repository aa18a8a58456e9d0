"""``siocli doctor URL``: the checks an expert runs, in order, each with its evidence and fix.

The order follows the road a connection takes (PROTOCOL.md §2.9-2.15):

==========  ==============================================================================
reach       DNS, TCP (every address), TLS (the certificate problem named), HTTP proxy
path        the handshake path answers; else which variant does (slash, /socket.io/...)
protocol    EIO=4 and EIO=3 handshakes: which server this is, which clients it refuses
handshake   sid, upgrades, pingInterval/pingTimeout, maxPayload, CORS, cookies
polling     a POST and a GET on a session, with their latency
websocket   a direct WebSocket, and the upgrade from polling (2probe, 3probe, 5)
sticky      several sessions, every request on a new connection: "Session ID unknown"?
namespaces  CONNECT to the URL's namespace and each -n, with --auth
heartbeat   one heartbeat cycle, timed against pingInterval and pingTimeout
==========  ==============================================================================

The low-level probes use httpx and websockets directly, because they must see what a
client library hides (status codes, headers, the exact body); every body is still read by
the protocol core (:func:`~siocli.protocol.engineio.decode_payload`,
:func:`~siocli.protocol.engineio.decode_handshake`, :mod:`siocli.protocol.socketio`).
Full sessions (namespaces, heartbeat) run on the driver's :class:`Connection`. A check that
cannot run because an earlier one failed is skipped, with the reason. The heartbeat session
opens as soon as the transport is known and runs beside the later checks, so a healthy
server costs about one ``pingInterval``.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import enum
import ipaddress
import json
import os
import random
import socket
import ssl
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import IO, TYPE_CHECKING, Any, NamedTuple
from urllib.parse import unquote, urlsplit

from .exit import ExitStatus
from .live import LiveOptions, make_tap, run_live
from .protocol import engineio, socketio
from .protocol.errors import DecodeError, LocalProtocolError
from .protocol.session import Closed, NamespaceConnected, NamespaceRejected
from .protocol.types import (
    Direction,
    EnginePacket,
    EngineType,
    Handshake,
    SocketPacket,
    SocketType,
    Transport,
    socket_protocol,
)
from .transports.config import ConnectOptions, Target, parse_target, ssl_context
from .transports.errors import TransportError, tls_error
from .wire import WireMessage

if TYPE_CHECKING:
    import httpx
    from websockets.asyncio.client import ClientConnection

    from .render.doctor import DoctorPrinter
    from .transports.driver import Connection

__all__ = ["CHECKS", "CheckResult", "Status", "run_doctor"]


class Status(str, enum.Enum):
    PASS = "pass"
    WARN = "warn"
    FAIL = "fail"
    SKIP = "skip"


_RANK = {Status.SKIP: 0, Status.PASS: 1, Status.WARN: 2, Status.FAIL: 3}

CHECKS: tuple[tuple[str, str], ...] = (
    ("reach", "Reach"),
    ("path", "Path"),
    ("protocol", "Protocol"),
    ("handshake", "Handshake"),
    ("polling", "Polling"),
    ("websocket", "WebSocket"),
    ("sticky", "Sticky sessions"),
    ("namespaces", "Namespaces"),
    ("heartbeat", "Heartbeat"),
)
"""Every check, in order: (its key in ``--json``, its title)."""

_TITLES = dict(CHECKS)


@dataclass(frozen=True, slots=True)
class CheckResult:
    """What one check found: ``evidence`` lines, and the ``fix`` when it did not pass."""

    check: str
    status: Status
    summary: str
    evidence: tuple[str, ...] = ()
    fix: str | None = None
    data: dict[str, Any] = field(default_factory=dict)
    seconds: float = 0.0

    @property
    def title(self) -> str:
        return _TITLES[self.check]

    @property
    def number(self) -> int:
        return [name for name, _ in CHECKS].index(self.check) + 1


def run_doctor(
    options: LiveOptions, sessions: int, out: IO[str], err: IO[str], *, no_color: bool = False
) -> ExitStatus:
    """Run every check against ``options.connect.url``, print each as it ends and a summary;
    0 when nothing failed (warnings allowed), 1 when something did, 70 when a check crashed
    (a bug), 130 on Ctrl-C. Colour only on a terminal, never with ``no_color``/``NO_COLOR``."""
    from .render.doctor import DoctorPrinter

    printer = DoctorPrinter(out, as_json=options.as_json, no_color=no_color)
    doctor = Doctor(options, sessions, printer, err)
    return run_live(doctor.main(), err)


# --- what the checks share -------------------------------------------------------------------

PROXY_WEBSOCKET_FIX = (
    "let the proxy pass WebSocket upgrades: nginx `proxy_http_version 1.1; "
    'proxy_set_header Upgrade $http_upgrade; proxy_set_header Connection "upgrade";` in the '
    "location of the handshake path; Apache mod_proxy_wstunnel (`ProxyPass /socket.io/ "
    "ws://backend/socket.io/`); HAProxy and cloud load balancers: enable WebSocket and a "
    "tunnel/idle timeout above pingInterval + pingTimeout. Until then clients stay on "
    "long-polling (--transport polling)"
)
STICKY_FIX = (
    "requests of one session must reach the same server instance: enable sticky sessions on "
    "the load balancer (cookie affinity: AWS ALB target-group stickiness, nginx `hash "
    "$remote_addr consistent` / `ip_hash` or `sticky cookie`, HAProxy `cookie SERVERID insert` "
    "or `balance source`, ingress-nginx `affinity: cookie`; Node cluster: @socket.io/sticky), "
    "or make clients WebSocket-only (transports: ['websocket']; siocli --transport websocket), "
    "which keeps a session on one connection"
)
STICKY_SEE_BELOW = (
    "requests of one session reach different server instances: enable sticky sessions on the "
    "load balancer (an affinity cookie, or ip hash), or use WebSocket-only clients; the "
    "details under Sticky sessions"
)
HEARTBEAT_FIX = (
    "the server's event loop may be blocked (long synchronous work, CPU starvation, a paused "
    "process), or a proxy holds its messages (nginx: `proxy_buffering off` for long-polling, "
    "proxy_read_timeout above pingInterval + pingTimeout). A larger pingTimeout on the server "
    "tolerates slow networks"
)
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
_UNKNOWN_SESSION = ("Session ID unknown", "Invalid session")  # engine.io, python-engineio
_NO_NAMESPACE = ("Invalid namespace", "Unable to connect")  # socket.io, python-socketio


def _ms(seconds: float) -> str:
    ms = seconds * 1000
    if ms < 10:
        return f"{ms:.1f} ms"
    if ms < 1000:
        return f"{ms:.0f} ms"
    return f"{seconds:.2f} s"


def _preview(data: str | bytes | None, limit: int = 100) -> str:
    from .render.text import escape_text, hex_preview

    if data is None:
        return ""
    if isinstance(data, bytes):
        return hex_preview(data)
    text = escape_text(data[:limit])
    return text + ("…" if len(data) > limit else "")


def _cache_buster() -> str:
    # as the JS client's `t`: a cache in front of the server must not answer a handshake
    return "".join(random.choices("0123456789abcdefghijklmnopqrstuvwxyz", k=7))


@dataclass(slots=True)
class Answer:
    """One HTTP request of a probe, and what the core made of its body."""

    method: str
    url: str
    status: int | None = None  # None: no HTTP answer at all (see failure)
    body: str = ""
    content_type: str = ""
    headers: Any = None  # httpx.Headers
    cookies: list[tuple[str, str]] = field(default_factory=list)
    seconds: float = 0.0
    raw: bytes = b""
    failure: TransportError | None = None
    eio: int | None = None  # the revision whose framing the body decoded in
    packets: list[EnginePacket] = field(default_factory=list)
    handshake: Handshake | None = None
    problem: str | None = None  # why the body is not an open packet

    @property
    def error_code(self) -> int | None:
        value = _json_body(self)
        code = value.get("code") if isinstance(value, dict) else None
        return code if isinstance(code, int) and not isinstance(code, bool) else None

    @property
    def error_message(self) -> str | None:
        """The reference's ``{"message"}``, or python-engineio's JSON string body."""
        value = _json_body(self)
        if isinstance(value, dict) and isinstance(value.get("message"), str):
            return str(value["message"])
        return value if isinstance(value, str) else None

    @property
    def from_engine(self) -> bool:
        """An Engine.IO server wrote this answer: an open packet or one of its errors."""
        if self.handshake is not None:
            return True
        return self.status in (400, 403) and (
            self.error_code is not None or self.error_message is not None
        )

    @property
    def unknown_session(self) -> bool:
        message = self.error_message or self.body
        return self.error_code == 1 or any(m in message for m in _UNKNOWN_SESSION)

    @property
    def payload(self) -> str | bytes:
        """The body as the core reads it: bytes for an Engine.IO 3 binary payload (§2.6)."""
        binary = self.content_type.startswith("application/octet-stream")
        return self.raw if binary else self.body

    def header(self, name: str) -> str | None:
        return None if self.headers is None else self.headers.get(name)

    def describe(self) -> str:
        """``HTTP 200, an Engine.IO 4 open packet`` / ``HTTP 400 Session ID unknown (code 1)``."""
        if self.failure is not None:
            return self.failure.message
        if self.handshake is not None:
            return f"HTTP {self.status}, an Engine.IO {self.eio} open packet"
        code, message = self.error_code, self.error_message
        if self.status != 200 and message is not None:
            return f"HTTP {self.status} {message}" + (f" (code {code})" if code is not None else "")
        kind = self.content_type.split(";")[0]
        body = f'"{_preview(self.body.strip(), 60)}"' if self.body.strip() else "(empty)"
        return " ".join(part for part in (f"HTTP {self.status}", kind, body) if part)


def _json_body(answer: Answer) -> Any:
    text = answer.body.strip()
    if not text or text[0] not in '{"':
        return None
    try:
        return json.loads(text)
    except ValueError:
        return None


def read_open(answer: Answer, asked: int) -> None:
    """Read an answer's body as a handshake, in the revision asked for, else the other one:
    a Socket.IO 2.x server ignores ``EIO=4`` and answers ``<length>:0{...}`` (§2.5). The open
    packet must come first, so a misread cannot pass for a handshake."""
    if answer.status != 200:
        return
    problems = []
    for eio in (asked, 3 if asked == 4 else 4):
        try:
            packets = engineio.decode_payload(answer.body, eio)
        except DecodeError as exc:
            problems.append(f"not Engine.IO {eio} ({exc})")
            continue
        if not packets or packets[0].type is not EngineType.OPEN:
            first = packets[0].type.label if packets else "nothing"
            problems.append(f"Engine.IO {eio} framing starts with {first}, not the open packet")
            continue
        try:
            answer.handshake = engineio.decode_handshake(str(packets[0].data))
        except DecodeError as exc:
            answer.problem = f"the open packet is not a valid handshake: {exc}"
            return
        answer.eio, answer.packets = eio, packets
        return
    answer.problem = "; ".join(problems)


def _socket_packets(packets: list[EnginePacket], eio: int) -> list[SocketPacket]:
    """The Socket.IO packets among Engine.IO messages (what does not decode is left out:
    these probes only look for CONNECT answers)."""
    found = []
    for packet in packets:
        if packet.type is EngineType.MESSAGE and isinstance(packet.data, str):
            with contextlib.suppress(DecodeError):
                found.append(socketio.decode_packet(packet.data, socket_protocol(eio)))
    return found


def _message(packet: SocketPacket) -> EnginePacket:
    return EnginePacket(EngineType.MESSAGE, socketio.encode_packet(packet))


@dataclass(frozen=True, slots=True)
class _Proxy:
    url: str  # credentials removed
    source: str
    scheme: str
    host: str
    port: int
    authorization: str | None


def proxy_in_use(options: ConnectOptions, target: Target) -> _Proxy | None:
    """The HTTP proxy httpx and websockets will use for ``target``: ``--proxy``, else the
    ``*_proxy`` variables (``no_proxy`` honoured)."""
    import base64
    import urllib.request

    if options.proxy:
        url, source = options.proxy, "--proxy"
    else:
        proxies = urllib.request.getproxies_environment()
        if not proxies or urllib.request.proxy_bypass(target.host):
            return None
        scheme = "https" if target.secure else "http"
        url = proxies.get(scheme) or proxies.get("all") or ""
        if not url:
            return None
        names = (f"{scheme}_proxy", f"{scheme.upper()}_PROXY", "all_proxy", "ALL_PROXY")
        source = next((n for n in names if os.environ.get(n)), "the environment")
    parts = urlsplit(url if "://" in url else "http://" + url)
    scheme = parts.scheme.lower()
    default = {"https": 443, "http": 80}.get(scheme, 1080)
    try:
        port = parts.port or default
    except ValueError:
        port = default
    authorization = None
    if parts.username:
        pair = f"{unquote(parts.username)}:{unquote(parts.password or '')}"
        authorization = "Basic " + base64.b64encode(pair.encode()).decode()
    shown = f"{scheme}://{parts.hostname}:{port}"
    return _Proxy(shown, source, scheme, parts.hostname or "", port, authorization)


@dataclass(slots=True)
class _Report:
    """A check in progress: evidence lines, the worst status so far and its fix."""

    check: str
    evidence: list[str] = field(default_factory=list)
    data: dict[str, Any] = field(default_factory=dict)
    status: Status = Status.PASS
    summary: str = ""
    fixes: list[str] = field(default_factory=list)

    def note(self, line: str) -> None:
        self.evidence.append(line)

    def flag(self, status: Status, summary: str, fix: str | None = None) -> None:
        """A problem: the worst one gives the summary (an empty one only adds its fix);
        every fix is kept."""
        if summary and (_RANK[status] > _RANK[self.status] or not self.summary):
            self.summary = summary
        if _RANK[status] > _RANK[self.status]:
            self.status = status
        if fix and fix not in self.fixes:
            self.fixes.append(fix)

    def passed(self, summary: str) -> None:
        if self.status is Status.PASS:
            self.summary = summary

    def result(self, seconds: float = 0.0) -> CheckResult:
        fix = "\n".join(self.fixes) if self.fixes and self.status is not Status.PASS else None
        return CheckResult(
            self.check,
            self.status,
            self.summary or "done",
            tuple(self.evidence),
            fix,
            self.data,
            seconds,
        )


# --- the doctor ------------------------------------------------------------------------------


class Doctor:
    """Runs the checks in order and keeps what each one learnt for the next."""

    def __init__(
        self, options: LiveOptions, sessions: int, printer: DoctorPrinter, err: IO[str]
    ) -> None:
        self.options = options
        self.connect = options.connect
        self.target = parse_target(options.connect)
        self.sessions = max(1, sessions)
        self.timeout = options.connect.timeout
        self.printer = printer
        self.err = err
        self.asked = options.connect.eio or 4
        self.results: list[CheckResult] = []
        self._http: httpx.AsyncClient | None = None
        self._releases: set[asyncio.Task[Any]] = set()
        # what the checks learnt, in order
        self.path: str | None = None
        self.answers: dict[int, Answer] = {}  # protocol probes by EIO asked
        self.revision: int | None = None  # the Engine.IO revision the later checks speak
        self.handshake: Handshake | None = None
        self.polling_disabled = False
        self.polling_works = False
        self.websocket_works = False
        self.crashed = False

    # --- running -----------------------------------------------------------------------------

    async def main(self) -> ExitStatus:
        started = time.monotonic()
        heartbeat: asyncio.Task[CheckResult] | None = None
        try:
            heartbeat = await self._run_checks()
            if heartbeat is not None:
                self._emit(await heartbeat)
        finally:
            if heartbeat is not None and not heartbeat.done():
                heartbeat.cancel()
                with contextlib.suppress(BaseException):
                    await heartbeat
            await self._close()
        if self.crashed:
            status = ExitStatus.INTERNAL
        elif any(r.status is Status.FAIL for r in self.results):
            status = ExitStatus.FINDINGS
        else:
            status = ExitStatus.OK
        self.printer.summary(self.results, time.monotonic() - started, int(status))
        return status

    async def _run_checks(self) -> asyncio.Task[CheckResult] | None:
        """Checks 1-8 in order; returns the heartbeat's task (check 9), running meanwhile."""
        if (await self._run("reach", self.check_reach)).status is Status.FAIL:
            self._skip_rest("the server cannot be reached (see Reach)")
            return None
        await self._run("path", self.check_path)
        if self.path is None:
            self._skip_rest("no handshake path answers (see Path)")
            return None
        await self._run("protocol", self.check_protocol)
        if self.revision is None:
            self._skip_rest("no handshake succeeded (see Protocol)")
            return None
        await self._run("handshake", self.check_handshake)
        if self.handshake is None:
            self._skip_rest("no valid handshake (see Handshake)")
            return None
        await self._run("polling", self.check_polling)
        await self._run("websocket", self.check_websocket)
        transport, why_not = self._session_transport()
        heartbeat = None
        if transport is not None:
            heartbeat = asyncio.ensure_future(
                self._guarded("heartbeat", lambda: self.check_heartbeat(transport))
            )
        await self._run("sticky", self.check_sticky)
        if transport is None:
            self._skip_rest(f"{why_not} (see above)")
            return None
        await self._run("namespaces", lambda: self.check_namespaces(transport))
        return heartbeat

    async def _run(self, check: str, body: Callable[[], Awaitable[CheckResult]]) -> CheckResult:
        # The probes' close requests go first: their order matters behind a balancer.
        await self._settle_releases()
        result = await self._guarded(check, body)
        self._emit(result)
        return result

    async def _guarded(self, check: str, body: Callable[[], Awaitable[CheckResult]]) -> CheckResult:
        started = time.monotonic()
        try:
            result = await body()
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # a bug in a check must not hide the others' results
            self.crashed = True
            result = CheckResult(
                check,
                Status.FAIL,
                f"siocli could not run this check: {type(exc).__name__}: {exc}",
                fix="this is a bug in siocli: please report it with the command line",
            )
        return dataclasses.replace(result, seconds=time.monotonic() - started)

    def _emit(self, result: CheckResult) -> None:
        self.results.append(result)
        self.printer.check(result)

    def _skip_rest(self, reason: str) -> None:
        done = {r.check for r in self.results}
        for check, _ in CHECKS:
            if check not in done:
                self._emit(CheckResult(check, Status.SKIP, f"skipped: {reason}"))

    async def _settle_releases(self, timeout: float = 2.0) -> None:
        if self._releases:
            await asyncio.wait(set(self._releases), timeout=timeout)

    async def _close(self) -> None:
        await self._settle_releases()
        for task in list(self._releases):
            task.cancel()
        if self._http is not None:
            await self._http.aclose()

    def _trace(self, line: str) -> None:
        if self.options.verbose:
            self.err.write(f"  doctor {line}\n")
            self.err.flush()

    def _session_transport(self) -> tuple[str | None, str]:
        """The transport a client ends up on (namespaces and heartbeat run over it), or
        ``None`` and why there is none."""
        wanted = "websocket" if self.target.websocket_only else self.connect.transport
        if wanted == "websocket" or (wanted == "auto" and self.websocket_works):
            return ("websocket", "") if self.websocket_works else (None, "WebSocket fails")
        if self.polling_works:
            return "polling", ""
        if wanted == "polling":
            return None, "long-polling fails, and --transport polling rules out WebSocket"
        return None, "neither long-polling nor WebSocket works"

    # --- low-level probes ------------------------------------------------------------------

    def _client(self, *, fresh: bool = False) -> httpx.AsyncClient:
        """The probes' HTTP client (keep-alive, as a browser); ``fresh``: a new connection per
        request and an own cookie jar, for the sticky-session check."""
        import httpx

        from . import __version__

        if self._http is not None and not fresh:
            return self._http
        verify: Any = ssl_context(self.connect) if self.target.secure else False
        client = httpx.AsyncClient(
            headers={"User-Agent": f"siocli/{__version__}", **dict(self.connect.headers)},
            verify=verify,
            proxy=self.connect.proxy,
            trust_env=True,
            timeout=httpx.Timeout(self.timeout),
            limits=httpx.Limits(max_keepalive_connections=0) if fresh else httpx.Limits(),
        )
        if not fresh:
            self._http = client
        return client

    def _at(self, path: str) -> Target:
        return dataclasses.replace(self.target, path=path)

    def _query(
        self, eio: int, sid: str | None = None, transport: str = "polling"
    ) -> dict[str, str]:
        query = {**dict(self.target.query), "EIO": str(eio), "transport": transport}
        if sid is not None:
            query["sid"] = sid
        if transport == "polling":
            query["t"] = _cache_buster()
        return query

    async def request(
        self,
        method: str,
        path: str,
        query: dict[str, str],
        *,
        body: str | None = None,
        client: httpx.AsyncClient | None = None,
        headers: dict[str, str] | None = None,
        timeout: float | None = None,
    ) -> Answer:
        """One HTTP request, never raising: a failure is in the answer, in siocli's words."""
        from .transports.http import describe_http_failure

        target = self._at(path)
        url = target.http_url(query)
        self._trace(f"> {method} {url}" + (f"  {_preview(body)}" if body else ""))
        extra = dict(headers or {})
        if body is not None:
            extra["Content-Type"] = "text/plain;charset=UTF-8"
        started = time.perf_counter()
        try:
            response = await (client or self._client()).request(
                method,
                url,
                content=body.encode("utf-8") if body is not None else None,
                headers=extra,
                timeout=timeout or self.timeout,
            )
        except Exception as exc:  # translated once, here (httpx's exception tree)
            failure = describe_http_failure(exc, target)
            self._trace(f"< {failure}")
            return Answer(method, url, failure=failure, seconds=time.perf_counter() - started)
        answer = Answer(
            method,
            url,
            response.status_code,
            response.text,
            response.headers.get("content-type", ""),
            response.headers,
            [(c.name, c.value or "") for c in response.cookies.jar],
            time.perf_counter() - started,
            response.content,
        )
        self._trace(f"< {response.status_code} in {_ms(answer.seconds)}  {_preview(answer.body)}")
        return answer

    async def handshake_probe(
        self,
        path: str,
        eio: int,
        *,
        client: httpx.AsyncClient | None = None,
        headers: dict[str, str] | None = None,
        keep: bool = False,
    ) -> Answer:
        """A polling handshake, read by the core. The session it opens is closed again in
        the background unless ``keep``."""
        answer = await self.request("GET", path, self._query(eio), client=client, headers=headers)
        read_open(answer, eio)
        if answer.handshake is not None and not keep:
            self._release(path, answer)
        return answer

    def _release(self, path: str, answer: Answer) -> None:
        """Close a probe's session (POST a close packet, §2.14) without waiting for it."""
        if answer.handshake is None or answer.eio is None:
            return
        body = str(engineio.encode_payload([EnginePacket(EngineType.CLOSE)], answer.eio))
        query = self._query(answer.eio, answer.handshake.sid)
        task = asyncio.ensure_future(self.request("POST", path, query, body=body))
        self._releases.add(task)
        task.add_done_callback(self._releases.discard)

    # --- 1. reach --------------------------------------------------------------------------

    async def check_reach(self) -> CheckResult:
        report = _Report("reach")
        target = self.target
        proxy = proxy_in_use(self.connect, target)
        host, port = target.host, target.port
        if proxy is None:
            report.note("proxy: none (no --proxy, and no *_proxy variable applies to this host)")
        else:
            report.note(f"proxy: {proxy.url} (from {proxy.source}); DNS and TCP go to the proxy")
            report.data["proxy"] = proxy.url
            host, port = proxy.host, proxy.port
        addresses = await self._resolve(host, port, report)
        if not addresses:
            return report.result()
        connected = await self._tcp(addresses, port, report)
        if connected is None:
            return report.result()
        if proxy is not None and proxy.scheme == "http":
            if not await self._proxy_connect(proxy, report):
                return report.result()
        elif proxy is not None:
            report.note(f"the {proxy.scheme} proxy's tunnel is not checked here")
        elif target.secure:
            await self._tls(connected, port, report)
        report.passed(f"{target.authority} is reachable" + (" through the proxy" if proxy else ""))
        return report.result()

    async def _resolve(self, host: str, port: int, report: _Report) -> list[str]:
        try:
            ipaddress.ip_address(host)
        except ValueError:
            pass
        else:
            report.note(f"DNS: not needed ({host} is an IP address)")
            return [host]
        loop = asyncio.get_running_loop()
        started = time.perf_counter()
        try:
            infos = await asyncio.wait_for(
                loop.getaddrinfo(host, port, type=socket.SOCK_STREAM), self.timeout
            )
        except socket.gaierror as exc:
            report.note(f"DNS: {host}: {exc.strerror or exc}")
            report.flag(
                Status.FAIL,
                f"the name {host} does not resolve",
                "check the host name (a typo? a VPN, split DNS or /etc/hosts entry needed?)",
            )
            return []
        except asyncio.TimeoutError:
            report.flag(
                Status.FAIL,
                f"DNS did not answer for {host} within {self.timeout:g} s",
                "check this machine's DNS resolver (or use the IP address)",
            )
            return []
        addresses = list(dict.fromkeys(str(info[4][0]) for info in infos))
        report.note(f"DNS: {host} → {', '.join(addresses)} in {_ms(time.perf_counter() - started)}")
        report.data["addresses"] = addresses
        return addresses

    async def _tcp(self, addresses: list[str], port: int, report: _Report) -> str | None:
        """Connect to every address (at most four, at once): a name whose first address
        refuses (``localhost`` → ``::1``) is the classic "works with 127.0.0.1" puzzle."""

        async def attempt(address: str) -> tuple[str, float | None, str]:
            started = time.perf_counter()
            try:
                _, writer = await asyncio.wait_for(
                    asyncio.open_connection(address, port), self.timeout
                )
            except asyncio.TimeoutError:
                return address, None, f"no answer within {self.timeout:g} s"
            except OSError as exc:
                refused = isinstance(exc, ConnectionRefusedError) or "refused" in str(exc)
                return address, None, "connection refused" if refused else str(exc)
            writer.close()
            with contextlib.suppress(OSError):
                await writer.wait_closed()
            return address, time.perf_counter() - started, ""

        outcomes = await asyncio.gather(*(attempt(a) for a in addresses[:4]))
        good = [(a, t) for a, t, _ in outcomes if t is not None]
        for address, seconds, problem in outcomes:
            where = f"[{address}]:{port}" if ":" in address else f"{address}:{port}"
            done = f"connected in {_ms(seconds)}" if seconds is not None else problem
            report.note(f"TCP {where}: {done}")
        bad = [(a, p) for a, _, p in outcomes if p]
        if not good:
            refused = all(p == "connection refused" for _, p in bad)
            report.flag(
                Status.FAIL,
                f"{'connection refused' if refused else 'no TCP connection'} to port {port}",
                "is the server running and listening on that port? (a server bound to "
                "127.0.0.1 is unreachable from other hosts; check firewalls)"
                if refused
                else "a firewall or security group drops the packets, or the host is down",
            )
            return None
        if bad:
            report.flag(
                Status.WARN,
                f"{len(bad)} of {len(outcomes)} addresses do not accept connections",
                f"clients that try {bad[0][0]} first get an error: make the server listen on "
                f"every address the name resolves to, or use {good[0][0]} in the URL",
            )
        return good[0][0]

    async def _proxy_connect(self, proxy: _Proxy, report: _Report) -> bool:
        """Ask the proxy for a tunnel to the target, as TLS and WebSocket clients do."""
        target = self.target
        host = f"[{target.host}]" if ":" in target.host else target.host
        authority = f"{host}:{target.port}"
        lines = [f"CONNECT {authority} HTTP/1.1", f"Host: {authority}"]
        if proxy.authorization:
            lines.append(f"Proxy-Authorization: {proxy.authorization}")
        try:
            reader, writer = await asyncio.wait_for(
                asyncio.open_connection(proxy.host, proxy.port), self.timeout
            )
            writer.write(("\r\n".join(lines) + "\r\n\r\n").encode())
            status_line = await asyncio.wait_for(reader.readline(), self.timeout)
            while (await asyncio.wait_for(reader.readline(), self.timeout)) not in (b"\r\n", b""):
                pass
        except (OSError, asyncio.TimeoutError) as exc:
            reason = str(exc) or "no answer in time"
            report.flag(
                Status.FAIL, f"the proxy failed: {reason}", "check --proxy / the *_proxy variables"
            )
            return False
        parts = status_line.decode("latin-1").split(" ", 2)
        status = int(parts[1]) if len(parts) > 1 and parts[1].isdigit() else 0
        report.note(f"proxy CONNECT {authority}: {status_line.decode('latin-1').strip()}")
        if status != 200:
            secure = target.secure
            report.flag(
                Status.FAIL if secure else Status.WARN,
                f"the proxy refuses to tunnel to {authority} (HTTP {status})",
                "the proxy must allow CONNECT to this host and port ("
                + (
                    "407: credentials in the proxy URL, http://user:pass@proxy:port; "
                    if status == 407
                    else ""
                )
                + "or exempt the host with NO_PROXY)"
                + ("" if secure else "; without it WebSocket cannot pass, polling still may"),
            )
            writer.close()
            return not secure
        start_tls = getattr(writer, "start_tls", None)  # Python 3.11+
        if target.secure and start_tls is None:
            report.note("TLS through the proxy is checked by the next requests")
        elif target.secure:

            async def through_tunnel(context: ssl.SSLContext) -> asyncio.StreamWriter:
                assert start_tls is not None
                await start_tls(
                    context, server_hostname=target.host, ssl_handshake_timeout=self.timeout
                )
                return writer

            await self._tls_verified(through_tunnel, report, reusable=False)
        writer.close()
        return True

    async def _tls(self, address: str, port: int, report: _Report) -> None:
        async def handshake(context: ssl.SSLContext) -> Any:
            _, writer = await asyncio.open_connection(
                address,
                port,
                ssl=context,
                server_hostname=self.target.host,
                ssl_handshake_timeout=self.timeout,
            )
            return writer

        await self._tls_verified(handshake, report)

    async def _tls_verified(
        self,
        handshake: Callable[[ssl.SSLContext], Awaitable[Any]],
        report: _Report,
        *,
        reusable: bool = True,
    ) -> None:
        """The TLS handshake with the options' verification; with ``-k``, also the verdict
        that ``-k`` hides (clients without it would see the same). ``handshake`` opens a
        connection with a context and returns its writer; ``reusable``: it can run twice."""
        try:
            context = ssl_context(self.connect)
        except (ssl.SSLError, OSError) as exc:
            report.flag(
                Status.FAIL,
                f"cannot use the TLS files given: {exc}",
                "check --cacert/--cert/--key (PEM files)",
            )
            return
        started = time.perf_counter()
        try:
            writer = await asyncio.wait_for(handshake(context), self.timeout + 1)
        except ssl.SSLCertVerificationError as exc:
            report.note(f"TLS: {exc.verify_message or exc.reason}")
            what, fix = _certificate_problem(exc)
            report.flag(Status.FAIL, f"TLS: the certificate is {what}", fix)
            return
        except ssl.SSLError as exc:
            reason = exc.reason or str(exc)
            report.note(f"TLS: {reason}")
            if reason in ("WRONG_VERSION_NUMBER", "RECORD_LAYER_FAILURE", "PACKET_LENGTH_TOO_LONG"):
                report.flag(
                    Status.FAIL,
                    "the port does not speak TLS (plain HTTP?)",
                    "use http:// (or ws://) for this port, or the server's TLS port",
                )
            else:
                failure = tls_error(exc, self.target.authority)
                report.flag(Status.FAIL, f"TLS handshake failed: {reason}", failure.hint)
            return
        except (OSError, asyncio.TimeoutError) as exc:
            reason = str(exc) or f"no answer within {self.timeout:g} s"
            report.flag(
                Status.FAIL,
                f"the TLS handshake did not complete: {reason}",
                "a TLS server on this port? (a proxy that expects plain HTTP closes the "
                "connection)",
            )
            return
        details = _certificate_details(writer, time.perf_counter() - started)
        report.note(details["line"])
        report.data["tls"] = {k: v for k, v in details.items() if k != "line"}
        days = details.get("days_left")
        if isinstance(days, int) and days < 14:
            report.flag(
                Status.WARN,
                f"the certificate expires in {days} day{'' if days == 1 else 's'}",
                "renew the server's certificate (clients fail once it expires)",
            )
        if reusable:
            writer.close()
            if self.connect.insecure:
                await self._what_insecure_hides(handshake, report)

    async def _what_insecure_hides(
        self, handshake: Callable[[ssl.SSLContext], Awaitable[Any]], report: _Report
    ) -> None:
        verifying = ssl.create_default_context(cafile=self.connect.cacert)
        try:
            writer = await asyncio.wait_for(handshake(verifying), self.timeout + 1)
        except ssl.SSLCertVerificationError as exc:
            what, fix = _certificate_problem(exc)
            report.note(f"TLS verification is off (-k); with it: {exc.verify_message}")
            report.flag(
                Status.WARN,
                f"-k hides it: the certificate is {what}",
                "clients that verify certificates (browsers, socket.io-client) refuse it: " + fix,
            )
            return
        except (ssl.SSLError, OSError, asyncio.TimeoutError):
            return
        writer.close()
        report.note("TLS verification is off (-k), but the certificate verifies anyway")

    # --- 2. path ---------------------------------------------------------------------------

    def _path_candidates(self) -> list[str]:
        configured = self.target.path
        other = configured.rstrip("/") if configured.endswith("/") else configured + "/"
        names = [configured, other or "/"]
        namespace = self.target.namespace
        if namespace != "/":  # `http://host/app` meant as the path, or an app under a prefix
            names += [namespace + "/", namespace + "/socket.io/"]
        names += ["/socket.io/", "/socket.io", "/engine.io/"]
        return list(dict.fromkeys(names))

    async def check_path(self) -> CheckResult:
        report = _Report("path")
        configured = self.target.path
        first = await self.handshake_probe(configured, self.asked, keep=True)
        self._note_probe(report, configured, self.asked, first)
        if first.failure is not None:
            hint = first.failure.hint
            if not self.target.secure and "disconnected" in first.failure.message.lower():
                hint = (hint + "; " if hint else "") + "does this port expect TLS? try https://"
            report.flag(Status.FAIL, f"no HTTP answer: {first.failure.message}", hint)
            return report.result()
        if first.from_engine:
            self.path = configured
            if first.handshake is not None:
                self.answers[self.asked] = first  # kept open: the polling check uses it
            report.data["path"] = configured
            report.passed(f"an Engine.IO server answers at {configured} ({first.describe()})")
            return report.result()
        others = self._path_candidates()[1:]
        answers = await asyncio.gather(*(self.handshake_probe(p, self.asked) for p in others))
        for path, answer in zip(others, answers, strict=True):
            self._note_probe(report, path, self.asked, answer)
        self._release(configured, first)
        found = next((p for p, a in zip(others, answers, strict=True) if a.from_engine), None)
        report.data["tried"] = [configured, *others]
        why = _not_engine(first)
        if found is None:
            report.flag(
                Status.FAIL,
                f"nothing answers Engine.IO at {configured} ({why}), nor at " + ", ".join(others),
                "find the server's path option (new Server(httpServer, { path }), "
                "python-socketio socketio_path) and pass it with --path; a reverse proxy "
                "also needs a route for it",
            )
            return report.result()
        self.path = found
        report.data["path"] = found
        url = self.connect.url
        if self.target.namespace != "/" and found.startswith(self.target.namespace):
            base = url.split(self.target.namespace, 1)[0] if self.target.namespace in url else url
            fix = (
                f"the URL's path {self.target.namespace} is taken as a namespace; the handshake "
                f"path is --path: siocli doctor {base} --path {found} "
                f'(socket.io-client: io("{base}", {{ path: "{found}" }}))'
            )
        else:
            fix = f'run with --path {found} (socket.io-client: io(url, {{ path: "{found}" }}))' + (
                "; the server wants the trailing slash" if found == configured + "/" else ""
            )
        report.flag(
            Status.FAIL,
            f"nothing answers Engine.IO at {configured} ({why}); {found} does",
            fix + ". The next checks use " + found,
        )
        return report.result()

    @staticmethod
    def _note_probe(report: _Report, path: str, eio: int, answer: Answer) -> None:
        report.note(f"GET {path}?EIO={eio}&transport=polling → {answer.describe()}")

    # --- 3. protocol -----------------------------------------------------------------------

    async def check_protocol(self) -> CheckResult:
        report = _Report("protocol")
        path = self.path
        assert path is not None
        wanted = [eio for eio in (4, 3) if eio not in self.answers]
        probes = await asyncio.gather(
            *(self.handshake_probe(path, eio, keep=True) for eio in wanted)
        )
        self.answers.update(zip(wanted, probes, strict=True))
        a4, a3 = self.answers[4], self.answers[3]
        for eio, answer in ((4, a4), (3, a3)):
            report.note(f"EIO={eio} handshake: {answer.describe()}")
        spoken = _spoken(a4, a3)
        if not spoken and _polling_refused(a4) and _polling_refused(a3):
            return await self._websocket_only_server(report)
        self._keep_one_probe(path, spoken)
        if not spoken:
            problem = next((a for a in (a4, a3) if a.failure or a.status != 200), a4)
            hint = problem.failure.hint if problem.failure else _http_hint(problem)
            report.flag(
                Status.FAIL,
                f"the server refuses the handshake: {problem.describe()}",
                hint or (problem.problem and "this does not look like a Socket.IO server"),
            )
            return report.result()
        return self._judge_protocol(report, spoken, a4, a3)

    def _keep_one_probe(self, path: str, spoken: set[int]) -> None:
        # the session of the revision we go on with feeds the polling check; close the rest
        keep = self._pick_revision(spoken)
        for eio, answer in self.answers.items():
            if eio != keep:
                self._release(path, answer)

    def _pick_revision(self, spoken: set[int]) -> int | None:
        if not spoken:
            return None
        if self.connect.eio in spoken:
            return self.connect.eio
        return 4 if 4 in spoken else 3

    def _judge_protocol(
        self, report: _Report, spoken: set[int], a4: Answer, a3: Answer
    ) -> CheckResult:
        python = "unsupported version of the Socket.IO" in (a3.error_message or "")
        if spoken == {4, 3}:
            server = "a Socket.IO 3.x/4.x server with allowEIO3 (Engine.IO 4 and 3)"
            report.note("socket.io-client 3.x/4.x and 2.x clients can both connect")
        elif spoken == {4}:
            server = "a Socket.IO 3.x/4.x server (Engine.IO 4 only)" + (
                ", python-socketio by its answer to EIO=3" if python else ""
            )
            report.note("socket.io-client 3.x/4.x (EIO=4): compatible")
            report.note(
                f"socket.io-client 2.x (EIO=3): refused with {a3.describe()}"
                + ("" if python else "; the server needs allowEIO3: true")
            )
        else:
            server = "a Socket.IO 2.x server (Engine.IO 3; it ignores EIO=4)"
            report.note("socket.io-client 2.x (EIO=3): compatible")
            report.note(
                "socket.io-client 3.x/4.x (EIO=4): cannot connect, the answer comes in "
                "Engine.IO 3 framing (<length>:<packet>) it cannot read"
            )
            if any(p.data == "0" for p in _socket_packets(a3.packets or a4.packets, 3)):
                report.note("the handshake carries CONNECT / (40): Socket.IO 2.x joins / at once")
        self.revision = self._pick_revision(spoken)
        report.data.update(server=server, eio=sorted(spoken, reverse=True), using=self.revision)
        wanted = self.connect.eio
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
                fix + f". The next checks use EIO={self.revision}",
            )
            return report.result()
        report.passed(server.removeprefix("a "))
        return report.result()

    async def _websocket_only_server(self, report: _Report) -> CheckResult:
        """Both polling handshakes say "transport unknown": a WebSocket-only server. Read
        its handshake over WebSocket instead."""
        self.polling_disabled = True
        for eio in (self.asked, 3 if self.asked == 4 else 4):
            outcome = await self._ws_open(eio)
            if outcome.handshake is not None:
                self.revision = outcome.eio
                self.handshake = outcome.handshake
                self.websocket_works = True
                report.note(f"WebSocket EIO={eio}: open packet {_preview(outcome.first, 120)}")
                report.data.update(eio=[outcome.eio], using=outcome.eio, websocket_only=True)
                server = (
                    "a Socket.IO 2.x server" if outcome.eio == 3 else "a Socket.IO 3.x/4.x server"
                )
                report.flag(
                    Status.WARN,
                    f"{server} that accepts WebSocket only (long-polling is off)",
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

    # --- 4. handshake ----------------------------------------------------------------------

    async def check_handshake(self) -> CheckResult:
        report = _Report("handshake")
        eio = self.revision
        assert eio is not None and self.path is not None
        answer = self.answers.get(eio)
        if self.handshake is None:
            if answer is None or answer.handshake is None:
                report.flag(Status.FAIL, "no handshake to read", None)
                return report.result()
            self.handshake = answer.handshake
        hs = self.handshake
        report.note(f"sid {hs.sid}")
        report.data.update(
            sid=hs.sid,
            upgrades=list(hs.upgrades),
            pingInterval=hs.ping_interval,
            pingTimeout=hs.ping_timeout,
            maxPayload=hs.max_payload,
        )
        self._judge_upgrades(report, hs)
        report.note(f"pingInterval {hs.ping_interval} ms, pingTimeout {hs.ping_timeout} ms")
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
        if not self.polling_disabled:
            await self._judge_cors(report, eio)
            if answer is not None:
                self._judge_cookies(report, answer)
        report.passed(
            f"session {hs.sid}: upgrades {json.dumps(list(hs.upgrades))}, "
            f"pingInterval {hs.ping_interval} ms, pingTimeout {hs.ping_timeout} ms"
        )
        return report.result()

    def _judge_upgrades(self, report: _Report, hs: Handshake) -> None:
        report.note(f"upgrades {json.dumps(list(hs.upgrades))}")
        if not self.polling_disabled and "websocket" not in hs.upgrades:
            report.flag(
                Status.WARN,
                "the server offers no upgrade: clients stay on long-polling",
                "allowUpgrades: false or transports without 'websocket' on the server; "
                "long-polling costs latency and needs sticky sessions",
            )

    async def _judge_cors(self, report: _Report, eio: int) -> None:
        """What a browser page on another origin gets (WebSocket is not subject to CORS)."""
        assert self.path is not None
        given = next((v for k, v in self.connect.headers if k.lower() == "origin"), None)
        origin = given or "https://example.com"
        answer = await self.handshake_probe(self.path, eio, headers={"Origin": origin})
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
            f"Access-Control-Allow-Origin: {allowed}"
            if allowed
            else "no Access-Control-Allow-Origin"
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

    def _judge_cookies(self, report: _Report, answer: Answer) -> None:
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

    # --- 5. polling ------------------------------------------------------------------------

    async def check_polling(self) -> CheckResult:
        report = _Report("polling")
        eio, path = self.revision, self.path
        assert eio is not None and path is not None
        if self.polling_disabled:
            return CheckResult("polling", Status.SKIP, "skipped: the server has long-polling off")
        session = self.answers.get(eio)
        if session is None or session.handshake is None:
            session = await self.handshake_probe(path, eio, keep=True)
            if session.handshake is None:
                report.flag(Status.FAIL, f"no session: {session.describe()}", _http_hint(session))
                return report.result()
        assert session.handshake is not None
        report.note(f"handshake GET → {session.describe()} in {_ms(session.seconds)}")
        outcome = await self._round_trip(path, eio, session.handshake.sid)
        for line in outcome.lines:
            report.note(line)
        if outcome.problem is not None:
            report.flag(Status.FAIL, outcome.problem, outcome.fix)
            return report.result()
        self.polling_works = True
        post, get = outcome.post_seconds, outcome.get_seconds
        report.data.update(
            handshake_ms=_round(session.seconds), post_ms=_round(post), get_ms=_round(get)
        )
        slowest = max(session.seconds, post, get)
        if slowest > 1.0:
            report.flag(
                Status.WARN,
                f"long-polling works but is slow ({_ms(slowest)} per request)",
                "a slow network or server; a proxy that buffers answers adds delay too "
                "(nginx: proxy_buffering off)",
            )
        report.passed(f"a POST and a GET on the session work ({_ms(post)} and {_ms(get)})")
        return report.result()

    async def _round_trip(
        self,
        path: str,
        eio: int,
        sid: str,
        client: httpx.AsyncClient | None = None,
    ) -> _RoundTrip:
        """POST something the server answers at once, then GET the answer; then close.

        Engine.IO 4: CONNECT to ``/`` (the answer, CONNECT or CONNECT_ERROR, comes back at
        once). Engine.IO 3: a ping (the client pings in revision 3, §2.12), answered by a pong.
        """
        trip = _RoundTrip()
        query = self._query(eio, sid)
        if eio == 4:
            packets = [_message(SocketPacket(SocketType.CONNECT, "/"))]
        else:
            packets = [EnginePacket(EngineType.PING)]
        body = str(engineio.encode_payload(packets, eio))
        post = await self.request("POST", path, query, body=body, client=client)
        trip.requests.append(post)
        trip.post_seconds = post.seconds
        trip.lines.append(f"POST {_preview(body)} → {post.describe()} in {_ms(post.seconds)}")
        if post.status != 200:
            trip.fail("the POST", post)
            return trip
        deadline = time.monotonic() + self.timeout
        for _ in range(3):  # the answer may follow events the server had queued
            remaining = deadline - time.monotonic()
            get = await self.request(
                "GET", path, self._query(eio, sid), client=client, timeout=max(remaining, 0.1)
            )
            trip.requests.append(get)
            trip.get_seconds = get.seconds
            trip.lines.append(f"GET → {get.describe()} in {_ms(get.seconds)}")
            if get.status != 200:
                trip.fail("the GET", get)
                return trip
            try:
                received = engineio.decode_payload(get.payload, eio)
            except DecodeError as exc:
                trip.problem = f"the GET's body is not an Engine.IO {eio} payload: {exc}"
                trip.fix = "a proxy altered the body? (compression, an HTML error page)"
                return trip
            if _answers_probe(received, eio):
                break
        else:
            what = "CONNECT" if eio == 4 else "ping"
            trip.problem = f"three GETs brought no answer to the {what} POSTed"
            trip.fix = "the server or a proxy loses POSTed data; see the evidence"
        closing = str(engineio.encode_payload([EnginePacket(EngineType.CLOSE)], eio))
        trip.requests.append(await self.request("POST", path, query, body=closing, client=client))
        return trip

    # --- 6. websocket ----------------------------------------------------------------------

    async def check_websocket(self) -> CheckResult:
        report = _Report("websocket")
        eio = self.revision
        assert eio is not None and self.handshake is not None
        offered = "websocket" in self.handshake.upgrades and not self.polling_disabled
        # one after the other: behind a balancer without affinity, a direct WebSocket between
        # the upgrade's handshake and its WebSocket could make the pair land together
        direct = await self._ws_open(eio)
        upgrade = await self._ws_upgrade(eio) if offered else None
        report.data["direct"] = direct.problem is None
        if direct.problem is None:
            report.note(
                f"direct WebSocket: open packet in {_ms(direct.seconds)} "
                f"({_preview(direct.first, 80)})"
            )
            self.websocket_works = True
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
                self._judge_upgrade(report, direct, upgrade)
        report.passed(
            "WebSocket works: "
            + ("direct, and the upgrade from polling" if upgrade else "direct")
            + f" ({_ms(direct.seconds)})"
        )
        return report.result()

    @staticmethod
    def _judge_upgrade(report: _Report, direct: _WsOutcome, upgrade: _WsOutcome) -> None:
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

    async def _open_ws(
        self, eio: int, sid: str | None = None, cookie: str | None = None
    ) -> ClientConnection:
        from .transports.websocket import open_websocket

        assert self.path is not None
        target = self._at(self.path)
        url = target.ws_url(self._query(eio, sid, transport="websocket"))
        self._trace(f"> WebSocket {url}")
        return await open_websocket(url, self.connect, target, cookie)

    async def _ws_open(self, eio: int) -> _WsOutcome:
        """A WebSocket-only session: the first message must be the open packet (§2.9)."""
        outcome = _WsOutcome(eio=eio)
        started = time.perf_counter()
        try:
            ws = await self._open_ws(eio)
        except Exception as exc:  # websockets' and the network's exceptions, named below
            outcome.refused_by(self._ws_refusal(exc, upgrade=False))
            return outcome
        try:
            message = await asyncio.wait_for(ws.recv(), self.timeout)
            outcome.seconds = time.perf_counter() - started
            outcome.first = message
            self._trace(f"< {_preview(message)}")
            packet = engineio.decode_packet(message, eio)
            if packet.type is not EngineType.OPEN:
                outcome.failed(
                    f"the first message is {packet.type.label}, not the open packet", None
                )
            else:
                outcome.handshake = engineio.decode_handshake(str(packet.data))
        except asyncio.TimeoutError:
            outcome.failed(
                f"the WebSocket opened but no open packet came within {self.timeout:g} s",
                "a proxy holds WebSocket frames, or this is not an Engine.IO endpoint",
            )
        except DecodeError as exc:
            outcome.failed(f"the first message is not an open packet: {exc}", None)
        except Exception as exc:  # the connection closed under us
            outcome.failed(
                f"the WebSocket closed before the open packet ({_closed_words(exc)})",
                PROXY_WEBSOCKET_FIX,
            )
        finally:
            await _close_ws(ws)
        return outcome

    async def _ws_upgrade(self, eio: int) -> _WsOutcome:
        """The upgrade as the JS client does it (§2.13): a polling session, a WebSocket
        with its sid, ``2probe`` → ``3probe``, then ``5``; then one exchange over it."""
        assert self.path is not None
        outcome = _WsOutcome(eio=eio)
        session = await self.handshake_probe(self.path, eio, keep=True)
        if session.handshake is None:
            outcome.failed(
                f"no polling session to upgrade: {session.describe()}", _http_hint(session)
            )
            return outcome
        sid = session.handshake.sid
        cookie = "; ".join(f"{n}={v}" for n, v in session.cookies) or None
        started = time.perf_counter()
        try:
            ws = await self._open_ws(eio, sid, cookie)
        except Exception as exc:
            outcome.refused_by(self._ws_refusal(exc, upgrade=True))
            self._release(self.path, session)
            return outcome
        try:
            await self._probe_exchange(ws, eio, outcome, started)
        finally:
            await _close_ws(ws)
        if outcome.problem is not None:
            self._release(self.path, session)
        return outcome

    async def _probe_exchange(
        self, ws: ClientConnection, eio: int, outcome: _WsOutcome, started: float
    ) -> None:
        probe = engineio.encode_packet(EnginePacket(EngineType.PING, "probe"), eio)
        try:
            await ws.send(probe)
            message = await asyncio.wait_for(ws.recv(), self.timeout)
            answer = engineio.decode_packet(message, eio)
        except asyncio.TimeoutError:
            outcome.failed(
                f"2probe got no answer within {self.timeout:g} s",
                "a proxy buffers WebSocket frames, or the WebSocket reached another server "
                "instance; " + PROXY_WEBSOCKET_FIX,
            )
            return
        except DecodeError as exc:
            outcome.failed(f"the probe's answer does not decode: {exc}", None)
            return
        except Exception as exc:
            outcome.failed(
                "the server closed the WebSocket instead of answering 2probe "
                f"({_closed_words(exc)})",
                "the session was already upgraded, or the WebSocket reached an instance that "
                "does not know it; " + STICKY_SEE_BELOW,
            )
            return
        if answer != EnginePacket(EngineType.PONG, "probe"):
            outcome.failed(f"2probe was answered with {_preview(message)}, not 3probe", None)
            return
        outcome.lines.append(f"upgrade: 2probe → 3probe in {_ms(time.perf_counter() - started)}")
        try:
            await ws.send(engineio.encode_packet(EnginePacket(EngineType.UPGRADE), eio))
            answered = await self._exchange_after_upgrade(ws, eio)
        except asyncio.TimeoutError:
            outcome.failed(
                f"after 5 (upgrade) the session did not answer over the WebSocket within "
                f"{self.timeout:g} s",
                "a proxy buffers WebSocket frames; " + PROXY_WEBSOCKET_FIX,
            )
            return
        except Exception as exc:
            outcome.failed(f"the WebSocket closed after the upgrade ({_closed_words(exc)})", None)
            return
        outcome.lines.append(
            f"upgrade: 5 sent; the session answers over the WebSocket ({answered})"
        )

    async def _exchange_after_upgrade(self, ws: ClientConnection, eio: int) -> str:
        """Engine.IO 4: CONNECT / and its answer; Engine.IO 3: a ping and its pong."""
        if eio == 4:
            sent = _message(SocketPacket(SocketType.CONNECT, "/"))
        else:
            sent = EnginePacket(EngineType.PING)
        await ws.send(engineio.encode_packet(sent, eio))
        deadline = time.monotonic() + self.timeout
        while True:
            message = await asyncio.wait_for(ws.recv(), max(deadline - time.monotonic(), 0.01))
            with contextlib.suppress(DecodeError):
                packet = engineio.decode_packet(message, eio)
                if _answers_probe([packet], eio):
                    return _preview(message, 40)

    def _ws_refusal(self, exc: BaseException, *, upgrade: bool) -> _Refusal:
        """Why a WebSocket did not open, in words, with the fix."""
        from websockets.exceptions import (
            InvalidMessage,
            InvalidProxyStatus,
            InvalidStatus,
            InvalidUpgrade,
        )

        from .transports.websocket import describe_ws_failure

        failure = describe_ws_failure(exc, self._at(self.path or self.target.path))
        if isinstance(exc, InvalidStatus):
            response = exc.response
            status = response.status_code
            body = response.body.decode("utf-8", "replace") if response.body else ""
            answer = Answer("GET", "", status, body, response.headers.get("Content-Type", ""))
            said = answer.describe()
            if status == 200 or (status == 400 and _plain_request_answer(answer)):
                return _Refusal(
                    f"the request reached the server as plain HTTP ({said}): the Upgrade and "
                    "Connection headers were removed on the way (a proxy strips them)",
                    PROXY_WEBSOCKET_FIX,
                )
            if answer.error_code == 0 or "Transport unknown" in body:
                return _Refusal(
                    f"the server does not accept WebSocket ({said})",
                    "the server's transports option lacks 'websocket'; clients stay on polling",
                    disabled=True,
                )
            if upgrade and answer.unknown_session:
                return _Refusal(
                    "the WebSocket reached a server instance that does not know the "
                    f"session ({said})",
                    STICKY_SEE_BELOW,
                )
            if status in (502, 503, 504):
                return _Refusal(
                    f"the proxy answered {said}: it could not pass the WebSocket to the server",
                    PROXY_WEBSOCKET_FIX,
                )
            if status == 404:
                return _Refusal(
                    f"{said}: the proxy routes this path for HTTP but not for WebSocket",
                    PROXY_WEBSOCKET_FIX,
                )
            return _Refusal(f"refused with {said}", failure.hint, status=status)
        if isinstance(exc, InvalidProxyStatus):
            return _Refusal(
                f"the proxy refused to tunnel the WebSocket (CONNECT → HTTP "
                f"{exc.response.status_code})",
                "the proxy must allow CONNECT to this host and port (or exempt the host with "
                "NO_PROXY); polling still passes through it",
            )
        if isinstance(exc, InvalidUpgrade):
            return _Refusal(
                f"the answer to the upgrade was not a WebSocket handshake ({exc}): a proxy "
                "rewrites the Upgrade/Connection headers",
                PROXY_WEBSOCKET_FIX,
            )
        if isinstance(exc, InvalidMessage):
            return _Refusal(
                "the connection closed during the WebSocket handshake (a proxy dropped it)",
                PROXY_WEBSOCKET_FIX,
            )
        if isinstance(exc, (TimeoutError, asyncio.TimeoutError)):
            return _Refusal(
                f"no answer to the WebSocket request within {self.timeout:g} s",
                "a proxy holds the Upgrade request; " + PROXY_WEBSOCKET_FIX,
            )
        return _Refusal(failure.message, failure.hint)

    # --- 7. sticky sessions ----------------------------------------------------------------

    async def check_sticky(self) -> CheckResult:
        report = _Report("sticky")
        eio, path = self.revision, self.path
        assert eio is not None and path is not None
        if self.polling_disabled:
            return CheckResult(
                "sticky",
                Status.SKIP,
                "skipped: long-polling is off, a WebSocket session lives on one connection",
            )
        total = unknown = lost = 0
        words = "Invalid session"  # python-engineio's; engine.io says "Session ID unknown"
        cookies: set[str] = set()
        for number in range(1, self.sessions + 1):
            # One session after the other, each request on a new connection (as a browser's
            # GET and POST may be): concurrent sessions could keep step with a round-robin.
            async with self._client(fresh=True) as client:
                trip = await self._sticky_session(path, eio, client)
                cookies.update(name for name, _ in trip.cookies)
            total += trip.count
            unknown += trip.unknown
            if trip.code1:
                words = "Session ID unknown, code 1"
            lost += trip.unknown > 0
            report.note(f"session {number}: {trip.line}")
        report.data.update(sessions=self.sessions, requests=total, unknown_session=unknown)
        if cookies:
            report.note(f"cookies sent back, as a browser does: {', '.join(sorted(cookies))}")
        if unknown:
            websocket_only = self.target.websocket_only or self.connect.transport == "websocket"
            report.flag(
                Status.WARN if websocket_only else Status.FAIL,
                f"no sticky sessions: {unknown} of {total} requests reached a server instance "
                f"that does not know their session ({words}), in {lost} of {self.sessions} "
                "sessions",
                STICKY_FIX
                + (". Your client is WebSocket-only: it is not affected" if websocket_only else ""),
            )
        elif not total:
            report.flag(Status.FAIL, "no session could be opened", None)
        report.passed(
            f"{self.sessions} sessions, {total} requests, each on a new connection: every "
            "request found its session"
        )
        return report.result()

    async def _sticky_session(self, path: str, eio: int, client: httpx.AsyncClient) -> _StickyTrip:
        trip = _StickyTrip()
        hs = await self.handshake_probe(path, eio, client=client, keep=True)
        trip.cookies = hs.cookies
        if hs.handshake is None:
            trip.line = f"handshake: {hs.describe()}"
            return trip
        outcome = await self._round_trip(path, eio, hs.handshake.sid, client=client)
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

    # --- 8. namespaces ---------------------------------------------------------------------

    def _session_options(self, transport: str) -> ConnectOptions:
        assert self.path is not None
        return dataclasses.replace(
            self.connect, path=self.path, transport=transport, eio=self.revision
        )

    async def check_namespaces(self, transport: str) -> CheckResult:
        from .transports.driver import Connection

        report = _Report("namespaces")
        main = self.target.namespace
        names = [main, *(n for n in self.options.namespaces if n != main)]
        connection = Connection(
            self._session_options(transport), tap=make_tap(self.options.verbose, self.err)
        )
        try:
            try:
                await connection.open()
            except TransportError as exc:
                report.flag(Status.FAIL, f"no session over {transport}: {exc.message}", exc.hint)
                return report.result()
            report.note(
                f"session over {transport}, auth: "
                + ("--auth given" if self.options.auth is not None else "none")
            )
            answers = await self._join(connection, names, report)
        finally:
            await connection.close(grace=0.5)
        report.data["namespaces"] = answers
        self._judge_namespaces(report, answers)
        return report.result()

    async def _join(
        self, connection: Connection, names: list[str], report: _Report
    ) -> dict[str, dict[str, Any]]:
        """CONNECT to every namespace at once; each answer as the server sent it."""
        from .render.jsonl import dumps_line

        answers: dict[str, dict[str, Any]] = {}
        started = time.monotonic()
        for name in names:
            try:
                connection.act(connection.session.connect, name, self.options.auth)
            except LocalProtocolError as exc:
                answers[name] = {"status": "not sent", "message": str(exc)}
                report.note(f"{name}: {exc}")
        pending = [n for n in names if n not in answers]
        deadline = time.monotonic() + self.timeout
        while pending:
            try:
                event = await connection.next_event(max(deadline - time.monotonic(), 0.01))
            except TransportError:
                break
            took = _ms(time.monotonic() - started)
            if isinstance(event, NamespaceConnected) and event.namespace in pending:
                pending.remove(event.namespace)
                answers[event.namespace] = {"status": "connected", "sid": event.sid}
                sid = f" (sid {event.sid})" if event.sid else ""
                report.note(f"{event.namespace}: connected in {took}{sid}")
            elif isinstance(event, NamespaceRejected) and event.namespace in pending:
                pending.remove(event.namespace)
                answers[event.namespace] = {
                    "status": "refused",
                    "message": event.message,
                    "data": event.data,
                }
                said = f"message {dumps_line(event.message)}"
                if event.data is not None:
                    said += f", data {dumps_line(event.data)}"
                report.note(f"{event.namespace}: refused in {took}: CONNECT_ERROR {said}")
            elif isinstance(event, Closed):
                detail = f" ({event.detail})" if event.detail else ""
                report.note(f"the session ended: {event.reason}{detail}")
                failure = connection.failure
                report.flag(
                    Status.FAIL,
                    f"the session ended before every namespace answered: {event.reason}",
                    failure.hint if failure else None,
                )
                break
        for name in pending:
            answers[name] = {"status": "no answer"}
            report.note(f"{name}: no answer to CONNECT within {self.timeout:g} s")
        return answers

    def _judge_namespaces(self, report: _Report, answers: dict[str, dict[str, Any]]) -> None:
        def named(status: str, test: Callable[[dict[str, Any]], bool] = bool) -> list[str]:
            return [n for n, a in answers.items() if a["status"] == status and test(a)]

        joined = named("connected")
        invalid = named("refused", lambda a: a["message"] in _NO_NAMESPACE)
        refused = named("refused", lambda a: a["message"] not in _NO_NAMESPACE)
        silent, unsent = named("no answer"), named("not sent")
        bad = [*invalid, *refused, *silent, *unsent]
        if not bad:
            report.passed(f"joined {', '.join(joined)}")
            return
        why = {n: answers[n].get("message") or answers[n]["status"] for n in bad}
        report.flag(
            Status.FAIL,
            f"{len(bad)} of {len(answers)} namespaces refused: "
            + ", ".join(f"{n} ({why[n]})" for n in bad)
            + (f"; joined {', '.join(joined)}" if joined else ""),
        )
        for name in invalid:
            report.flag(
                Status.FAIL,
                "",
                f"{name} does not exist on the server ({answers[name]['message']}). The URL's "
                "path is the "
                f"namespace (…{name} joins {name}), -n adds more; if {name} is where the server "
                f"is mounted, use --path {name}/ and the URL without it. On the server a "
                f'namespace exists once used: io.of("{name}") (python-socketio: a handler with '
                "namespace=...)",
            )
        if refused:
            where = "io(url, { auth })" if self.revision == 4 else "the query option"
            names = ", ".join(refused)
            report.flag(
                Status.FAIL,
                "",
                f"no --auth was given, and the server's middleware refused {names}: pass what "
                f"it expects with --auth JSON (socket.io-client: {where})"
                if self.options.auth is None
                else f"the server's middleware refused this --auth on {names}: its message "
                "and data are above; check the token and what the middleware expects "
                f"(socket.io-client: {where})",
            )
        if silent:
            report.flag(
                Status.FAIL,
                "",
                f"no answer to CONNECT for {', '.join(silent)}: a middleware that never calls "
                "next() (Socket.IO 2.x: a middleware on / holds every namespace)",
            )
        if unsent:
            report.flag(Status.FAIL, "", "a namespace starts with '/' and holds no ',' or '?'")

    # --- 9. heartbeat ----------------------------------------------------------------------

    async def check_heartbeat(self, transport: str) -> CheckResult:
        from .transports.driver import Connection

        report = _Report("heartbeat")
        hs, eio = self.handshake, self.revision
        assert hs is not None and eio is not None
        interval, grace = hs.ping_interval / 1000, hs.ping_timeout / 1000
        report.data.update(
            transport=transport, pingInterval=hs.ping_interval, pingTimeout=hs.ping_timeout
        )
        if interval + 0.5 > self.timeout:
            return CheckResult(
                "heartbeat",
                Status.SKIP,
                f"skipped: pingInterval {hs.ping_interval} ms is longer than --timeout "
                f"{self.timeout:g} s; run with --timeout {int(interval + grace + 2)} to see one",
                data=report.data,
            )
        clock = _HeartbeatClock(eio, make_tap(self.options.verbose, self.err))
        connection = Connection(self._session_options(transport), tap=clock.tap)
        try:
            try:
                await connection.open()
            except TransportError as exc:
                report.flag(Status.FAIL, f"no session over {transport}: {exc.message}", exc.hint)
                return report.result()
            opened = clock.marks.get("open", time.monotonic())
            bound = opened + min(self.timeout, interval + grace + 1.0)
            closed = await self._wait_for(connection, clock.beat, bound)
            if eio == 4 and closed is None and "ping" in clock.marks:
                closed = await self._answer_after_ping(connection, clock, grace)
        finally:
            await connection.close(grace=0.5)
        self._judge_heartbeat(report, clock, opened, closed, connection, transport)
        return report.result()

    async def _wait_for(
        self, connection: Connection, flag: asyncio.Event, deadline: float
    ) -> Closed | None:
        """Wait until ``flag`` is set, the session closes, or ``deadline`` (monotonic)."""
        from .transports.errors import Timeout

        while not flag.is_set():
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return None
            try:
                event = await connection.next_event(min(0.05, remaining))
            except Timeout:
                continue
            if isinstance(event, Closed):
                return event
        return None

    async def _answer_after_ping(
        self, connection: Connection, clock: _HeartbeatClock, grace: float
    ) -> Closed | None:
        """Engine.IO 4: the server times our pong, which we cannot see arrive. A CONNECT sent
        right behind it travels the same way: its answer bounds the pong's delivery."""
        main = self.target.namespace
        try:
            connection.act(connection.session.connect, main, self.options.auth)
        except LocalProtocolError:
            return connection.session.close_reason
        from .transports.errors import Timeout

        deadline = time.monotonic() + max(grace, 1.0) + 0.5
        while time.monotonic() < deadline:
            try:
                event = await connection.next_event(min(0.05, deadline - time.monotonic()))
            except Timeout:
                continue
            if (
                isinstance(event, (NamespaceConnected, NamespaceRejected))
                and event.namespace == main
            ):
                clock.marks["answer"] = time.monotonic()
                return None
            if isinstance(event, Closed):
                return event
        return None

    def _judge_heartbeat(
        self,
        report: _Report,
        clock: _HeartbeatClock,
        opened: float,
        closed: Closed | None,
        connection: Connection,
        transport: str,
    ) -> None:
        hs, eio = self.handshake, self.revision
        assert hs is not None
        marks = clock.marks
        report.note(
            f"session over {transport}; pingInterval {hs.ping_interval} ms, "
            f"pingTimeout {hs.ping_timeout} ms"
        )
        ping = marks.get("ping")
        if ping is not None:
            delay = ping - opened
            report.data["interval_ms"] = _round(delay)
            who = "the server's ping" if eio == 4 else "our ping (Engine.IO 3: the client pings)"
            report.note(f"{who} {_ms(delay)} after the handshake")
        if closed is not None:
            detail = f"{closed.reason}" + (f": {closed.detail}" if closed.detail else "")
            report.note(f"the session ended: {detail}")
            if closed.reason == "ping timeout":
                summary = (
                    f"no ping from the server within pingInterval + pingTimeout "
                    f"({hs.ping_interval} + {hs.ping_timeout} ms): clients disconnect with "
                    "'ping timeout'"
                    if eio == 4
                    else "the server did not answer our ping within pingTimeout "
                    f"({hs.ping_timeout} ms)"
                )
                report.flag(Status.FAIL, summary, HEARTBEAT_FIX)
            else:
                failure = connection.failure
                report.flag(
                    Status.FAIL,
                    f"the session ended during the heartbeat: {detail}",
                    failure.hint if failure else HEARTBEAT_FIX,
                )
            return
        if ping is None:
            report.flag(
                Status.WARN,
                f"no heartbeat within --timeout {self.timeout:g} s (the server may take up to "
                f"pingInterval + pingTimeout = {hs.ping_interval + hs.ping_timeout} ms)",
                f"run with --timeout {int((hs.ping_interval + hs.ping_timeout) / 1000 + 2)}",
            )
            return
        delay = ping - opened
        if eio == 3:
            pong = marks.get("pong")
            answer = (pong - ping) if pong is not None else None
        else:
            done = marks.get("answer")
            answer = (done - ping) if done is not None else None
            if answer is not None:
                report.note(
                    f"our pong, and a CONNECT sent behind it, answered within {_ms(answer)}"
                )
        if answer is None and eio == 4:
            # no answer to the CONNECT (a slow middleware?), but the server did not close the
            # session when pingTimeout passed: it got the pong
            report.note(
                "the CONNECT sent behind our pong got no answer; the session outlived "
                "pingTimeout, so the server got the pong"
            )
            report.passed(
                f"one heartbeat in {_ms(delay)} (pingInterval {hs.ping_interval} ms), "
                "and our pong accepted"
            )
            return
        if answer is None:
            report.flag(
                Status.FAIL,
                "nothing came back after the heartbeat within pingTimeout",
                HEARTBEAT_FIX,
            )
            return
        report.data["answer_ms"] = _round(answer)
        if eio == 3:
            report.note(f"the server's pong {_ms(answer)} after our ping")
        if eio == 4 and delay > interval_late(hs):
            report.flag(
                Status.WARN,
                f"the ping came late: {_ms(delay)} after the handshake, "
                f"pingInterval {hs.ping_interval} ms",
                HEARTBEAT_FIX,
            )
        if answer > hs.ping_timeout / 2000:
            report.flag(
                Status.WARN,
                f"the heartbeat's answer took {_ms(answer)}, pingTimeout is {hs.ping_timeout} ms",
                "a slow link or a busy server: a little slower and sessions drop; "
                "a larger pingTimeout on the server gives more room",
            )
        report.passed(
            f"one heartbeat in {_ms(delay)} (pingInterval {hs.ping_interval} ms), answered in "
            f"{_ms(answer)} (pingTimeout {hs.ping_timeout} ms)"
        )


def interval_late(hs: Handshake) -> float:
    """Seconds after the handshake past which an Engine.IO 4 ping is late: halfway into
    pingTimeout (the client gives up at pingInterval + pingTimeout, §2.12)."""
    return (hs.ping_interval + hs.ping_timeout / 2) / 1000


# --- small records the checks pass around ---------------------------------------------------


@dataclass(slots=True)
class _RoundTrip:
    lines: list[str] = field(default_factory=list)
    requests: list[Answer] = field(default_factory=list)
    post_seconds: float = 0.0
    get_seconds: float = 0.0
    problem: str | None = None
    fix: str | None = None

    def fail(self, what: str, answer: Answer) -> None:
        if answer.unknown_session:
            self.problem = (
                f"{what} reached a server instance that does not know the session "
                f"({answer.describe()})"
            )
            self.fix = STICKY_SEE_BELOW
        else:
            self.problem = f"{what} failed: {answer.describe()}"
            self.fix = answer.failure.hint if answer.failure else _http_hint(answer)


@dataclass(slots=True)
class _StickyTrip:
    line: str = ""
    count: int = 0
    unknown: int = 0
    code1: bool = False
    cookies: list[tuple[str, str]] = field(default_factory=list)


@dataclass(slots=True)
class _WsOutcome:
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

    def refused_by(self, refusal: _Refusal) -> None:
        self.failed(refusal.problem, refusal.fix)
        self.disabled, self.refused = refusal.disabled, refusal.status


class _Refusal(NamedTuple):
    """Why a WebSocket did not open: the words, the fix, and whether it is the server's
    own choice (no WebSocket at all); ``status``: an HTTP refusal not named otherwise."""

    problem: str
    fix: str | None
    disabled: bool = False
    status: int | None = None


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


# --- helpers --------------------------------------------------------------------------------


def _round(seconds: float) -> float:
    return round(seconds * 1000, 1)


def _spoken(a4: Answer, a3: Answer) -> set[int]:
    return {a.eio for a in (a4, a3) if a.handshake is not None and a.eio is not None}


def _polling_refused(answer: Answer) -> bool:
    """The server refuses the polling transport itself (transports: ['websocket'])."""
    message = answer.error_message or ""
    return answer.error_code == 0 or message in ("Transport unknown", "Invalid transport")


def _plain_request_answer(answer: Answer) -> bool:
    """An answer written by the server's plain-HTTP path to a WebSocket request: engine.io
    answers real upgrade requests on the raw socket in text/html, never in JSON (§2.11), and
    python-engineio says "Invalid websocket upgrade" / "Invalid transport" when the Upgrade
    header is missing. Either way the request arrived without its Upgrade header."""
    if answer.content_type.startswith("application/json") and answer.error_code is not None:
        return True
    return (answer.error_message or "") in ("Invalid websocket upgrade", "Invalid transport")


def _answers_probe(packets: list[EnginePacket], eio: int) -> bool:
    if eio == 3:
        return any(p.type is EngineType.PONG for p in packets)
    types = (SocketType.CONNECT, SocketType.CONNECT_ERROR)
    return any(p.type in types and p.namespace == "/" for p in _socket_packets(packets, eio))


def _not_engine(answer: Answer) -> str:
    if answer.status == 200 and answer.content_type.startswith("text/html"):
        return "HTTP 200 with a web page: a catch-all route answers, not Engine.IO"
    if answer.status == 200 and answer.problem:
        return f"HTTP 200 but {answer.problem}"
    return answer.describe()


def _http_hint(answer: Answer) -> str | None:
    from .transports.errors import hint_for_http

    if answer.status is None:
        return answer.failure.hint if answer.failure else None
    return hint_for_http(answer.status, answer.error_message, answer.error_code)


def _cookie_summary(header: str) -> tuple[str, str]:
    """``io=abc; Path=/; HttpOnly`` → ``("io", "Path=/; HttpOnly")``: never the value."""
    first, _, rest = header.partition(";")
    name = first.split("=", 1)[0].strip()
    attributes = "; ".join(a.strip() for a in rest.split(";") if a.strip()) or "no attributes"
    return name, attributes


_CERTIFICATE_PROBLEMS = {
    10: ("expired", "renew the server's certificate"),
    9: ("not valid yet", "check the clocks of the server and of this machine"),
    18: (
        "self-signed",
        "trust it with --cacert FILE (Node clients: the ca option or NODE_EXTRA_CA_CERTS), "
        "or skip verification with -k (never in production)",
    ),
    19: (
        "signed by a root this machine does not trust (a private CA, or a TLS-inspecting proxy)",
        "give that root CA with --cacert FILE, or -k to skip verification",
    ),
    20: (
        "issued by a CA this machine does not trust (or the server does not send the "
        "intermediate certificate)",
        "serve the full chain (fullchain.pem), or trust the CA with --cacert FILE; -k skips "
        "verification",
    ),
    62: (
        "for another host name",
        "connect by a name the certificate lists, or reissue it with this name in its "
        "subjectAltName; -k skips the check",
    ),
    64: (
        "not for this IP address",
        "connect by a name the certificate lists, or reissue it with this IP address in its "
        "subjectAltName; -k skips the check",
    ),
}
_CERTIFICATE_PROBLEMS[21] = _CERTIFICATE_PROBLEMS[20]


def _certificate_problem(exc: ssl.SSLCertVerificationError) -> tuple[str, str]:
    known = _CERTIFICATE_PROBLEMS.get(exc.verify_code)
    if known is not None:
        return known
    failure = tls_error(exc, "the server")
    return f"not trusted ({exc.verify_message})", failure.hint or "--cacert FILE or -k"


def _certificate_details(writer: Any, seconds: float) -> dict[str, Any]:
    ssl_object = writer.get_extra_info("ssl_object")
    version = ssl_object.version() if ssl_object is not None else "?"
    cert = ssl_object.getpeercert() if ssl_object is not None else None
    details: dict[str, Any] = {"version": version}
    line = f"TLS: {version} in {_ms(seconds)}"
    if cert:  # empty when verification is off (-k): nothing was checked to show
        names = [
            value for kind, value in cert.get("subjectAltName", ()) if kind in ("DNS", "IP Address")
        ]
        issuer = dict(part[0] for part in cert.get("issuer", ()) if part)
        not_after = cert.get("notAfter")
        days = None
        if isinstance(not_after, str):
            days = int((ssl.cert_time_to_seconds(not_after) - time.time()) // 86400)
        details.update(
            names=names,
            issuer=issuer.get("organizationName") or issuer.get("commonName"),
            not_after=not_after,
            days_left=days,
        )
        line += (
            f"; certificate for {', '.join(names) or '?'}, issued by {details['issuer']}, "
            f"valid until {not_after}"
        )
    details["line"] = line
    return details


def _closed_words(exc: BaseException) -> str:
    code = getattr(getattr(exc, "rcvd", None), "code", None)
    return f"close code {code}" if code is not None else (str(exc) or type(exc).__name__)


async def _close_ws(ws: ClientConnection) -> None:
    with contextlib.suppress(Exception):
        await asyncio.wait_for(ws.close(), 1)
    ws.transport.abort()
