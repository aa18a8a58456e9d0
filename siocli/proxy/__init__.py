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
) -> ExitStatus:
    """Relay until Ctrl-C (or until the task is cancelled)."""
    from dataclasses import replace

    from .relay import Proxy
    from .view import LiveView

    if options.record:
        try:
            os.makedirs(options.record, exist_ok=True)
        except OSError as exc:
            raise CommandError(
                ExitStatus.USAGE, f"cannot create {options.record}: {exc.strerror}"
            ) from None
    view = LiveView(options, out, color=color)
    relay = Proxy(options, view, err)
    try:
        port = await relay.start()
    except OSError as exc:
        raise cannot_listen(options.host, options.port, exc) from None
    except ssl_errors() as exc:
        raise CommandError(ExitStatus.USAGE, f"cannot use --cert/--key: {exc}") from None
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
    try:
        await stop
    except asyncio.CancelledError:
        pass
    finally:
        await relay.close()
    return ExitStatus.INTERRUPTED


def ssl_errors() -> type[Exception]:
    import ssl

    return ssl.SSLError


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
    return asyncio.run(proxy(options, out, err, color=color))
