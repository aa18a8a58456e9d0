"""``siocli replay``: play a recording's client side against a server, check the answers.

The recording is dissected by the core into Socket.IO packets. The client's packets become
actions (join with auth, emit, ack, leave); the server's become expectations. A fresh
session replays the actions in recorded order (waiting, before each, for what the server
had sent before it in the recording), and every packet the server sends is matched with the
next expectation of its namespace.

What always differs is normalised away: session ids (the Engine.IO sid and the socket ids,
wherever they appear in payloads), ack-id numbering, timing, heartbeats, and with connection
state recovery the pids and the offsets ending the server's events (a diff's header says
what was normalised). ``--ignore
EVENT[i].key.path`` masks volatile fields. Order rule: strict per namespace; namespaces may
interleave freely.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from typing import Any

from .exit import ExitStatus
from .protocol.session import (
    AckMessage,
    Closed,
    EventMessage,
    NamespaceConnected,
    NamespaceDisconnected,
    NamespaceRejected,
    SessionEvent,
)
from .protocol.types import Direction
from .recording import REDACTED, Recording, RecordingError, secrets_of
from .script import (
    ENGINE_SID,
    Normaliser,
    ReplayReport,
    Step,
    StepResult,
    collect_recorded_sids,
    comparable,
    handshake_of,
    later_sessions,
    parse_ignore,
    script_of,
    socket_id_role,
)
from .transports.config import ConnectOptions
from .transports.driver import Connection
from .transports.errors import TransportError

__all__ = [
    "Normaliser",
    "ReplayOptions",
    "ReplayRun",
    "Step",
    "StepResult",
    "collect_recorded_sids",
    "comparable",
    "handshake_of",
    "needs_auth",
    "parse_ignore",
    "redacted_query",
    "replay",
    "replay_all",
    "replay_status",
    "script_of",
]


@dataclass(frozen=True, slots=True)
class ReplayOptions:
    connect: ConnectOptions
    auth: dict[str, Any] | None = None  # for CONNECTs whose recorded auth was redacted
    fast: bool = False
    ignore: tuple[str, ...] = ()
    timeout: float = 5.0  # for each expected answer


# --- running -----------------------------------------------------------------------------------


async def replay(recording: Recording, options: ReplayOptions) -> ReplayReport:
    """Replay ``recording`` against the server of ``options``."""
    report = ReplayReport(recording.name)
    started = time.monotonic()
    try:
        steps = script_of(recording)
        report.not_replayed = later_sessions(recording, len(steps) + 1)
    except Exception as exc:  # a recording the core cannot dissect
        report.error = f"cannot read the recording's packets: {exc}"
        return report
    recorded = Normaliser(options.ignore)
    # what the recording redacted, the actual session must show redacted too
    actual = Normaliser(options.ignore, secrets_of(options.auth))
    collect_recorded_sids(recording, steps, recorded)
    connection = Connection(options.connect)
    try:
        await connection.open()
    except TransportError as exc:
        report.error, report.hint = exc.message, exc.hint
        await connection.close(grace=0)
        return report
    runner = _Runner(connection, options, steps, recorded, actual, report)
    try:
        await runner.run()
    finally:
        await connection.close()
        report.duration = time.monotonic() - started
    return report


class _Runner:
    def __init__(
        self,
        connection: Connection,
        options: ReplayOptions,
        steps: list[Step],
        recorded: Normaliser,
        actual: Normaliser,
        report: ReplayReport,
    ) -> None:
        self.connection = connection
        self.options = options
        self.steps = steps
        self.recorded = recorded
        self.actual = actual
        self.report = report
        self.pending: dict[str, list[Step]] = {}  # namespace -> expectations, in order
        self.ack_ids: dict[int, int] = {}  # our emit's recorded step number -> actual ack id
        self.server_ids: dict[int, int] = {}  # server event's step number -> actual ack id
        self.done: set[int] = set()
        # What a namespace sent before its CONNECT answer (python-socketio sends what its
        # connect handler emits first): compared once the answer tells the socket id it
        # holds, each result put where it came.
        self.answered: set[str] = set()
        self.before_answer: dict[str, list[tuple[int, Step, dict[str, Any], SessionEvent]]] = {}

    async def run(self) -> None:
        session = self.connection.session
        self.actual.sid(session.sid, ENGINE_SID)
        start = time.monotonic()
        base = self.steps[0].time if self.steps else 0.0
        # Every expectation is known from the start: an answer the recording got late (a
        # race) may come early here, and is still the recorded one.
        for step in self.steps:
            if step.direction is Direction.S2C:
                self.pending.setdefault(step.namespace, []).append(step)
        for step in self.steps:
            if step.direction is Direction.S2C:
                continue
            # causality: what the server had sent before this, it must send first (but
            # not what the recorded client did not wait for)
            await self._drain(until=step.number)
            if not self.options.fast:
                delay = (step.time - base) - (time.monotonic() - start)
                if delay > 0:
                    await asyncio.sleep(delay)
            self._act(step)
        await self._drain(until=None)
        # a moment for what the server sends that the recording did not have
        await self._take(timeout=0.2 if self.options.fast else 0.5, quiet=True)
        for namespace in list(self.before_answer):  # no answer came: compared as they are
            self._compare_held(namespace)
        for steps in self.pending.values():
            for step in steps:
                if step.moved_on is not None:
                    self._race(step, "not received this time")
                else:
                    self._fail(step, "the server never sent it", self._expected(step), None)

    def _act(self, step: Step) -> None:
        session = self.connection.session
        act = self.connection.act
        try:
            if step.kind == "connect":
                act(session.connect, step.namespace, self._auth(step))
            elif step.kind == "disconnect":
                act(session.disconnect, step.namespace)
            elif step.kind == "event":
                ack_id = act(
                    session.emit,
                    step.name,
                    *step.args,
                    namespace=step.namespace,
                    ack=step.ack_id is not None,
                )
                if ack_id is not None:
                    self.ack_ids[step.number] = ack_id
            elif step.kind == "ack":
                question = step.answers
                actual_id = self.server_ids.get(question.number) if question else None
                if actual_id is None:
                    if question is not None and question.moved_on is not None:
                        self._race(question, "not received this time, so not answered")
                        return
                    self._fail(step, "cannot answer: the server never asked this ack", None, None)
                    return
                act(session.ack, actual_id, *step.args, namespace=step.namespace)
        except Exception as exc:  # the session refuses (namespace not connected...)
            self._fail(step, f"cannot replay this step: {exc}", None, None)
            return
        self.report.results.append(StepResult(step, True, "sent"))

    def _auth(self, step: Step) -> Any:
        auth = step.auth
        if isinstance(auth, dict) and REDACTED in auth.values():
            if self.options.auth is None:
                raise RecordingError(
                    "the recording's auth was redacted: give it with --auth (or record with "
                    "--no-redact)"
                )
            return self.options.auth
        return auth if isinstance(auth, dict) else None

    async def _drain(self, until: int | None) -> None:
        """Take server packets until every expectation before step ``until`` is met."""
        while True:
            waiting = [
                s
                for steps in self.pending.values()
                for s in steps
                if s.moved_on is None and (until is None or s.number < until)
            ]
            if not waiting:
                return
            if not await self._take(self.options.timeout):
                for step in waiting:
                    self._fail(
                        step,
                        f"not received within {self.options.timeout:g} s",
                        self._expected(step),
                        None,
                    )
                    self.pending[step.namespace].remove(step)
                return

    async def _take(self, timeout: float, quiet: bool = False) -> bool:
        """Match the next server event; False if none came in time."""
        try:
            event = await self.connection.next_event(timeout)
        except TransportError:
            return False
        self._match(event, quiet)
        return True

    def _match(self, event: SessionEvent, quiet: bool) -> None:
        actual = _actual(event)
        if actual is None:
            return
        kind, namespace = actual["kind"], actual["namespace"]
        if kind == "connect":
            self.actual.sid(actual.get("sid"), socket_id_role(namespace))
            self.actual.granted(namespace, actual.get("data"))
            self.answered.add(namespace)
        expected_steps = self.pending.get(namespace) or self.pending.get(
            "/" if kind == "close" else namespace, []
        )
        # the first expectation of the namespace, but the races of the recording (answers
        # it got late) may come in any order
        step = next((s for s in expected_steps if s.moved_on is None), None)
        found = next((s for s in expected_steps if _same(s, actual)), None)
        if found is not None:
            expected_steps.remove(found)
            if kind in ("event", "ack") and namespace not in self.answered:
                held = self.before_answer.setdefault(namespace, [])
                held.append((len(self.report.results), found, actual, event))
            else:
                self._compare(found, actual, event)
            if kind == "connect":
                self._compare_held(namespace)
            if step is not None and found is not step and found.moved_on is None:
                self._fail(
                    found,
                    f"arrived before step {step.number} (order per namespace differs)",
                    None,
                    None,
                )
            return
        if kind == "ack" and self._late_answer(event):
            return
        if kind == "close":
            reason = actual.get("name") or "closed"
            detail = actual.get("detail")
            self.report.unexpected.append(
                StepResult(
                    Step(0, Direction.S2C, 0.0, "close", "/", name=reason),
                    False,
                    f"the server ended the session: {reason}" + (f" ({detail})" if detail else ""),
                )
            )
            return
        self.report.unexpected.append(
            StepResult(
                Step(0, Direction.S2C, 0.0, kind, namespace, actual.get("name")),
                False,
                "not in the recording",
                None,
                self._shown(actual),
            )
        )

    def _late_answer(self, event: SessionEvent) -> bool:
        """An ack the recording never got, to a question its client moved on from: the
        other outcome of the race the recording holds."""
        if not isinstance(event, AckMessage):
            return False
        number = next((n for n, i in self.ack_ids.items() if i == event.ack_id), None)
        question = next((s for s in self.steps if s.number == number), None)
        if question is None or question.namespace != event.namespace:
            return False
        recorded = any(s.answers is question for s in self.steps)
        moved_on = any(
            s.direction is Direction.C2S and s.number > question.number for s in self.steps
        )
        if recorded or not moved_on:
            return False
        answer = Step(
            0,
            Direction.S2C,
            0.0,
            "ack",
            event.namespace,
            None,
            list(event.args),
            answers=question,
            question=question.name,
        )
        self.report.results.append(
            StepResult(
                answer,
                True,
                "race in the recording: its client moved on before this answer came, and "
                "the recording never got it; received this time",
                None,
                self._shown(_actual(event) or {"kind": "ack"}),
                race=True,
            )
        )
        return True

    def _race(self, step: Step, what: str) -> None:
        assert step.moved_on is not None
        self.report.results.append(
            StepResult(
                step,
                True,
                f"race in the recording: it came after step {step.moved_on.number} "
                f"({step.moved_on.label()}), which did not wait for it; {what}",
                self._expected(step),
                None,
                race=True,
            )
        )

    def _compare_held(self, namespace: str) -> None:
        """Compare what ``namespace`` sent before its CONNECT answer, each result put at
        the place it arrived."""
        held = self.before_answer.pop(namespace, [])
        for inserted, (place, step, actual, event) in enumerate(held):
            later = self.report.results[place + inserted :]
            del self.report.results[place + inserted :]
            self._compare(step, actual, event)
            self.report.results += later

    def _compare(self, step: Step, actual: dict[str, Any], event: SessionEvent) -> None:
        expected = self._expected(step)
        if step.kind == "ack":  # the question it answers, for --ignore ack:EVENT
            actual = {**actual, "question": step.question}
        got = self._shown(actual)
        if step.kind == "event" and isinstance(event, EventMessage) and event.ack_id is not None:
            self.server_ids[step.number] = event.ack_id
        if step.kind == "ack" and isinstance(event, AckMessage):
            question = step.answers
            want = self.ack_ids.get(question.number) if question else None
            if want is not None and want != event.ack_id:
                self._fail(step, f"answers ack {event.ack_id}, not {want}", expected, got)
                return
        if expected != got:
            self._fail(step, "differs from the recording", expected, got)
            return
        self.report.results.append(StepResult(step, True, "as recorded"))

    def _expected(self, step: Step) -> Any:
        args = step.args
        if step.kind == "event":
            args = self.recorded.event_args(step.namespace, step.ack_id, args)
        return comparable(step.kind, step.name, args, step.question, self.recorded)

    def _shown(self, actual: dict[str, Any]) -> Any:
        args = actual.get("args", [])
        if actual["kind"] == "event":
            args = self.actual.event_args(actual["namespace"], actual.get("id"), args)
        return comparable(
            actual["kind"], actual.get("name"), args, actual.get("question"), self.actual
        )

    def _fail(self, step: Step, message: str, expected: Any, actual: Any) -> None:
        self.report.results.append(
            StepResult(step, False, message, expected, actual, self.recorded.describe())
        )


def _same(step: Step, actual: dict[str, Any]) -> bool:
    """Can ``actual`` be the server's answer recorded as ``step`` (compared later)?"""
    kind = actual["kind"]
    return step.kind == kind and (kind != "event" or step.name == actual.get("name"))


def _actual(event: SessionEvent) -> dict[str, Any] | None:
    if isinstance(event, EventMessage):
        return {
            "kind": "event",
            "namespace": event.namespace,
            "name": event.name,
            "args": event.args,
            "id": event.ack_id,
        }
    if isinstance(event, AckMessage):
        return {"kind": "ack", "namespace": event.namespace, "args": event.args}
    if isinstance(event, NamespaceConnected):
        return {
            "kind": "connect",
            "namespace": event.namespace,
            "sid": event.sid,
            "data": event.data,
        }
    if isinstance(event, NamespaceRejected):
        data = (
            {"message": event.message, "data": event.data}
            if event.data is not None
            else ({"message": event.message})
        )
        return {"kind": "connect_error", "namespace": event.namespace, "args": [data]}
    if isinstance(event, NamespaceDisconnected) and event.reason == "io server disconnect":
        return {"kind": "disconnect", "namespace": event.namespace}
    if isinstance(event, Closed) and event.reason != "io client disconnect":
        return {"kind": "close", "namespace": "/", "name": event.reason, "detail": event.detail}
    return None


# --- the command -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ReplayRun:
    """``siocli replay``'s arguments, parsed."""

    recordings: tuple[str, ...]
    url: str | None = None
    path: str | None = None
    transport: str | None = None
    eio: int | None = None
    auth: dict[str, Any] | None = None
    headers: tuple[tuple[str, str], ...] = ()
    query: tuple[tuple[str, str], ...] = ()
    insecure: bool = False
    cacert: str | None = None
    fast: bool = False
    ignore: tuple[str, ...] = ()
    timeout: float = 5.0
    as_json: bool = False
    junit: str | None = None


def needs_auth(recording: Recording) -> bool:
    """Did the recording's client send an auth payload that was redacted?"""
    return any(
        step.kind == "connect"
        and step.direction is Direction.C2S
        and isinstance(step.auth, dict)
        and REDACTED in step.auth.values()
        for step in script_of(recording)
    )


def redacted_query(recording: Recording, given: tuple[tuple[str, str], ...] = ()) -> list[str]:
    """The query parameters the recording redacted and ``given`` (``--query``) lacks."""
    recorded = (recording.header.get("options") or {}).get("query") or {}
    names = {k for k, _ in given}
    return [k for k, v in recorded.items() if v == REDACTED and k not in names]


def _options_for(recording: Recording, run: ReplayRun) -> ReplayOptions:
    recorded = recording.header.get("options") or {}
    headers = {k: v for k, v in (recorded.get("headers") or {}).items() if v != REDACTED}
    headers.update(dict(run.headers))
    # the recorded query, what was redacted given again with --query
    query = {k: str(v) for k, v in (recorded.get("query") or {}).items() if v != REDACTED}
    query.update(dict(run.query))
    connect = ConnectOptions(
        url=run.url or str(recording.header.get("url", "")),
        path=run.path or recorded.get("path") or "/socket.io/",
        transport=run.transport or recorded.get("transport") or "auto",
        # --eio auto (the default): the recorded revision, but from Engine.IO 4 the client
        # follows a Socket.IO 2.x server down to 3, as connect does
        eio=run.eio if run.eio is not None else (None if recording.eio == 4 else 3),
        parser=recording.parser,
        headers=tuple(headers.items()),
        query=tuple(query.items()),
        timeout=max(run.timeout, 5.0),
        insecure=run.insecure,
        cacert=run.cacert,
    )
    auth = run.auth
    kept = recorded.get("auth")
    if auth is None and isinstance(kept, dict) and REDACTED not in kept.values():
        auth = kept
    return ReplayOptions(connect, auth, run.fast, run.ignore, run.timeout)


async def replay_all(run: ReplayRun, recordings: list[Recording]) -> list[ReplayReport]:
    """Replay several recordings concurrently."""

    async def one(recording: Recording) -> ReplayReport:
        try:
            return await replay(recording, _options_for(recording, run))
        except RecordingError as exc:
            report = ReplayReport(recording.name)
            report.error = str(exc)
            return report

    return list(await asyncio.gather(*(one(r) for r in recordings)))


def replay_status(reports: list[ReplayReport]) -> ExitStatus:
    """0 when every recording was answered as recorded; 3 when the only failures are
    servers that could not be reached; else 6."""
    if any(r.error for r in reports) and all(r.error for r in reports if not r.ok):
        return ExitStatus.CONNECT_FAILED
    return ExitStatus.OK if all(r.ok for r in reports) else ExitStatus.REPLAY_MISMATCH
