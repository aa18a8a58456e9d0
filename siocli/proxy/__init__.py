"""``siocli proxy``: a reverse proxy that relays a real app's Socket.IO traffic unchanged,
shows it live (annotated and checked, both sides), records it per client session, and
injects faults on demand.

:mod:`.relay` moves the bytes, :mod:`.view` is the side view (the core's dissector, the
renderers, the recording writer), :mod:`.faults` decides what a fault keeps back,
:mod:`.frames` reads WebSocket frames without re-framing them.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import ssl
from typing import IO

from ..exit import CommandError, ExitStatus, cannot_listen
from .options import DropRule, Faults, OptionError, ProxyOptions, Target

__all__ = ["DropRule", "Faults", "OptionError", "ProxyOptions", "Target", "proxy", "run_proxy"]


async def proxy(
    options: ProxyOptions,
    out: IO[str],
    err: IO[str],
    *,
    ready: asyncio.Future[int] | None = None,
    color: bool = False,
    view_fd: int | None = None,
) -> ExitStatus:
    """Relay until Ctrl-C (or until the task is cancelled). ``view_fd``: the view's work
    goes to the worker process reading it (:func:`.view.serve`), else it is done here,
    between the relay's reads."""
    from dataclasses import replace

    from .relay import Proxy
    from .view import LiveView

    _make_record_dir(options)
    view = LiveView(options, out, color=color)
    if view_fd is not None:
        view.hand_over(view_fd)
    relay = Proxy(options, view, err)
    try:
        port = await relay.start()
    except OSError as exc:  # ssl.SSLError is one too
        view.close()
        await view.closed()  # the worker, if any, ends with the relay
        if isinstance(exc, ssl.SSLError):
            raise CommandError(ExitStatus.USAGE, f"cannot use --cert/--key: {exc}") from None
        raise cannot_listen(options.host, options.port, exc) from None
    listening = replace(options, port=port)
    faults = _describe(options.faults)
    err.write(
        f"siocli proxy: {listening.listen_url} → {options.target.url}"
        f"{' (' + faults + ')' if faults else ''}\n"
        f"  point the app at {listening.listen_url} instead of {options.target.url}\n"
    )
    err.flush()
    if ready is not None:
        ready.set_result(port)
    stop = asyncio.get_running_loop().create_future()
    with contextlib.suppress(NotImplementedError, RuntimeError):
        asyncio.get_running_loop().add_signal_handler(signal.SIGINT, stop.cancel)
        asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.cancel)
    if view_fd is not None:
        # the worker ends when the reader of stdout left (`siocli proxy --json | head`),
        # and the relay with it: as every command, with exit 0
        def end(_: object) -> None:
            if not stop.done():
                stop.set_result(None)

        asyncio.ensure_future(view.closed()).add_done_callback(end)
    try:
        await stop
        return ExitStatus.OK
    except asyncio.CancelledError:
        return ExitStatus.INTERRUPTED
    finally:
        await relay.close()


def _make_record_dir(options: ProxyOptions) -> None:
    """``--record DIR`` made if it is not there yet; a usage error if it cannot be."""
    if options.record:
        try:
            os.makedirs(options.record, exist_ok=True)
        except FileExistsError:  # makedirs' word for a file where the directory would be
            raise CommandError(
                ExitStatus.USAGE, f"--record {options.record}: not a directory (a file is there)"
            ) from None
        except OSError as exc:
            raise CommandError(
                ExitStatus.USAGE, f"cannot create {options.record}: {exc.strerror}"
            ) from None


def _describe(faults: Faults) -> str:
    said = []
    if faults.latency or faults.jitter:
        jitter = f"±{faults.jitter * 1000:g}" if faults.jitter else ""
        said.append(f"latency {faults.latency * 1000:g}{jitter} ms")
    said += [
        f"drop {rule.direction.value + ':' if rule.direction else ''}{rule.glob}"
        for rule in faults.drop
    ]
    if faults.cut_messages is not None:
        said.append(f"cut after {faults.cut_messages} messages")
    if faults.cut_seconds is not None:
        said.append(f"cut after {faults.cut_seconds:g} s")
    if faults.no_upgrade:
        said.append("no upgrade")
    if faults.stall_heartbeat:
        said.append("heartbeats swallowed")
    return ", ".join(said)


def run_proxy(
    options: ProxyOptions, out: IO[str], err: IO[str], *, color: bool = False
) -> ExitStatus:
    """The command: the relay here, the view (dissecting, rendering, recording) in a worker
    process, so that relaying never waits for it and the two use two cores. Where a
    process cannot be forked, the view runs between the relay's reads."""
    import multiprocessing

    from .view import serve

    try:
        context = multiprocessing.get_context("fork")
    except ValueError:  # no fork (Windows)
        return asyncio.run(proxy(options, out, err, color=color))
    _make_record_dir(options)  # the worker writes there: said here, before it starts
    out.flush()
    read_end, write_end = os.pipe()
    worker = context.Process(target=serve, args=(options, read_end, write_end, color), daemon=True)
    worker.start()
    os.close(read_end)
    try:
        return asyncio.run(proxy(options, out, err, color=color, view_fd=write_end))
    finally:
        worker.join(30)
        if worker.is_alive():
            worker.kill()
