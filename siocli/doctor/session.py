"""A full client session on the driver's :class:`Connection`, for the checks that need one
(namespaces, heartbeat): over the transport a client ends up on, on the path and in the
revision the earlier checks found."""

from __future__ import annotations

import contextlib
import dataclasses
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import IO, TYPE_CHECKING

from ..live import LiveOptions
from ..render.tap import make_tap
from ..transports.config import ConnectOptions, parse_target
from ..transports.errors import Timeout, TransportError
from ..wire import WireMessage
from .findings import Findings
from .results import Report, Status

if TYPE_CHECKING:
    from ..protocol.session import SessionEvent
    from ..transports.driver import Connection

__all__ = ["SessionPlan", "flag_ended", "next_event_before", "open_session"]


@dataclass(frozen=True, slots=True)
class SessionPlan:
    """What a session check opens, and with what."""

    options: LiveOptions  # the command's: namespaces (-n), --auth, -v
    connect: ConnectOptions  # the command's, with the path, revision and transport found
    err: IO[str]  # where -v shows the wire

    @classmethod
    def over(
        cls, transport: str, options: LiveOptions, found: Findings, err: IO[str]
    ) -> SessionPlan:
        assert found.path is not None
        connect = dataclasses.replace(
            options.connect,
            path=found.path,
            transport=transport,
            eio=found.revision,
            parser=found.parser_spoken or options.connect.parser,
        )
        return cls(options, connect, err)

    @property
    def transport(self) -> str:
        return self.connect.transport

    @property
    def revision(self) -> int:
        assert self.connect.eio is not None  # the protocol check found it
        return self.connect.eio

    @property
    def timeout(self) -> float:
        return self.connect.timeout

    @property
    def namespace(self) -> str:
        """The URL's namespace."""
        return parse_target(self.connect).namespace

    def tap(self) -> Callable[[WireMessage], None] | None:
        """``-v``: every wire message of the session on stderr."""
        return make_tap(self.options.verbose, self.err, no_color=self.options.no_color)


@contextlib.asynccontextmanager
async def open_session(
    plan: SessionPlan, report: Report, tap: Callable[[WireMessage], None] | None
) -> AsyncIterator[Connection | None]:
    """The session, closed again on leaving; ``None`` when it does not open (the finding is
    in ``report``)."""
    from ..transports.driver import Connection

    connection = Connection(plan.connect, tap=tap)
    opened: Connection | None = connection
    try:
        try:
            await connection.open()
        except TransportError as exc:
            report.flag(Status.FAIL, f"no session over {plan.transport}: {exc.message}", exc.hint)
            opened = None
        yield opened
    finally:
        await connection.close(grace=0.5)


def flag_ended(
    report: Report, connection: Connection, summary: str, fix: str | None = None
) -> None:
    """The session ended under a check: a failure, with the transport's hint when a
    transport failure ended it, else ``fix``."""
    failure = connection.failure
    report.flag(Status.FAIL, summary, failure.hint if failure else fix)


async def next_event_before(connection: Connection, deadline: float) -> SessionEvent | None:
    """The session's next event, waiting at most 50 ms (the caller watches a clock too) and
    not past ``deadline`` (monotonic); ``None`` when none came."""
    try:
        return await connection.next_event(min(0.05, deadline - time.monotonic()))
    except Timeout:
        return None
