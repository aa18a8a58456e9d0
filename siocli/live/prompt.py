"""``connect``: the interactive prompt (or a script on stdin) over the live client."""

from __future__ import annotations

import asyncio
import contextlib
import os
from collections.abc import AsyncIterator
from typing import IO, TYPE_CHECKING, Any

import click

from ..arguments import ArgumentError, parse_emit, parse_value, split_arguments
from ..exit import ExitStatus
from ..params import AUTH
from ..protocol.errors import LocalProtocolError
from ..protocol.session import (
    AckMessage,
    EventMessage,
    NamespaceDisconnected,
    SessionEvent,
)
from ..protocol.states import NamespaceState
from ..render.events import EventPrinter
from .client import LiveClient, LiveOptions, unanswerable
from .commands import with_client

if TYPE_CHECKING:
    from .terminal import Terminal

__all__ = ["HELP", "connect_main"]


HELP = """commands:
  emit EVENT [ARGS...]        send an event (args: JSON, bare words, hex:.., b64:.., @file)
  emit --ack EVENT [ARGS...]  send it asking for an ack; the ack prints when it comes
                              (a script waits for it before its next line)
  ack ID|last [ARGS...]       answer the server's event ID (or the last one asking)
  join NSP [AUTH]             connect another namespace (AUTH: a JSON object); once
                              joined, it is the namespace emit and ack use
  leave [NSP]                 leave a namespace; emit and ack go back to the previous one
  use NSP                     the namespace emit and ack use (now: {nsp})
  wait EVENT                  wait until the server sends EVENT (for scripts; a script's
                              wait also takes an EVENT that came since its last command)
  disconnect                  leave everything and quit (also: quit, exit, Ctrl-D)
  help                        this text"""


async def connect_main(
    options: LiveOptions, out: IO[str], err: IO[str], stdin: IO[bytes], interactive: bool
) -> ExitStatus:
    if not interactive or options.as_json:
        # a script (or JSON for a program): plain lines, and no prompt_toolkit to load
        async def script(client: LiveClient) -> ExitStatus:
            return await _Prompt(client, options, _stdin_lines(stdin), interactive).run()

        return await with_client(options, out, err, script)

    from .terminal import Terminal

    current: list[str] = []
    known: list[LiveClient] = []

    def namespaces() -> list[str]:
        client = known[0] if known else None
        names = {"/", *current, *options.namespaces}
        if client is not None:
            names.update(client.namespaces, client.joined)
        return sorted(names)

    terminal = Terminal(namespaces)

    async def prompt(client: LiveClient) -> ExitStatus:
        known.append(client)
        session = _Prompt(
            client, options, terminal.lines(lambda: f"{session.current[-1]} › "), True, terminal
        )
        current[:] = session.current
        session.current = current  # one list: the completer sees what the prompt uses
        return await session.run()

    try:
        # what the session prints goes above the line being typed (-v's dump as well)
        return await with_client(options, terminal.output, terminal.output, prompt)
    finally:
        terminal.close()


class _Prompt:
    """``connect``'s command loop: commands from stdin, events from the server, at once."""

    def __init__(
        self,
        client: LiveClient,
        options: LiveOptions,
        lines: AsyncIterator[str],
        interactive: bool,
        terminal: Terminal | None = None,
    ) -> None:
        self.client = client
        self.options = options
        client.printer.ack_advice = True
        self.lines = lines
        self.interactive = interactive
        self.terminal = terminal  # prompt_toolkit's prompt: it draws itself
        self.show_prompt = interactive and not options.as_json and terminal is None
        # the first command that failed sets a script's exit status (2, 4 a refused join,
        # 5 no answer in time)
        self.status = ExitStatus.OK
        # the namespaces emit and ack used, the current one last: 'leave' goes back
        self.current = [client.main_namespace]
        self.events: asyncio.Future[SessionEvent] = asyncio.ensure_future(client.next_event())
        # A script's events by name, counted since its last command other than 'wait':
        # its 'wait EVENT' takes one of them. A script has no timing: the event it waits
        # for may come (and be printed) before the line is read, and that is a race the
        # script must not lose (an event already printed would otherwise be waited for
        # until the --timeout).
        self.unclaimed: dict[str, int] = {}

    async def run(self) -> ExitStatus:
        printer = self.client.printer
        if self.terminal is not None:
            printer.write_text("type 'help' for commands (Tab completes, Up recalls)\n")
        elif self.show_prompt:
            printer.prompt = "› "
            printer.write_text("type 'help' for commands\n" + printer.prompt)
        reading = asyncio.ensure_future(self.lines.__anext__())
        try:
            while True:
                waiting: set[asyncio.Future[Any]] = {self.events, reading}
                done, _ = await asyncio.wait(waiting, return_when=asyncio.FIRST_COMPLETED)
                if self.events in done:
                    self._next_event()
                if reading not in done:
                    continue
                try:
                    line = reading.result()
                except StopAsyncIteration:  # EOF: let the server answer, then leave
                    self.events.cancel()
                    await self.client.settle(self.options.connect.timeout)
                    return self._status()
                verb, argument = _command(self.client, line.strip(), self.current, printer)
                if verb != "wait":
                    self.unclaimed.clear()
                if verb == "error":
                    self._failed(ExitStatus.USAGE)
                if verb == "quit":
                    return self._status()
                # A join completes before the next command, 'wait EVENT' waits for the
                # event, and in a script 'emit --ack' waits for its ack: scripts depend on
                # all three (and a recording of them holds no race).
                await self._after(verb, argument)
                if self.show_prompt:
                    printer.write_text(printer.prompt)
                reading = asyncio.ensure_future(self.lines.__anext__())
        finally:
            for task in (self.events, reading):
                task.cancel()
            with contextlib.suppress(BaseException):
                await asyncio.gather(self.events, reading, return_exceptions=True)

    def _status(self) -> ExitStatus:
        # A script whose commands failed (explained as they failed) says so at the end.
        return ExitStatus.OK if self.interactive else self.status

    def _failed(self, status: ExitStatus) -> None:
        if self.status is ExitStatus.OK:
            self.status = status

    def _next_event(self) -> SessionEvent:
        event = self.events.result()  # printed by next_event; raises CommandError at the end
        self.events = asyncio.ensure_future(self.client.next_event())
        if isinstance(event, EventMessage):
            if self.terminal is not None:
                self.terminal.seen.add(str(event.name))  # for completion
            if not self.interactive:
                name = str(event.name)
                self.unclaimed[name] = self.unclaimed.get(name, 0) + 1
        return event

    def _claim(self, name: str) -> bool:
        """Take one EVENT ``name`` the script has not waited for yet, if one came."""
        count = self.unclaimed.get(name, 0)
        if count:
            self.unclaimed[name] = count - 1
        return count > 0

    async def _after(self, verb: str, argument: str) -> None:
        if verb == "join":
            await self._join(argument)
        elif verb == "wait" and not self._claim(argument):
            came = await self._block(
                lambda e: isinstance(e, EventMessage) and str(e.name) == argument,
                f"'{argument}'",
            )
            if came:
                self._claim(argument)  # the event that ended the wait is taken
        elif verb == "ack" and not self.interactive:
            namespace, _, number = argument.partition(" ")
            ack_id = int(number)
            left: list[NamespaceDisconnected] = []

            def answered(e: SessionEvent | None) -> bool:
                if isinstance(e, NamespaceDisconnected) and e.namespace == namespace:
                    left.append(e)  # no ack can come any more
                    return True
                return isinstance(e, AckMessage) and e.namespace == namespace and e.ack_id == ack_id

            if not await self._block(answered, f"ack {number} on {namespace}"):
                self.client.give_up(ack_id, namespace)  # said; the end does not wait again
            elif left:
                self.client.printer.note("error", message=unanswerable(ack_id, namespace))
                self._failed(ExitStatus.SERVER_ERROR)

    async def _join(self, namespace: str) -> None:
        """Wait for a join's answer: joined, it becomes the current namespace; refused, the
        current one stays (and a script exits 4)."""
        session = self.client.session
        joined = await self._block(
            lambda e: session.namespace_state(namespace) is not NamespaceState.CONNECTING,
            f"answer to join {namespace}",
        )
        if joined and session.namespace_state(namespace) is NamespaceState.CONNECTED:
            self.current.append(namespace)
        elif joined:
            self._failed(ExitStatus.NAMESPACE_REJECTED)

    async def _block(self, done: Any, what: str) -> bool:
        """Wait until an event satisfies ``done`` (``None``: whether it is so already), the
        --timeout at most; False, said, if it did not come."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.options.connect.timeout
        event: SessionEvent | None = None
        while not done(event):
            remaining = deadline - loop.time()
            if remaining <= 0:
                self.client.printer.note("error", message=f"no {what} within the --timeout")
                self._failed(ExitStatus.TIMEOUT)
                return False
            await asyncio.wait({self.events}, timeout=remaining)
            event = self._next_event() if self.events.done() else None
        return True


def _command(
    client: LiveClient, line: str, current: list[str], printer: EventPrinter
) -> tuple[str, str]:
    """Carry out one prompt command; returns what the loop must do next: ("quit", ""),
    ("wait", EVENT), ("join", NSP), ("ack", "NSP ID") after an emit asking for an ack,
    ("error", "") when the command failed (it was explained), or ("", "").
    ``current``: the namespaces used, the current one last."""
    if not line or line.startswith("#"):
        return "", ""
    verb, _, rest = line.partition(" ")
    rest = rest.strip()
    try:
        if verb in ("quit", "exit", "disconnect"):
            return "quit", ""
        if verb == "wait":
            if not rest:
                raise ArgumentError("usage: wait EVENT")
            return "wait", rest
        namespace = current[-1]
        if verb == "help":
            printer.write_text(HELP.format(nsp=namespace) + "\n")
        elif verb == "emit":
            name, args, ack = parse_emit(rest)
            ack_id = client.emit(name, args, namespace, ack)
            printer.note("emit", nsp=namespace, event=name, args=args, id=ack_id)
            if ack_id is not None:
                return "ack", f"{namespace} {ack_id}"
        elif verb == "ack":
            tokens = split_arguments(rest)
            if not tokens or not (tokens[0].isdigit() or tokens[0] == "last"):
                raise ArgumentError("usage: ack ID|last [ARGS...]")
            if tokens[0] == "last":
                owed = client.session.acks_owed(namespace)
                if not owed:
                    raise ArgumentError(f"no event on {namespace} awaits an ack")
                ack_id = owed[-1]
            else:
                ack_id = int(tokens[0])
            args = [parse_value(t) for t in tokens[1:]]
            client.act(client.session.ack, ack_id, *args, namespace=namespace)
            printer.note("ack_sent", nsp=namespace, id=ack_id, args=args)
        elif verb == "join":
            words = rest.split(None, 1)
            if not words:
                raise ArgumentError("usage: join NSP [AUTH]")
            namespace_given = words[0]
            auth = client.options.auth
            if len(words) > 1:
                try:  # as --auth reads it: the value (a secret) is never echoed
                    auth = AUTH.convert(words[1].strip(), None, None)
                except click.BadParameter as exc:
                    raise ArgumentError(f"AUTH: {exc.message}") from None
            client.act(client.session.connect, namespace_given, auth)
            return "join", namespace_given
        elif verb == "leave":
            left = _joined(client, rest or namespace)
            client.act(client.session.disconnect, left)
            current[:] = [n for n in current if n != left] or ["/"]
        elif verb == "use":
            current.append(_joined(client, rest or "/"))
        else:
            raise ArgumentError(f"unknown command {verb!r} (try 'help')")
    except (ArgumentError, LocalProtocolError) as exc:
        printer.note("error", message=str(exc))
        return "error", ""
    return "", ""


def _joined(client: LiveClient, namespace: str) -> str:
    if client.session.namespace_state(namespace) is NamespaceState.DISCONNECTED:
        raise ArgumentError(f"not joined to {namespace}: 'join {namespace}' first")
    return namespace


async def _stdin_lines(stdin: IO[bytes]) -> Any:
    """Lines of stdin without blocking the event loop (a terminal, a pipe, a file)."""
    loop = asyncio.get_running_loop()
    queue: asyncio.Queue[bytes | None] = asyncio.Queue()
    fd = stdin.fileno()
    buffer = b""

    def readable() -> None:
        try:
            chunk = os.read(fd, 65536)
        except OSError:
            chunk = b""
        if not chunk:
            # At EOF a pipe stays readable: left registered, this would run on every turn
            # of the loop (a core at 100% while a 'wait' waits).
            loop.remove_reader(fd)
        queue.put_nowait(chunk or None)

    try:
        loop.add_reader(fd, readable)
    except PermissionError:  # a regular file or /dev/null (epoll refuses them): never blocks
        while data := os.read(fd, 65536):
            queue.put_nowait(data)
        queue.put_nowait(None)
    try:
        while True:
            chunk = await queue.get()
            if chunk is None:
                if buffer:
                    yield buffer.decode("utf-8", "replace")
                loop.remove_reader(fd)
                return
            buffer += chunk
            while b"\n" in buffer:
                line, buffer = buffer.split(b"\n", 1)
                yield line.decode("utf-8", "replace")
    finally:
        with contextlib.suppress(Exception):
            loop.remove_reader(fd)
