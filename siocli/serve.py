"""``siocli serve``: a Socket.IO server to try a client against, in one command.

Every event is echoed back, except one that asks for an ack: that one is acked with its
args instead;
``--emit-every`` streams server events; ``-n NSP`` adds namespaces, ``--auth`` makes
them require a CONNECT payload. What each client does prints as it happens (``-v``: every
wire message, annotated as ``decode`` shows it).

``--profile protocol-test-suite`` is the configuration and behaviour the official Engine.IO
and Socket.IO test suites expect (engine.io-protocol and socket.io-protocol, ``test-suite/``): an
Engine.IO echo server on
``/engine.io/`` and a Socket.IO server on ``/socket.io/``, with the short heartbeat they use.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from functools import partial
from typing import IO, Any

from .exit import ExitStatus, cannot_listen, until_stopped
from .protocol.engine_server import EngineServer, MessageReceived, WireSeen
from .protocol.server import (
    AppEvent,
    ClientAck,
    ClientBroke,
    ClientEvent,
    ClientJoined,
    ClientLeft,
    ClientRefused,
    Refusal,
    SocketServer,
)
from .protocol.types import Parser
from .render.events import EventPrinter
from .render.tap import WireView
from .transports.cors import CorsPolicy, CorsSeen
from .transports.server import Endpoint, FrontEnd

__all__ = ["PROFILES", "ServeOptions", "run_serve"]

PROFILES = ("protocol-test-suite",)


@dataclass(frozen=True, slots=True)
class ServeOptions:
    host: str = "127.0.0.1"
    port: int = 3000
    path: str = "/socket.io/"
    eio: int | None = 4  # 3, 4, or None: both (allowEIO3)
    parser: Parser = Parser.DEFAULT  # the Socket.IO packet encoding
    namespaces: tuple[str, ...] = ()
    auth: dict[str, Any] | None = None  # required on the -n namespaces
    ping_interval: int = 25000
    ping_timeout: int = 20000
    max_payload: int = 1_000_000
    cors: tuple[str, ...] = ()  # the page origins allowed; empty: any (reflected)
    emit_every: tuple[tuple[float, str, tuple[Any, ...]], ...] = ()
    recover: float | None = None  # connection state recovery: maxDisconnectionDuration (s)
    profile: str | None = None
    as_json: bool = False
    verbose: bool = False
    quiet: bool = False
    traceback: bool = False  # a bug while serving a client: its traceback, not one line
    no_color: bool = False  # --no-color: the -v view without colours


def _authorize(options: ServeOptions, sid: str, namespace: str, auth: Any) -> Refusal | None:
    """Who may join: '/' always; the --namespace ones, with --auth when asked for."""
    if namespace == "/":
        return None
    if namespace not in options.namespaces:
        raise KeyError(namespace)
    required = options.auth
    if required is not None and not _satisfies(auth, required):
        return Refusal("not authorized", {"required": sorted(required)})
    return None


@dataclass
class _EchoApp:
    """The default behaviour: echo, ack, stream; and say what clients do."""

    server: SocketServer
    printer: EventPrinter
    options: ServeOptions
    on_join_emit: str | None = None  # the test suite's 'auth' event
    echo_as: dict[str, str] = field(default_factory=dict)  # event -> the name to echo with
    echo_all: bool = True
    wire: WireView | None = None

    def _socket_id(self, sid: str, namespace: str) -> str:
        client = self.server.clients.get(sid)
        return client.sockets.get(namespace, sid) if client is not None else sid

    def after(self) -> None:
        server = self.server
        for event in server.events_received():
            if isinstance(event, WireSeen):
                if self.wire is not None:
                    session = server.engine.sessions.get(event.sid)
                    self.wire.seen(event, session.eio if session is not None else 4)
                continue
            self._respond(event)
            if not self.options.quiet:
                self.printer.write({"t": self.printer.elapsed(), **self._record(event)})

    def _respond(self, event: AppEvent) -> None:
        server = self.server
        if isinstance(event, ClientJoined):
            if self.on_join_emit is not None:
                server.emit(event.sid, event.namespace, self.on_join_emit, event.auth or {})
        elif isinstance(event, ClientEvent):
            if event.ack_id is not None:
                server.ack(event.sid, event.namespace, event.ack_id, *event.args)
            name = self.echo_as.get(str(event.name))
            if name is None and self.echo_all and event.ack_id is None:
                name = str(event.name)
            if name is not None:
                server.emit(event.sid, event.namespace, name, *event.args)
        elif (
            isinstance(event, ClientLeft)
            and self.wire is not None
            and event.sid not in server.clients
        ):
            self.wire.forget(event.sid)  # the session is over

    def _record(self, event: AppEvent) -> dict[str, Any]:
        """What a client did, for the live view."""
        if isinstance(event, ClientJoined):
            joined: dict[str, Any] = {
                "type": "join",
                "sid": event.socket_id,
                "nsp": event.namespace,
                "auth": event.auth,
                "eio": event.eio,
            }
            asked = event.asked_eio
            if asked is not None:
                joined["asked_eio"] = asked
                joined["note"] = (
                    f"the client asked for EIO={asked} (a Socket.IO 3.x/4.x client) and got "
                    f"Engine.IO {event.eio}: it needs serve --eio {asked} (or both: --eio both)"
                )
            if event.recovered is not None:  # the client asked to recover a session
                joined["recovered"] = event.recovered
                if event.recovered:
                    joined["missed"] = event.missed  # sent again, before the answer
                else:
                    joined["why"] = event.why
            return joined
        if isinstance(event, ClientEvent):
            return {
                "type": "event",
                "sid": self._socket_id(event.sid, event.namespace),
                "nsp": event.namespace,
                "event": event.name,
                "args": event.args,
                "id": event.ack_id,
            }
        if isinstance(event, ClientAck):
            return {
                "type": "ack",
                "sid": self._socket_id(event.sid, event.namespace),
                "nsp": event.namespace,
                "id": event.ack_id,
                "args": event.args,
            }
        if isinstance(event, ClientRefused):
            refused: dict[str, Any] = {"type": "refuse", "sid": event.sid, "nsp": event.namespace}
            refused["message"] = event.message
            if event.data is not None:
                refused["data"] = event.data
            return refused
        if isinstance(event, ClientBroke):
            broke = {"type": "protocol_error", "sid": event.sid, "reason": event.reason}
            if "the peer uses the MessagePack parser" in event.reason:
                broke["hint"] = "the client speaks MessagePack: serve --parser msgpack"
            elif "under the MessagePack parser" in event.reason:
                broke["hint"] = "the client speaks the default parser: serve without --parser"
            return broke
        assert isinstance(event, ClientLeft)
        left: dict[str, Any] = {
            "type": "leave",
            "sid": event.socket_id,
            "nsp": event.namespace,
            "reason": event.reason,
        }
        if event.kept:
            left["kept_for"] = self.options.recover  # seconds it may come back and recover
        return left


def _satisfies(auth: Any, required: dict[str, Any]) -> bool:
    """Protocol 5 sends a JSON object; protocol 4 a query string (every value a string)."""
    if not isinstance(auth, dict):
        return False
    return all(k in auth and (auth[k] == v or auth[k] == str(v)) for k, v in required.items())


@dataclass
class _EngineEcho:
    """The Engine.IO test suite's server: every message echoed, nothing else."""

    engine: EngineServer

    def after(self) -> None:
        for event in self.engine.events_received():
            if isinstance(event, MessageReceived):
                self.engine.send(event.sid, event.data)


def _configured(options: ServeOptions) -> ServeOptions:
    if options.profile == "protocol-test-suite":
        # The suites' server: pingInterval 300 ms, pingTimeout 200 ms, maxPayload 1e6,
        # a /custom namespace, EIO=4 (socket.io-protocol ``test-suite/``, its README).
        from dataclasses import replace

        return replace(
            options,
            ping_interval=300,
            ping_timeout=200,
            max_payload=1_000_000,
            namespaces=(*options.namespaces, "/custom"),
            eio=4,
        )
    return options


def build(
    options: ServeOptions, printer: EventPrinter, wire: WireView | None = None
) -> list[Endpoint]:
    """The endpoints (paths and their servers) ``options`` describes."""
    options = _configured(options)

    def engine() -> EngineServer:
        return EngineServer(
            eio=options.eio,
            ping_interval=options.ping_interval,
            ping_timeout=options.ping_timeout,
            max_payload=options.max_payload,
            wire=options.verbose,
        )

    suite = options.profile == "protocol-test-suite"
    server = SocketServer(
        engine(),
        partial(_authorize, options),
        connect_timeout=1.0 if suite else 45.0,
        recover=options.recover,
        parser=options.parser,
    )
    app = _EchoApp(server, printer, options, wire=wire)
    if suite:
        app.on_join_emit = "auth"
        app.echo_as = {"message": "message-back"}
        app.echo_all = False
    endpoints = [Endpoint(options.path, server, app.after, options.max_payload)]
    if suite:
        # the suites' clients read one message per socket read (engine.io-protocol
        # ``test-suite/test-suite.js``)
        endpoints[0].frame_gap = 0.005
    if suite:
        echo = _EngineEcho(engine())
        endpoints.append(Endpoint("/engine.io/", echo.engine, echo.after, options.max_payload))
    return endpoints


async def serve(
    options: ServeOptions, out: IO[str], err: IO[str], *, ready: asyncio.Future[int] | None = None
) -> ExitStatus:
    printer = EventPrinter(out, as_json=options.as_json, quiet=options.quiet)
    wire = WireView(err, no_color=options.no_color) if options.verbose else None
    endpoints = build(options, printer, wire)
    cors = CorsPolicy(options.cors)
    front = FrontEnd(
        endpoints,
        options.host,
        options.port,
        errors=err,
        traceback=options.traceback,
        cors=cors,
        cors_seen=CorsView(printer, wire).seen,
    )
    try:
        port = await front.start()
    except OSError as exc:
        raise cannot_listen(options.host, options.port, exc) from None
    paths = ", ".join(e.path for e in endpoints)
    printer.write(  # even with -q: it says where (with --port 0, which port)
        {
            "t": printer.elapsed(),
            "type": "listening",
            "url": f"http://{options.host}:{port}",
            "paths": paths,
            "eio": options.eio if options.eio else "3 and 4",
            "cors": cors.describe(),
        }
    )
    if wire is not None:
        wire.note(f"── CORS: {cors.describe()}")
    if ready is not None:
        ready.set_result(port)
    configured = _configured(options)
    namespaces = ("/", *(n for n in configured.namespaces if n != "/"))
    streams = [
        asyncio.ensure_future(_emit_every(front, endpoints[0], every, namespaces))
        for every in configured.emit_every
    ]
    try:
        await until_stopped()
    finally:
        for task in streams:
            task.cancel()
        await front.close()
    return ExitStatus.INTERRUPTED


async def _emit_every(
    front: FrontEnd,
    endpoint: Endpoint,
    every: tuple[float, str, tuple[Any, ...]],
    namespaces: tuple[str, ...],
) -> None:
    seconds, event, args = every
    server = endpoint.server
    assert isinstance(server, SocketServer)
    while True:
        await asyncio.sleep(seconds)
        for namespace in namespaces:
            # to sockets away too: with --recover they get it when they come back
            server.broadcast(namespace, event, *args)
        front.pump(endpoint)


@dataclass
class CorsView:
    """What browsers asked of CORS: a refusal in the live view (even with -q: it is why a
    page cannot connect), and with -v every preflight on stderr."""

    printer: EventPrinter
    wire: WireView | None = None  # -v

    def seen(self, seen: CorsSeen) -> None:
        if seen.refused is not None:
            record: dict[str, Any] = {
                "t": self.printer.elapsed(),
                "type": "cors_refused",
                "origin": seen.origin,
                "method": seen.method,
                "preflight": seen.preflight,
                "reason": seen.refused,
            }
            if seen.headers:
                record["headers"] = seen.headers
            self.printer.write(record)
        if self.wire is not None and seen.preflight:
            asked = f"{seen.method}" + (f" with headers {seen.headers}" if seen.headers else "")
            verdict = f"refused: {seen.refused}" if seen.refused else "allowed"
            self.wire.note(f"── CORS preflight from {seen.origin} for {asked}: {verdict}")


def run_serve(options: ServeOptions, out: IO[str], err: IO[str]) -> ExitStatus:
    return asyncio.run(serve(options, out, err))
