"""``connect``: the interactive prompt (or a script on stdin) over the live client."""

from __future__ import annotations

import asyncio
import contextlib
import os
from typing import IO, Any

from ..arguments import ArgumentError, parse_command_line, parse_value, split_arguments
from ..exit import ExitStatus
from ..protocol.errors import LocalProtocolError
from ..protocol.session import (
    EventMessage,
    NamespaceState,
    SessionEvent,
)
from ..render.events import EventPrinter
from .client import LiveClient, LiveOptions
from .commands import with_client

__all__ = ["HELP", "connect_main"]


HELP = """commands:
  emit EVENT [ARGS...]        send an event (args: JSON, bare words, hex:.., b64:.., @file)
  emit --ack EVENT [ARGS...]  send it asking for an ack; the ack prints when it comes
  ack ID|last [ARGS...]       answer the server's event ID (or the last one asking)
  join NSP [AUTH]             connect another namespace (AUTH: a JSON object)
  leave NSP                   leave a namespace
  use NSP                     the namespace emit and ack use (now: {nsp})
  wait EVENT                  wait until the server sends EVENT (for scripts)
  disconnect                  leave everything and quit (also: quit, exit, Ctrl-D)
  help                        this text"""


async def connect_main(
    options: LiveOptions, out: IO[str], err: IO[str], stdin: IO[bytes], interactive: bool
) -> ExitStatus:
    async def body(client: LiveClient) -> ExitStatus:
        return await _Prompt(client, options, stdin, interactive).run()

    return await with_client(options, out, err, body)


class _Prompt:
    """``connect``'s command loop: commands from stdin, events from the server, at once."""

    def __init__(
        self,
        client: LiveClient,
        options: LiveOptions,
        stdin: IO[bytes],
        interactive: bool,
    ) -> None:
        self.client = client
        self.options = options
        client.printer.ack_advice = True
        self.lines = _stdin_lines(stdin)
        self.interactive = interactive
        self.show_prompt = interactive and not options.as_json
        self.failed = False  # a command failed (a script then exits 2)
        self.current = [client.main_namespace]
        self.events: asyncio.Future[SessionEvent] = asyncio.ensure_future(client.next_event())

    async def run(self) -> ExitStatus:
        printer = self.client.printer
        if self.show_prompt:
            printer.prompt = "› "
            printer.write_text("type 'help' for commands\n" + printer.prompt)
        reading = asyncio.ensure_future(self.lines.__anext__())
        try:
            while True:
                done, _ = await asyncio.wait(
                    {self.events, reading}, return_when=asyncio.FIRST_COMPLETED
                )
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
                self.failed |= verb == "error"
                if verb == "quit":
                    return self._status()
                # A join completes before the next command, and 'wait EVENT' waits for the
                # event: scripts depend on both.
                await self._block(argument if verb == "wait" else None)
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
        return ExitStatus.USAGE if self.failed and not self.interactive else ExitStatus.OK

    def _next_event(self) -> SessionEvent:
        event = self.events.result()  # printed by next_event; raises CommandError at the end
        self.events = asyncio.ensure_future(self.client.next_event())
        return event

    async def _block(self, awaited: str | None) -> None:
        """Wait for a join's answer, or for ``wait EVENT``'s event; the --timeout at most."""
        session = self.client.session
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.options.connect.timeout
        namespace = self.current[0]
        while (awaited is not None) or (
            session.namespace_state(namespace) is NamespaceState.CONNECTING
        ):
            remaining = deadline - loop.time()
            if remaining <= 0:
                what = f"'{awaited}'" if awaited is not None else f"answer to join {namespace}"
                self.client.printer.note("error", message=f"no {what} within the --timeout")
                self.failed = True
                return
            await asyncio.wait({self.events}, timeout=remaining)
            if self.events.done():
                event = self._next_event()
                if isinstance(event, EventMessage) and str(event.name) == awaited:
                    return


def _command(
    client: LiveClient, line: str, current: list[str], printer: EventPrinter
) -> tuple[str, str]:
    """Carry out one prompt command; returns what the loop must do next: ("quit", ""),
    ("wait", EVENT), ("error", "") when the command failed (it was explained), or ("", "")."""
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
        if verb == "help":
            printer.write_text(HELP.format(nsp=current[0]) + "\n")
        elif verb == "emit":
            ack = rest.startswith("--ack")
            name, args = parse_command_line(rest[5:] if ack else rest)
            ack_id = client.emit(name, args, current[0], ack)
            printer.note("emit", nsp=current[0], event=name, args=args, id=ack_id)
        elif verb == "ack":
            tokens = split_arguments(rest)
            if not tokens or not (tokens[0].isdigit() or tokens[0] == "last"):
                raise ArgumentError("usage: ack ID|last [ARGS...]")
            if tokens[0] == "last":
                owed = client.session.acks_owed(current[0])
                if not owed:
                    raise ArgumentError(f"no event on {current[0]} awaits an ack")
                ack_id = owed[-1]
            else:
                ack_id = int(tokens[0])
            args = [parse_value(t) for t in tokens[1:]]
            client.act(client.session.ack, ack_id, *args, namespace=current[0])
            printer.note("ack_sent", nsp=current[0], id=ack_id, args=args)
        elif verb == "join":
            tokens = split_arguments(rest)
            if not tokens:
                raise ArgumentError("usage: join NSP [AUTH]")
            auth = parse_value(tokens[1]) if len(tokens) > 1 else client.options.auth
            if auth is not None and not isinstance(auth, dict):
                raise ArgumentError("AUTH must be a JSON object")
            client.act(client.session.connect, tokens[0], auth)
            current[0] = tokens[0]
        elif verb == "leave":
            client.act(client.session.disconnect, _joined(client, rest or current[0]))
        elif verb == "use":
            current[0] = _joined(client, rest or "/")
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
