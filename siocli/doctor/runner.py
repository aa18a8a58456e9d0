"""Runs the checks in order: each one that later ones depend on gates them (they are
skipped, with the reason, when it found nothing to go on with); the rest carry on with what
works. The heartbeat session opens as soon as the transport is known and runs beside the
later checks, so a healthy server costs about one ``pingInterval``."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import time
from collections.abc import Awaitable, Callable
from typing import IO, TYPE_CHECKING

from ..exit import ExitStatus, run_command
from ..live import LiveOptions
from ..transports.config import transport_of
from .findings import Findings
from .handshake import check_handshake
from .heartbeat import check_heartbeat
from .namespaces import check_namespaces
from .parser import check_parser
from .path import check_path
from .polling import check_polling
from .probe import Prober
from .protocol import check_protocol
from .reach import check_reach
from .results import CHECKS, CheckResult, Status, skipped
from .session import SessionPlan
from .sticky import check_sticky
from .websocket import check_websocket

if TYPE_CHECKING:
    from ..render.doctor import DoctorPrinter

__all__ = ["run_doctor"]

Check = Callable[[], Awaitable[CheckResult]]


def run_doctor(
    options: LiveOptions, sessions: int, out: IO[str], err: IO[str], *, no_color: bool = False
) -> ExitStatus:
    """Run every check against ``options.connect.url``, print each as it ends and a summary;
    0 when nothing failed (warnings allowed), 1 when something did, 70 when a check crashed
    (a bug), 130 on Ctrl-C. Colour only on a terminal, never with ``no_color``/``NO_COLOR``."""
    from ..render.doctor import DoctorPrinter

    printer = DoctorPrinter(out, as_json=options.as_json, no_color=no_color)
    runner = CheckRunner(options, sessions, printer, err)
    return run_command(runner.main())


class CheckRunner:
    """Runs the checks in order, and prints each result as it comes."""

    def __init__(
        self, options: LiveOptions, sessions: int, printer: DoctorPrinter, err: IO[str]
    ) -> None:
        self.options = options
        self.sessions = max(1, sessions)
        self.printer = printer
        self.err = err
        self.probe = Prober(options.connect, verbose=options.verbose, err=err)
        self.found = Findings()
        self.results: list[CheckResult] = []
        self.crashed = False

    async def main(self) -> ExitStatus:
        started = time.monotonic()
        heartbeat: asyncio.Task[CheckResult] | None = None
        try:
            heartbeat = await self._run_checks()
            if heartbeat is not None:
                self._emit(await heartbeat)
        finally:
            if heartbeat is not None and not heartbeat.done():
                heartbeat.cancel()
                with contextlib.suppress(BaseException):
                    await heartbeat
            await self.probe.close()
        if self.crashed:
            status = ExitStatus.INTERNAL
        elif any(r.status is Status.FAIL for r in self.results):
            status = ExitStatus.FINDINGS
        else:
            status = ExitStatus.OK
        self.printer.summary(self.results, time.monotonic() - started, int(status))
        return status

    async def _run_checks(self) -> asyncio.Task[CheckResult] | None:
        """Checks 1-8 in order; returns the heartbeat's task (check 9), running meanwhile."""
        probe, found = self.probe, self.found
        gates: tuple[tuple[str, Check, Callable[[CheckResult], bool], str], ...] = (
            (
                "reach",
                lambda: check_reach(probe),
                lambda result: result.status is not Status.FAIL,
                "the server cannot be reached (see Reach)",
            ),
            (
                "path",
                lambda: check_path(probe, found),
                lambda _: found.path is not None,
                "no handshake path answers (see Path)",
            ),
            (
                "protocol",
                lambda: check_protocol(probe, found),
                lambda _: found.revision is not None,
                "no handshake succeeded (see Protocol)",
            ),
            (
                "handshake",
                lambda: check_handshake(probe, found),
                lambda _: found.handshake is not None,
                "no valid handshake (see Handshake)",
            ),
        )
        for check, body, passes, why_not in gates:
            if not passes(await self._run(check, body)):
                self._skip_rest(why_not)
                return None
        await self._run("parser", lambda: check_parser(probe, found))
        await self._run("polling", lambda: check_polling(probe, found))
        await self._run("websocket", lambda: check_websocket(probe, found))
        transport, why_not = self._session_transport()
        plan: SessionPlan | None = None
        heartbeat: asyncio.Task[CheckResult] | None = None
        if transport is not None:
            plan = SessionPlan.over(transport, self.options, found, self.err)
            heartbeat = self._start_heartbeat(plan)
        await self._run("sticky", lambda: check_sticky(probe, found, self.sessions))
        if plan is None:
            self._skip_rest(f"{why_not} (see above)")
            return None
        await self._run("namespaces", lambda: check_namespaces(plan))
        return heartbeat

    def _start_heartbeat(self, plan: SessionPlan) -> asyncio.Task[CheckResult]:
        hs = self.found.handshake
        assert hs is not None
        return asyncio.ensure_future(self._guarded("heartbeat", lambda: check_heartbeat(plan, hs)))

    def _session_transport(self) -> tuple[str | None, str]:
        """The transport a client ends up on (namespaces and heartbeat run over it), or
        ``None`` and why there is none."""
        connect, found = self.options.connect, self.found
        wanted = transport_of(connect, self.probe.target)
        if wanted == "websocket" or (wanted == "auto" and found.websocket_works):
            return ("websocket", "") if found.websocket_works else (None, "WebSocket fails")
        if found.polling_works:
            return "polling", ""
        if wanted == "polling":
            return None, "long-polling fails, and --transport polling rules out WebSocket"
        return None, "neither long-polling nor WebSocket works"

    async def _run(self, check: str, body: Check) -> CheckResult:
        # The probes' close requests go first: their order matters behind a balancer.
        await self.probe.settle_releases()
        result = await self._guarded(check, body)
        self._emit(result)
        return result

    async def _guarded(self, check: str, body: Check) -> CheckResult:
        started = time.monotonic()
        try:
            result = await body()
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # a bug in a check must not hide the others' results
            self.crashed = True
            result = CheckResult(
                check,
                Status.FAIL,
                f"siocli could not run this check: {type(exc).__name__}: {exc}",
                fix="this is a bug in siocli: please report it with the command line",
            )
        return dataclasses.replace(result, seconds=time.monotonic() - started)

    def _emit(self, result: CheckResult) -> None:
        self.results.append(result)
        self.printer.check(result)

    def _skip_rest(self, reason: str) -> None:
        done = {r.check for r in self.results}
        for check, _ in CHECKS:
            if check not in done:
                self._emit(skipped(check, reason))
