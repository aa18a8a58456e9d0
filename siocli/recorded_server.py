"""``siocli replay RECORDING --serve``: be the recorded server for a client under test.

The recording's Socket.IO packets, read as ``replay`` reads them (:func:`script_of`), split
into what the client did (``c2s`` steps: expected) and what the server did (``s2c`` steps:
played). Every client session gets its own :class:`Playback`:

- a namespace CONNECT is answered as recorded: the socket joins, or gets the recorded
  CONNECT_ERROR (message and data); a namespace the recording never joined gets the
  reference server's "Invalid namespace";
- when the client does what a recorded client step did (matched at the Socket.IO level:
  kind, namespace, event name; args compared with session ids, ack ids and redacted secrets
  normalised), the server steps recorded after it, up to the next client step, play at their
  recorded offsets from it (``fast``: at once). Server acks answer the client's actual ack
  ids; server events that asked for an ack ask again, and the client's answer is matched;
- recorded session ids in what is played are the actual session's ids (a ``welcome``
  carrying the socket id carries the new one).

What the client does that the recording did not expect — other args, another order within a
namespace, events or namespaces it never had — is a divergence; recorded client steps never
done are reported when the session ends. :class:`Playback` is sans-I/O (actions in, steps to
play out); :class:`RecordedServerApp` drives it from a
:class:`~siocli.protocol.server.SocketServer`.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import IO, Any

from .exit import ExitStatus, cannot_listen, until_stopped
from .protocol.engine_server import WireSeen
from .protocol.server import (
    ClientAck,
    ClientEvent,
    ClientJoined,
    ClientLeft,
    Refusal,
    SocketServer,
)
from .protocol.socketio import connect_error_fields
from .protocol.types import Direction, Handshake
from .recording import REDACTED, Recording, replace_in_strings
from .render.tap import WireView
from .script import (
    ENGINE_SID,
    Normaliser,
    ReplayReport,
    Step,
    StepResult,
    collect_recorded_sids,
    comparable,
    handshake_of,
    script_of,
    socket_id_role,
)

__all__ = [
    "Play",
    "Playback",
    "RecordedServerApp",
    "RecordedServerOptions",
    "Script",
    "run_recorded_server",
]

_ANSWERS = ("connect", "connect_error")  # server steps the CONNECT handling itself plays


@dataclass(frozen=True, slots=True)
class RecordedServerOptions:
    host: str = "127.0.0.1"
    port: int = 3000
    path: str | None = None  # default: the recording's handshake path
    fast: bool = False
    strict: bool = False
    ignore: tuple[str, ...] = ()
    clients: int | None = None  # stop after this many client sessions ended
    as_json: bool = False
    quiet: bool = False
    verbose: bool = False
    junit: str | None = None
    traceback: bool = False  # a bug while serving a client: its traceback, not one line
    no_color: bool = False  # --no-color: the -v view without colours


class Script:
    """A recording, ready to be played: its steps, each client step's answers, its ids."""

    def __init__(self, recording: Recording, ignore: tuple[str, ...] = ()) -> None:
        self.name = recording.name
        self.eio = recording.eio
        self.handshake: Handshake | None = handshake_of(recording)
        self.steps = script_of(recording)
        self.ignore = ignore
        self.client_steps = [s for s in self.steps if s.direction is Direction.C2S]
        self.recorded = Normaliser(ignore)  # recorded ids -> roles, for comparisons
        collect_recorded_sids(recording, self.steps, self.recorded)
        # What each client step (0: the handshake) makes the server do. An ACK answers its
        # event; anything else follows the client's latest step in its namespace. Polling
        # batches make the recorded order lie: an ack recorded after the client's next
        # event still answers the one before, and a client waiting for it must get it.
        self.answers: dict[int, list[Step]] = {0: []}
        latest: dict[str, int] = {}  # namespace -> its latest client step
        anywhere = 0
        for step in self.steps:
            if step.direction is Direction.C2S:
                latest[step.namespace] = anywhere = step.number
                self.answers[step.number] = []
            elif step.kind == "ack" and step.answers is not None:
                self.answers[step.answers.number].append(step)
            else:
                self.answers[latest.get(step.namespace, anywhere)].append(step)

    def outcome(self, connect: Step, used: set[int]) -> Step | None:
        """The server's recorded answer (connect or connect_error) to a client CONNECT."""
        return next(
            (
                s
                for s in self.steps
                if s.number > connect.number
                and s.direction is Direction.S2C
                and s.kind in _ANSWERS
                and s.namespace == connect.namespace
                and s.number not in used
            ),
            None,
        )


@dataclass(frozen=True, slots=True)
class Play:
    """A recorded server step to play ``delay`` seconds after the action that caused it."""

    step: Step
    delay: float


class Playback:
    """One client session's way through a :class:`Script` (no I/O).

    The caller reports what the client does (:meth:`connect`, :meth:`joined`, :meth:`event`,
    :meth:`ack`, :meth:`left`) and plays the :class:`Play` values it gets back; divergences
    accumulate in ``results`` (recorded client steps, matched or not) and ``unexpected``.
    """

    def __init__(self, script: Script, number: int, sid: str, *, fast: bool = False) -> None:
        self.script = script
        self.number = number
        self.sid = sid
        self.fast = fast
        self.started = time.monotonic()
        self.revision_said = False  # the client's other EIO= was said
        self.results: list[StepResult] = []
        self.unexpected: list[StepResult] = []
        self.matched: set[int] = set()
        self.used: set[int] = set()  # server connect/connect_error steps given as answers
        self.actual = Normaliser(script.ignore)
        self.actual.sid(sid, ENGINE_SID)
        self.ids: dict[str, str] = {ENGINE_SID: sid}  # role -> actual id
        self.client_ack: dict[int, int] = {}  # recorded client event step -> actual ack id
        self.asked: dict[tuple[str, int], Step] = {}  # (nsp, our ack id) -> server step
        self.last_outcome: dict[str, Step] = {}  # nsp -> its latest recorded CONNECT answer
        self.new_results: list[StepResult] = []  # for the live view, taken by the caller
        self.secrets: set[str] = set()  # the client's values where the recording redacted

    # --- what the client does ------------------------------------------------------------

    def connect(self, namespace: str, auth: Any) -> tuple[Refusal | None, list[Play]]:
        """A CONNECT: the recorded answer, and what the server did next.

        Raises ``KeyError`` for a namespace the recording never joined ("Invalid namespace").
        """
        step = self._next("connect", namespace)
        if step is None:
            if self.script.eio == 3 and namespace == "/" and "/" not in self.last_outcome:
                # Socket.IO 2.x joins '/' at the handshake: the recording starts there
                answer = next((s for s in self.script.answers[0] if s.kind in _ANSWERS), None)
                if answer is not None:
                    self.used.add(answer.number)
                    self.last_outcome["/"] = answer
                return None, self._plays(0)
            answer = self.last_outcome.get(namespace)
            what = Step(0, Direction.C2S, 0.0, "connect", namespace, auth=auth)
            self._unexpected(what, "not in the recording", {"auth": self._auth(auth)})
            if answer is None:
                raise KeyError(namespace)
            return _refusal(answer), []
        self._match(step, {"auth": self._recorded_auth(step)}, {"auth": self._auth(auth, step)})
        answer = self.script.outcome(step, self.used)
        plays = self._plays(step.number)
        if answer is None:
            return None, plays  # the recording ends before the server answered
        self.used.add(answer.number)
        self.last_outcome[namespace] = answer
        return _refusal(answer), plays

    def joined(self, namespace: str, socket_id: str) -> None:
        self.ids[socket_id_role(namespace)] = socket_id
        self.actual.sid(socket_id, socket_id_role(namespace))

    def event(self, namespace: str, name: Any, args: list[Any], ack_id: int | None) -> list[Play]:
        step = self._next("event", namespace, name)
        actual = {**comparable("event", name, args, None, self.actual), "ack": ack_id is not None}
        if step is None:
            what = Step(0, Direction.C2S, 0.0, "event", namespace, name, args, ack_id)
            self._unexpected(what, "not in the recording", actual)
            return []
        if ack_id is not None:
            self.client_ack[step.number] = ack_id
        self._match(step, self._recorded(step), actual)
        return self._plays(step.number)

    def ack(self, namespace: str, ack_id: int, args: list[Any]) -> list[Play]:
        question = self.asked.pop((namespace, ack_id), None)
        step = (
            self._next("ack", namespace, answers=question.number) if question is not None else None
        )
        asked = question.name if question is not None else None
        actual = comparable("ack", None, args, asked, self.actual)
        if step is None:
            what = Step(0, Direction.C2S, 0.0, "ack", namespace, args=args, question=asked)
            self._unexpected(what, "not in the recording", actual)
            return []
        expected = comparable("ack", None, step.args, step.question, self.script.recorded)
        self._match(step, expected, actual)
        return self._plays(step.number)

    def left(self, namespace: str) -> list[Play]:
        step = self._next("disconnect", namespace)
        if step is None:
            what = Step(0, Direction.C2S, 0.0, "disconnect", namespace)
            self._unexpected(what, "not in the recording", {})
            return []
        self._match(step, {}, {})
        return self._plays(step.number)

    def asked_ack(self, step: Step, namespace: str, ack_id: int) -> None:
        """A played server event asked for an ack with ``ack_id``."""
        self.asked[(namespace, ack_id)] = step

    def client_ack_id(self, step: Step) -> int | None:
        """The ack id the client used for the event a recorded server ACK answers."""
        return self.client_ack.get(step.answers.number) if step.answers is not None else None

    def end(self, *, left: bool = True) -> ReplayReport:
        """The session is over (``left``: the client closed it): the recorded client steps
        never done, and the report."""
        for step in self.script.client_steps:
            if step.number in self.matched:
                continue
            if (
                left
                and step.kind == "disconnect"
                and self._last_in_namespace(step)
                and socket_id_role(step.namespace) in self.ids  # joined: there is one to leave
            ):
                # closing the connection leaves every namespace: servers see the same
                self._result(step, True, "left by closing the connection")
            else:
                self._result(step, False, "the client never did this", self._recorded(step))
        report = ReplayReport(f"{self.script.name} · client {self.number} (sid {self.sid})")
        report.results = sorted(self.results, key=lambda r: r.step.number)
        report.unexpected = self.unexpected
        report.duration = time.monotonic() - self.started
        return report

    def _last_in_namespace(self, step: Step) -> bool:
        return not any(
            s.number > step.number and s.namespace == step.namespace
            for s in self.script.client_steps
        )

    # --- what the server plays -----------------------------------------------------------

    def outgoing(self, value: Any) -> Any:
        """``value`` with the recorded session ids replaced by this session's, and a
        redacted secret by the client's own (when it gave one: which is then unambiguous)."""
        mapping = {
            recorded: self.ids[role]
            for recorded, role in self.script.recorded.sids.items()
            if role in self.ids
        }
        if len(self.secrets) == 1:
            mapping[REDACTED] = next(iter(self.secrets))
        return replace_in_strings(value, mapping) if mapping else value

    def take_new_results(self) -> list[StepResult]:
        new, self.new_results = self.new_results, []
        return new

    # --- matching ------------------------------------------------------------------------

    def _next(
        self, kind: str, namespace: str, name: Any = None, answers: int | None = None
    ) -> Step | None:
        """The first recorded client step not yet done that this action matches."""
        for step in self.script.client_steps:
            if (
                step.number not in self.matched
                and step.kind == kind
                and step.namespace == namespace
                and (kind != "event" or step.name == name)
                and (answers is None or (step.answers and step.answers.number == answers))
            ):
                return step
        return None

    def _match(self, step: Step, expected: Any, actual: Any) -> None:
        self.matched.add(step.number)
        earlier = next(
            (
                s
                for s in self.script.client_steps
                if s.number < step.number
                and s.namespace == step.namespace
                and s.number not in self.matched
            ),
            None,
        )
        if expected != actual:
            self._result(step, False, "differs from the recording", expected, actual)
        elif earlier is not None:
            self._result(
                step,
                False,
                f"out of order: the recorded client did step {earlier.number} "
                f"({earlier.label()}) first",
            )
        else:
            self._result(step, True, "as recorded")

    def _plays(self, after: int) -> list[Play]:
        steps = [s for s in self.script.answers.get(after, []) if s.kind not in _ANSWERS]
        if not steps:
            return []
        anchor = self.script.steps[after - 1].time if after else steps[0].time
        return [Play(s, 0.0 if self.fast else max(0.0, s.time - anchor)) for s in steps]

    def _recorded(self, step: Step) -> Any:
        if step.kind == "connect":
            return {"auth": self._recorded_auth(step)}
        if step.kind == "disconnect":
            return {}
        shown = comparable(step.kind, step.name, step.args, step.question, self.script.recorded)
        if step.kind == "event":
            shown["ack"] = step.ack_id is not None  # did the client ask for an ack?
        return shown

    def _recorded_auth(self, step: Step) -> Any:
        # no CONNECT payload is an empty one: the reference's handshake.auth is {} then
        return self.script.recorded.args(None, [step.auth if step.auth is not None else {}])[0]

    def _auth(self, auth: Any, step: Step | None = None) -> Any:
        """The client's auth, compared: where the recording redacted a value, so do we."""
        recorded = step.auth if step is not None else None
        if isinstance(auth, dict) and isinstance(recorded, dict):
            for key, value in recorded.items():
                if value == REDACTED and isinstance(auth.get(key), str):
                    self.actual.secret(auth[key])
                    self.secrets.add(auth[key])
        return self.actual.args(None, [auth if auth is not None else {}])[0]

    def _result(
        self, step: Step, ok: bool, message: str, expected: Any = None, actual: Any = None
    ) -> None:
        result = StepResult(step, ok, message, expected, actual)
        self.results.append(result)
        self.new_results.append(result)

    def _unexpected(self, what: Step, message: str, actual: Any) -> None:
        result = StepResult(what, False, message, None, actual)
        self.unexpected.append(result)
        self.new_results.append(result)


def _refusal(answer: Step) -> Refusal | None:
    if answer.kind != "connect_error":
        return None
    message, data = connect_error_fields(answer.args[0] if answer.args else None)
    return Refusal("" if message is None else message, data)


# --- driving it from a server ------------------------------------------------------------


Report = Callable[[Playback, "StepResult | Play"], None]


@dataclass
class RecordedServerApp:
    """The application behind the front end: a :class:`Playback` per client session."""

    script: Script
    fast: bool
    report: Report  # called for each step result and each step played
    ended: Callable[[Playback, ReplayReport], None]
    server: SocketServer = field(init=False)
    pump: Callable[[], None] = lambda: None  # flushes what was played (set by the front end)
    wire: WireView | None = None  # -v: every wire message
    # a client asked for another Engine.IO revision (its EIO=) than the recording's
    mismatch: Callable[[Playback, str], None] = lambda playback, asked: None
    playbacks: dict[str, Playback] = field(default_factory=dict)
    _tasks: set[asyncio.Task[None]] = field(default_factory=set)
    _count: int = 0

    def authorize(self, sid: str, namespace: str, auth: Any) -> Refusal | None:
        playback = self._playback(sid)
        try:
            refusal, plays = playback.connect(namespace, auth)
        finally:
            self._show(playback)
        self._schedule(playback, plays)
        return refusal

    def after(self) -> None:
        server = self.server
        for event in server.events_received():
            if isinstance(event, WireSeen):
                if self.wire is not None:
                    self.wire.seen(event, self.script.eio)
                continue
            playback = self.playbacks.get(event.sid)
            if playback is None:
                continue
            if isinstance(event, ClientJoined):
                asked = event.asked_eio
                if asked is not None and not playback.revision_said:
                    playback.revision_said = True
                    self.mismatch(playback, asked)
                playback.joined(event.namespace, event.socket_id)
                continue
            if isinstance(event, ClientEvent):
                plays = playback.event(event.namespace, event.name, event.args, event.ack_id)
            elif isinstance(event, ClientAck):
                plays = playback.ack(event.namespace, event.ack_id, event.args)
            elif isinstance(event, ClientLeft) and event.reason == "client namespace disconnect":
                plays = playback.left(event.namespace)
            else:
                continue
            self._show(playback)
            self._schedule(playback, plays)
        for sid in [sid for sid in self.playbacks if sid not in server.clients]:
            self._finish(sid, left=True)

    def close(self) -> None:
        """Stop playing; the sessions still open end here."""
        for task in self._tasks:
            task.cancel()
        for sid in list(self.playbacks):
            self._finish(sid, left=False)

    def _finish(self, sid: str, *, left: bool) -> None:
        if self.wire is not None:
            self.wire.forget(sid)
        playback = self.playbacks.pop(sid)
        report = playback.end(left=left)
        self._show(playback)
        self.ended(playback, report)

    def _playback(self, sid: str) -> Playback:
        playback = self.playbacks.get(sid)
        if playback is None:
            self._count += 1
            playback = self.playbacks[sid] = Playback(self.script, self._count, sid, fast=self.fast)
        return playback

    def _show(self, playback: Playback) -> None:
        for result in playback.take_new_results():
            self.report(playback, result)

    def _schedule(self, playback: Playback, plays: list[Play]) -> None:
        if plays:
            task = asyncio.get_running_loop().create_task(self._play(playback, plays))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    async def _play(self, playback: Playback, plays: list[Play]) -> None:
        start = time.monotonic()
        for play in plays:
            wait = play.delay - (time.monotonic() - start)
            if wait > 0:
                await asyncio.sleep(wait)
            if playback.sid not in self.server.clients:
                return  # the client has gone
            self._send(playback, play.step)
            self.report(playback, play)
            self.pump()

    def _send(self, playback: Playback, step: Step) -> None:
        server, sid, namespace = self.server, playback.sid, step.namespace
        if step.kind == "event":
            args = playback.outgoing(step.args)
            asked = server.emit(sid, namespace, step.name, *args, ack=step.ack_id is not None)
            if asked is not None and step.ack_id is not None:
                playback.asked_ack(step, namespace, asked)
        elif step.kind == "ack":
            ack_id = playback.client_ack_id(step)
            if ack_id is not None:
                server.ack(sid, namespace, ack_id, *playback.outgoing(step.args))
        elif step.kind == "disconnect":
            server.disconnect(sid, namespace)
        elif step.kind == "close":
            server.engine.close(sid, "forced close")


# --- the command -------------------------------------------------------------------------


class _LiveView:
    """What clients do, step by step, as it happens; a verdict per client session."""

    def __init__(self, out: IO[str], options: RecordedServerOptions) -> None:
        from .render.events import EventPrinter

        self.out = out
        self.options = options
        self.printer = EventPrinter(out, as_json=options.as_json)
        self.reports: list[ReplayReport] = []

    def step(self, playback: Playback, item: StepResult | Play) -> None:
        from .render.replay import result_lines

        if self.options.quiet and (isinstance(item, Play) or item.ok):
            return
        if self.options.as_json:
            self.printer.write(self._record(playback, item))
            return
        head = f"{self.printer.elapsed():9.3f}s  client {playback.number}"
        if isinstance(item, Play):
            self.out.write(f"{head}  ▸ {item.step.number:>3} {item.step.label()}: played\n")
        else:
            self.out.write(result_lines(item, first=f"{head}  "))
        self.out.flush()

    def mismatch(self, playback: Playback, asked: str) -> None:
        eio = playback.script.eio
        note = (
            f"the client asked for EIO={asked} ("
            + ("a Socket.IO 3.x/4.x client" if asked == "4" else f"Engine.IO {asked}")
            + f") and got this recording's Engine.IO {eio}, which it cannot follow: "
            f"play it a recording made with its own Socket.IO version"
        )
        if self.options.as_json:
            self.printer.write(
                {
                    "t": self.printer.elapsed(),
                    "type": "eio_mismatch",
                    "client": playback.number,
                    "asked_eio": asked,
                    "eio": eio,
                    "note": note,
                }
            )
            return
        self.out.write(f"{self.printer.elapsed():9.3f}s  client {playback.number}  ! {note}\n")
        self.out.flush()

    def ended(self, playback: Playback, report: ReplayReport) -> None:
        self.reports.append(report)
        if self.options.as_json:
            self.printer.write(
                {
                    "t": self.printer.elapsed(),
                    "type": "client_end",
                    "client": playback.number,
                    "sid": playback.sid,
                    "ok": report.ok,
                    "as_recorded": sum(r.ok for r in report.results),
                    "steps": len(report.results),
                    "unexpected": len(report.unexpected),
                }
            )
            return
        from .render.replay import write_verdict

        write_verdict(
            report, self.out, f"{self.printer.elapsed():9.3f}s  client {playback.number}  "
        )
        self.out.flush()

    def _record(self, playback: Playback, item: StepResult | Play) -> dict[str, Any]:
        from .render.replay import step_record

        if isinstance(item, Play):
            step = item.step
            return {
                "t": self.printer.elapsed(),
                "type": "played",
                "client": playback.number,
                "step": step.number,
                "kind": step.kind,
                "nsp": step.namespace,
                "event": step.name if step.kind == "event" else None,
            }
        record = step_record(playback.script.name, item, unexpected=item.step.number == 0)
        return {"t": self.printer.elapsed(), "type": "step", "client": playback.number, **record}


async def serve_recording(
    recording: Recording,
    options: RecordedServerOptions,
    out: IO[str],
    err: IO[str],
    *,
    ready: asyncio.Future[int] | None = None,
) -> ExitStatus:
    """Serve ``recording`` until Ctrl-C/SIGTERM, or until ``options.clients`` sessions end."""
    from .protocol.engine_server import EngineServer
    from .render.events import EventPrinter
    from .transports.server import Endpoint, FrontEnd

    script = Script(recording, options.ignore)
    view = _LiveView(out, options)
    done = asyncio.get_running_loop().create_future()

    def ended(playback: Playback, report: ReplayReport) -> None:
        view.ended(playback, report)
        enough = options.clients is not None and len(view.reports) >= options.clients
        if enough and not done.done():
            done.set_result(None)

    handshake = script.handshake
    engine = EngineServer(
        eio=script.eio,
        ping_interval=handshake.ping_interval if handshake else 25000,
        ping_timeout=handshake.ping_timeout if handshake else 20000,
        max_payload=(handshake.max_payload if handshake else None) or 1_000_000,
        wire=options.verbose,
    )
    app = RecordedServerApp(script, options.fast, view.step, ended, mismatch=view.mismatch)
    app.server = SocketServer(engine, app.authorize, parser=recording.parser)
    app.wire = WireView(err, no_color=options.no_color) if options.verbose else None
    path = options.path or str((recording.header.get("options") or {}).get("path") or "/socket.io/")
    endpoint = Endpoint(path, app.server, app.after, engine.max_payload)
    front = FrontEnd(
        [endpoint], options.host, options.port, errors=err, traceback=options.traceback
    )
    app.pump = lambda: front.pump(endpoint)
    try:
        port = await front.start()
    except OSError as exc:
        raise cannot_listen(options.host, options.port, exc) from None
    status = EventPrinter(err if options.as_json else out, as_json=options.as_json)
    status.note(
        "serving",
        recording=recording.name,
        url=f"http://{options.host}:{port}",
        path=path,
        eio=script.eio,
        steps=len(script.steps),
    )
    if ready is not None:
        ready.set_result(port)
    try:
        await until_stopped(done, term=True)
    finally:
        app.close()
        await front.close()
    return _summary(view.reports, options, err if options.as_json else out, err)


def _summary(
    reports: list[ReplayReport], options: RecordedServerOptions, out: IO[str], err: IO[str]
) -> ExitStatus:
    diverged = [r for r in reports if not r.ok]
    saved = True
    if options.junit:
        from .render.replay import save_junit

        saved = save_junit(reports, options.junit, err)
    if not options.as_json:
        if not reports:
            out.write("no client connected\n")
        else:
            out.write(
                f"{len(reports)} client session(s): {len(reports) - len(diverged)} as recorded, "
                f"{len(diverged)} diverged\n"
            )
        out.flush()
    if options.strict and diverged:
        return ExitStatus.REPLAY_MISMATCH
    return ExitStatus.OK if saved else ExitStatus.USAGE


def run_recorded_server(
    recording: Recording, options: RecordedServerOptions, out: IO[str], err: IO[str]
) -> ExitStatus:
    return asyncio.run(serve_recording(recording, options, out, err))
