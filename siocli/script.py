"""A recording read as a script: its Socket.IO packets as steps (what the client did,
what the server did), and how a recorded step and an actual one are compared (session ids,
ack ids, secrets and ``--ignore``d paths normalised). ``replay`` plays the client steps
against a server; ``replay --serve`` (:mod:`siocli.recorded_server`) plays the server steps
to a client."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

from .protocol.dissect import Dissector
from .protocol.recovery import args_offset, granted_pid
from .protocol.types import Direction, Handshake, SocketPacket, SocketType
from .recording import REDACTED, Recording, replace_in_strings
from .wire import WireMessage

__all__ = [
    "ENGINE_SID",
    "OFFSET",
    "Normaliser",
    "ReplayReport",
    "Step",
    "StepResult",
    "collect_recorded_sids",
    "comparable",
    "handshake_of",
    "ignore_targets",
    "later_sessions",
    "parse_ignore",
    "script_of",
    "socket_id_role",
]

_EVENT_TYPES = (SocketType.EVENT, SocketType.BINARY_EVENT)
_ACK_TYPES = (SocketType.ACK, SocketType.BINARY_ACK)


@dataclass(slots=True)
class Step:
    """One Socket.IO packet of the recording: an action (``c2s``) or an expectation."""

    number: int
    direction: Direction
    time: float
    kind: str  # connect, connect_error, disconnect, event, ack, close
    namespace: str
    name: Any = None  # the event name
    args: list[Any] = field(default_factory=list)
    ack_id: int | None = None  # as recorded
    auth: Any = None  # connect: the payload (protocol 5) or query (protocol 4)
    answers: Step | None = None  # an ack: the event step it answers
    question: str | None = None  # an ack: the event name it answers
    # An answer the recording received only after the client had moved on (sent something
    # else after the question, or left the namespace): a race in the recording. It is
    # compared when it comes, and not waited for.
    moved_on: Step | None = None

    def label(self) -> str:
        arrow = ">" if self.direction is Direction.C2S else "<"
        text = f"{arrow} {self.kind} {self.namespace}"
        if self.kind == "event":
            text += f" {json.dumps(self.name, ensure_ascii=False)}"
        if self.kind == "ack" and self.question is not None:
            text += f" (answer to {json.dumps(self.question, ensure_ascii=False)})"
        return text


@dataclass(slots=True)
class StepResult:
    step: Step
    ok: bool
    message: str = ""
    expected: Any = None
    actual: Any = None
    normalised: str = ""  # what both sides had replaced before comparing, said in the diff
    race: bool = False  # the outcome of a race in the recording: said, not a failure

    def diff(self) -> str:
        import difflib

        if self.expected is None and self.actual is None:
            return ""
        said = f"; {self.normalised}" if self.normalised else ""
        lines = difflib.unified_diff(
            _pretty(self.expected).splitlines(),
            _pretty(self.actual).splitlines(),
            f"expected (recorded{said})",
            "actual",
            lineterm="",
        )
        return "\n".join(lines)


@dataclass(slots=True)
class ReplayReport:
    recording: str
    results: list[StepResult] = field(default_factory=list)
    unexpected: list[StepResult] = field(default_factory=list)
    error: str | None = None  # could not run at all (unreachable server...)
    hint: str | None = None
    duration: float = 0.0
    # the steps of each session after the first (a reconnection): not replayed, and said
    not_replayed: list[list[Step]] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.error is None and all(r.ok for r in self.results) and not self.unexpected

    @property
    def races(self) -> int:
        return sum(r.race for r in self.results)


# --- from recording to script ------------------------------------------------------------------


def script_of(recording: Recording) -> list[Step]:
    """The recording's Socket.IO packets, in order, as replay steps: its first Engine.IO
    session's (a reconnection's are :func:`later_sessions`)."""
    sessions = _sessions(recording)
    steps = _steps_of(recording, sessions[0] if sessions else [], 1)
    end = recording.second_session_line()
    for event in recording.events:
        if end is not None and event["line"] > end:
            break  # how a later session ended is not this one's
        if event.get("type") == "close" and event.get("reason") not in (
            "io client disconnect",
            None,
        ):
            steps.append(
                Step(
                    len(steps) + 1,
                    Direction.S2C,
                    float(event.get("t") or 0.0),
                    "close",
                    "/",
                    name=event.get("reason"),
                )
            )
            break
    _mark_races(steps)
    return steps


def later_sessions(recording: Recording, first: int) -> list[list[Step]]:
    """The steps of each Engine.IO session after the first (reconnections), numbered on
    from ``first``: what replay does not play, counted so that it can say so."""
    later = []
    for messages in _sessions(recording)[1:]:
        steps = _steps_of(recording, messages, first)
        first += len(steps)
        later.append(steps)
    return later


def _sessions(recording: Recording) -> list[list[WireMessage]]:
    """The recording's messages, a list per Engine.IO session, in order."""
    sessions: list[list[WireMessage]] = []
    for message in recording.messages:
        if not sessions or message.session != sessions[-1][0].session:
            sessions.append([])
        sessions[-1].append(message)
    return sessions


def _steps_of(recording: Recording, messages: list[WireMessage], first: int) -> list[Step]:
    """One session's Socket.IO packets as steps, numbered from ``first``."""
    dissector = Dissector(recording.eio, check=False, parser=recording.parser)
    steps: list[Step] = []
    asked: dict[tuple[Direction, str, int], Step] = {}
    for message in messages:
        report = dissector.receive(message.direction, message.transport, message.data, message.time)
        for packet in report.packets:
            if packet.complete is None or message.direction is None:
                continue
            step = _step(
                first + len(steps),
                message.direction,
                message.time or 0.0,
                packet.complete,
                recording.eio,
                asked,
            )
            if step is not None:
                steps.append(step)
    return steps


def _mark_races(steps: list[Step]) -> None:
    """Mark the answers the recorded client did not wait for (``Step.moved_on``).

    The recording shows one order of a race: the client sent X, then Y without waiting for
    X's answer, and the answer came after Y. Replayed, Y may stop the answer (a leave: the
    server drops what it still owed the namespace) or come after it. Such an answer is a
    race in the recording, not the server's contract."""
    last_sent: Step | None = None
    left: dict[str, Step] = {}  # namespace -> the client's DISCONNECT not followed by a CONNECT
    for step in steps:
        if step.direction is Direction.C2S:
            last_sent = step
            if step.kind == "disconnect":
                left[step.namespace] = step
            elif step.kind == "connect":
                left.pop(step.namespace, None)
            continue
        if step.kind == "close":
            continue
        if step.namespace in left:
            step.moved_on = left[step.namespace]
        elif (
            step.kind == "ack"
            and step.answers is not None
            and last_sent is not None
            and last_sent.number > step.answers.number
        ):
            step.moved_on = last_sent


def _step(
    number: int,
    direction: Direction,
    t: float,
    packet: SocketPacket,
    eio: int,
    asked: dict[tuple[Direction, str, int], Step],
) -> Step | None:
    ptype = packet.type
    namespace = packet.namespace
    if ptype is SocketType.CONNECT:
        auth: Any = packet.data
        if eio == 3 and "?" in namespace:
            namespace, _, query = namespace.partition("?")
            from urllib.parse import parse_qsl

            auth = dict(parse_qsl(query, keep_blank_values=True))
        return Step(number, direction, t, "connect", namespace, auth=auth)
    if ptype is SocketType.CONNECT_ERROR:
        return Step(number, direction, t, "connect_error", namespace, args=[packet.data])
    if ptype is SocketType.DISCONNECT:
        return Step(number, direction, t, "disconnect", namespace)
    if ptype in _EVENT_TYPES:
        data = packet.data or [None]
        step = Step(number, direction, t, "event", namespace, data[0], list(data[1:]), packet.id)
        if packet.id is not None:
            asked[(direction, namespace, packet.id)] = step
        return step
    if ptype in _ACK_TYPES:
        other = Direction.S2C if direction is Direction.C2S else Direction.C2S
        question = asked.get((other, namespace, packet.id)) if packet.id is not None else None
        return Step(
            number,
            direction,
            t,
            "ack",
            namespace,
            None,
            list(packet.data or []),
            packet.id,
            answers=question,
            question=question.name if question is not None else None,
        )
    return None


# --- normalising -------------------------------------------------------------------------------

_IGNORE = re.compile(r"^(?P<event>[^\[.]+)(?P<path>(\[\d+\]|\.[^.\[]+)*)$")
_PART = re.compile(r"\[(\d+)\]|\.([^.\[]+)")


def parse_ignore(spec: str) -> tuple[str, list[int | str]]:
    """``tick[0].time`` -> ("tick", [0, "time"]); ``ack:whoami[0].at`` (the ack that
    answers ``whoami``) -> ("ack:whoami", [0, "at"]); ``ValueError`` if malformed."""
    match = _IGNORE.match(spec)
    if match is None:
        raise ValueError(
            f"{spec!r}: expected EVENT[INDEX].key.path (e.g. tick[0].time), or "
            "ack:EVENT[INDEX]... for the ack that answers EVENT"
        )
    path: list[int | str] = [
        int(index) if index else key for index, key in _PART.findall(match.group("path"))
    ]
    return match.group("event"), path


def _mask(args: list[Any], path: list[int | str]) -> list[Any]:
    """A copy of ``args`` with the value at ``path`` (args[i].key...) replaced."""
    if not path:
        return args
    result = json.loads(json.dumps(args, default=_binary_for_json))
    target: Any = result
    for part in path[:-1]:
        try:
            target = target[part]
        except (KeyError, IndexError, TypeError):
            return result
    last = path[-1]
    if isinstance(target, list):
        if isinstance(last, int) and last < len(target):
            target[last] = "<ignored>"
    elif isinstance(target, dict) and last in target:
        target[last] = "<ignored>"
    return result


def _binary_for_json(value: Any) -> Any:
    if isinstance(value, (bytes, bytearray)):
        return {"$binary": bytes(value).hex()}
    raise TypeError(type(value).__name__)


ENGINE_SID = "engine sid"
"""The role of the Engine.IO session id; ids are shown by role in comparisons: <engine sid>."""


def socket_id_role(namespace: str) -> str:
    """The role of a namespace's socket id (Socket.IO 2.x: the engine sid for '/')."""
    return f"socket id on {namespace}"


OFFSET = "<offset>"
"""What an event's offset (connection state recovery) is compared as: each run has its own."""


class Normaliser:
    """Values that always differ between two sessions, made equal: sids, ignored paths, and
    with connection state recovery, pids and event offsets."""

    def __init__(self, ignore: tuple[str, ...], secrets: frozenset[str] = frozenset()) -> None:
        self.ignore = [parse_ignore(spec) for spec in ignore]
        self.sids: dict[str, str] = {}  # a session id (recorded or actual) -> its role
        self.secrets = set(secrets)
        self.recovering: set[str] = set()  # namespaces granted a pid: their events' offsets

    def sid(self, value: str | None, role: str) -> None:
        if value:
            self.sids[value] = role

    def granted(self, namespace: str, data: Any) -> None:
        """A CONNECT answer: its pid, if any, is an id like the sids, and from then on the
        namespace's events end with an offset."""
        pid = granted_pid(data)
        if pid is not None:
            self.sid(pid, f"pid on {namespace}")
            self.recovering.add(namespace)

    def event_args(self, namespace: str, ack_id: int | None, args: list[Any]) -> list[Any]:
        """``args`` with the offset a recovery-enabled server appended (to the events it
        stores: those without an ack) replaced by :data:`OFFSET`."""
        if namespace in self.recovering and args_offset(args, ack_id) is not None:
            return [*args[:-1], OFFSET]
        return args

    def describe(self) -> str:
        """What this normaliser replaces, for a diff's header."""
        roles = sorted(set(self.sids.values()))
        said = ", ".join(f"<{role}>" for role in roles)
        if self.recovering:
            said += (", " if said else "") + f"event offsets as {OFFSET}"
        return f"normalised: {said}" if said else ""

    def secret(self, value: str) -> None:
        """A value the recording shows redacted: show it redacted here too."""
        if value and value != REDACTED:
            self.secrets.add(value)

    def args(self, event: Any, args: list[Any], ack: bool = False) -> Any:
        """``args`` normalised: of ``event``, or with ``ack``, of the ack answering it."""
        value = json.loads(json.dumps(args, default=_binary_for_json))
        target = f"ack:{event}" if ack else event
        for name, path in self.ignore:
            if name == target or name == "*":
                value = _mask(value, path)
        replacements = {sid: f"<{role}>" for sid, role in self.sids.items()}
        replacements.update(dict.fromkeys(self.secrets, REDACTED))
        return replace_in_strings(value, replacements)


def handshake_of(recording: Recording) -> Handshake | None:
    """The recorded server's handshake (its open packet), if the recording has it."""
    from .protocol.annotate import annotate_message

    for message in recording.messages[:3]:
        for packet in annotate_message(message.data, recording.eio, message.transport).packets:
            if packet.handshake is not None:
                return packet.handshake
    return None


def collect_recorded_sids(recording: Recording, steps: list[Step], into: Normaliser) -> None:
    """Teach ``into`` the recorded session ids: the Engine.IO sid, each namespace's."""
    handshake = handshake_of(recording)
    if handshake is not None:
        into.sid(handshake.sid, ENGINE_SID)
    for step in steps:
        if (
            step.kind == "connect"
            and step.direction is Direction.S2C
            and isinstance(step.auth, dict)
        ):
            into.sid(step.auth.get("sid"), socket_id_role(step.namespace))
            into.granted(step.namespace, step.auth)


def comparable(kind: str, name: Any, args: list[Any], question: Any, normaliser: Normaliser) -> Any:
    if kind == "event":
        return {"event": name, "args": normaliser.args(name, args)}
    if kind == "ack":
        return {"args": normaliser.args(question, args, ack=True)}
    if kind == "connect_error":
        # protocol 5 sends {"message", "data"}, protocol 4 a string: one shape for both
        error = args[0] if args else None
        if not isinstance(error, dict):
            error = {"message": error}
        return {"error": normaliser.args(None, [error])}
    if kind == "close":
        return {"reason": name}
    return {}


def _pretty(value: Any) -> str:
    return json.dumps(value, indent=2, ensure_ascii=False, sort_keys=True)


def ignore_targets(steps: list[Step]) -> set[str]:
    """What ``--ignore`` can name in a script: its events, ``ack:EVENT`` for the acks."""
    names = {str(s.name) for s in steps if s.kind == "event"}
    names |= {f"ack:{s.question}" for s in steps if s.kind == "ack" and s.question is not None}
    return names
