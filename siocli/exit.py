"""siocli's exit codes and its one error ladder.

==== ======================= ==========================================================
code name                    meaning
==== ======================= ==========================================================
0    OK                      success
1    FINDINGS                ``--strict`` and a protocol violation was found
2    USAGE                   bad command line, or input that cannot be read at all (replay:
                             a recording it cannot replay whole)
3    CONNECT_FAILED          the server could not be reached or refused the connection
4    NAMESPACE_REJECTED      the server answered CONNECT_ERROR
5    TIMEOUT                 no answer in time (ack, handshake, ``--timeout``)
6    REPLAY_MISMATCH         replay: the server did not answer as recorded (--serve --strict:
                             a client did not act as recorded)
7    SERVER_ERROR            the server broke the protocol, closed the session, or
                             disconnected the namespace an ack was awaited on
70   INTERNAL                a bug in siocli (please report it, with ``--traceback``)
130  INTERRUPTED             Ctrl-C
==== ======================= ==========================================================

A command that cannot go on raises :class:`CommandError` (status, message, hint);
:func:`report` is the one place that prints one (``siocli.cli.main`` calls it).
:func:`from_transport` is the one table from transport failures to statuses.
"""

from __future__ import annotations

import enum
from collections.abc import Coroutine
from typing import IO, TYPE_CHECKING, Any

if TYPE_CHECKING:
    import asyncio

    from .transports.errors import TransportError

__all__ = [
    "CommandError",
    "ExitStatus",
    "cannot_listen",
    "from_transport",
    "report",
    "run_command",
    "silence_stdout",
    "until_stopped",
]


class ExitStatus(enum.IntEnum):
    OK = 0
    FINDINGS = 1
    USAGE = 2
    CONNECT_FAILED = 3
    NAMESPACE_REJECTED = 4
    TIMEOUT = 5
    REPLAY_MISMATCH = 6
    SERVER_ERROR = 7
    INTERNAL = 70
    INTERRUPTED = 130


class CommandError(Exception):
    """Why a command stops: its exit status, a message for stderr (``None``: nothing to
    say) and the fix that usually helps."""

    def __init__(
        self, status: ExitStatus, message: str | None = None, hint: str | None = None
    ) -> None:
        super().__init__(message or status.name)
        self.status = status
        self.message = message
        self.hint = hint


def from_transport(exc: TransportError) -> CommandError:
    """The status of a transport failure: no answer in time is a timeout; anything else
    that kept a session from opening is a failed connection."""
    from .transports.errors import Timeout

    status = ExitStatus.TIMEOUT if isinstance(exc, Timeout) else ExitStatus.CONNECT_FAILED
    return CommandError(status, exc.message, exc.hint)


def cannot_listen(host: str, port: int, exc: OSError) -> CommandError:
    """A server command could not bind its address (in use, not ours): the command line
    asked for what cannot be."""
    return CommandError(ExitStatus.USAGE, f"cannot listen on {host}:{port}: {exc.strerror}")


def report(error: CommandError, err: IO[str]) -> ExitStatus:
    """Print ``error`` (``siocli: message``, then its hint) and return its status."""
    if error.message:  # a message of several lines (several inputs): each is said alike
        err.write("".join(f"siocli: {line}\n" for line in error.message.splitlines()))
    if error.hint:
        err.write(f"  hint: {error.hint}\n")
    err.flush()
    return error.status


def silence_stdout() -> None:
    """Point stdout at /dev/null once its reader left (`siocli ... | head`): what is still
    buffered would fail again at exit ("Exception ignored ... BrokenPipeError", exit 120)."""
    import os
    import sys

    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except OSError:
        pass


def run_command(main: Coroutine[Any, Any, ExitStatus]) -> ExitStatus:
    """Run a command's coroutine: Ctrl-C cancels it (it disconnects cleanly) and becomes
    ``CommandError(INTERRUPTED)``, exit 130, as every other way a command fails."""
    import asyncio
    import contextlib
    import signal

    async def guarded() -> ExitStatus:
        task = asyncio.current_task()
        assert task is not None
        loop = asyncio.get_running_loop()
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(signal.SIGINT, task.cancel)
        try:
            return await main
        except asyncio.CancelledError:
            raise CommandError(ExitStatus.INTERRUPTED, "interrupted") from None

    return asyncio.run(guarded())


async def until_stopped(done: asyncio.Future[Any] | None = None, *, term: bool = False) -> None:
    """How a server command runs: until Ctrl-C (with ``term``, SIGTERM too), or until
    ``done`` is done; the caller then closes what it serves."""
    import asyncio
    import contextlib
    import signal

    loop = asyncio.get_running_loop()
    stop = done if done is not None else loop.create_future()
    for signum in (signal.SIGINT, signal.SIGTERM) if term else (signal.SIGINT,):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(signum, stop.cancel)
    with contextlib.suppress(asyncio.CancelledError):
        await stop
