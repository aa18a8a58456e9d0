"""``emit`` and ``listen`` on the live client, and how every live command runs (Ctrl-C,
the ``--json`` error line, the recording closed whatever happens)."""

from __future__ import annotations

import asyncio
import fnmatch
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import IO, Any

from ..arguments import parse_emit
from ..exit import CommandError, ExitStatus
from ..exit import run_command as run_live
from ..protocol.session import (
    EventMessage,
    NamespaceDisconnected,
    SessionEvent,
)
from ..recording import RecordingWriter, secrets_of
from ..render.events import EventPrinter
from ..render.tap import make_tap
from .client import LiveClient, LiveOptions
from .record import fan_out, recorded_options

__all__ = ["ListenSpec", "emit_main", "listen_main", "run_live", "with_client"]


async def with_client(
    options: LiveOptions,
    out: IO[str],
    err: IO[str],
    body: Callable[[LiveClient], Any],
    show: Callable[[SessionEvent], bool] | None = None,
) -> ExitStatus:
    printer = EventPrinter(out, as_json=options.as_json, quiet=options.quiet)
    taps = [make_tap(options.verbose, err, started=time.time(), no_color=options.no_color)]
    recording: IO[str] | None = None
    recorder = None
    if options.record:
        try:
            recording = open(options.record, "w", encoding="utf-8")  # noqa: SIM115 - closed below
        except OSError as exc:
            raise CommandError(
                ExitStatus.USAGE, f"cannot write the recording {options.record}: {exc.strerror}"
            ) from None
        recorder = RecordingWriter(
            recording,
            options.connect.url,
            recorded_options(options),
            redact=options.redact,
            secrets=secrets_of(options.auth),
            parser=options.connect.parser,
        )
        taps.append(recorder.message)
    client = LiveClient(options, printer, fan_out([t for t in taps if t is not None]))
    client.recorder = recorder
    if show is not None:
        client.show = show
    try:
        await client.start_retrying()
        status = await body(client)
    except CommandError as exc:
        if options.as_json:  # a script reading the stream learns why it ended
            fields = {"status": int(exc.status), "message": exc.message, "hint": exc.hint}
            printer.note("error", **{k: v for k, v in fields.items() if v is not None})
        raise
    except asyncio.CancelledError:  # Ctrl-C
        if options.as_json:
            printer.note("error", status=int(ExitStatus.INTERRUPTED), message="interrupted")
        raise
    finally:
        await client.stop()
        printer.flush()
        if recorder is not None and recording is not None:
            recorder.close()
            recording.close()
    return status if isinstance(status, ExitStatus) else ExitStatus.OK


async def emit_main(
    options: LiveOptions, event: str, args: list[Any], ack: bool, out: IO[str], err: IO[str]
) -> ExitStatus:
    async def body(client: LiveClient) -> ExitStatus:
        namespace = client.main_namespace
        ack_id = client.emit(event, args, namespace, ack)
        client.printer.note("emit", nsp=namespace, event=event, args=args, id=ack_id)
        if ack_id is not None:
            await client.wait_ack(namespace, ack_id, options.connect.timeout)
        else:
            await client.finish_sending(options.connect.timeout)
        return ExitStatus.OK

    return await with_client(options, out, err, body)


@dataclass(frozen=True, slots=True)
class ListenSpec:
    patterns: tuple[str, ...] = ()
    count: int | None = None
    until: str | None = None
    duration: float | None = None
    emits: tuple[str, ...] = ()
    auto_ack: Any = None  # answer every ack request with this (a list: the args)


async def listen_main(
    options: LiveOptions, spec: ListenSpec, out: IO[str], err: IO[str]
) -> ExitStatus:
    def matches(event: SessionEvent) -> bool:
        return (
            not spec.patterns
            or not isinstance(event, EventMessage)
            or any(fnmatch.fnmatchcase(str(event.name), p) for p in spec.patterns)
        )

    def send_emits(client: LiveClient) -> None:
        for line in spec.emits:
            name, args, ack = parse_emit(line, verb=True)
            namespace = client.main_namespace
            ack_id = client.emit(name, args, namespace, ack)
            client.printer.note("emit", nsp=namespace, event=name, args=args, id=ack_id)

    async def body(client: LiveClient) -> ExitStatus:
        send_emits(client)
        # a new session after a reconnection has lost what the emits subscribed to
        client.on_rejoined = send_emits
        seen = 0
        loop = asyncio.get_running_loop()
        deadline = loop.time() + spec.duration if spec.duration is not None else None
        while spec.count is None or seen < spec.count:
            remaining = None if deadline is None else deadline - loop.time()
            if remaining is not None and remaining <= 0:
                break
            event = client.ready_event()
            if event is None:
                try:
                    event = await client.next_event(remaining)
                except CommandError as exc:
                    if exc.status is ExitStatus.TIMEOUT and deadline is not None:
                        break
                    raise
            if not isinstance(event, EventMessage):
                if (
                    isinstance(event, NamespaceDisconnected)
                    and event.reason == "io server disconnect"
                    and not any(client.joined.values())
                ):
                    raise CommandError(
                        ExitStatus.SERVER_ERROR,
                        f"the server disconnected the client from {event.namespace}, "
                        "its last namespace (io server disconnect)",
                    )
                continue
            if event.ack_id is not None and spec.auto_ack is not None:
                answer = spec.auto_ack if isinstance(spec.auto_ack, list) else [spec.auto_ack]
                client.act(client.session.ack, event.ack_id, *answer, namespace=event.namespace)
            # --until stops at its event whatever the filter shows
            if spec.until is not None and event.name == spec.until:
                break
            if not matches(event):
                continue
            seen += 1
        return ExitStatus.OK

    return await with_client(options, out, err, body, matches)
