"""Check 9, Namespaces: CONNECT to the URL's namespace and each ``-n``, with ``--auth``,
in one session."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from ..protocol.errors import LocalProtocolError
from ..protocol.session import Closed, NamespaceConnected, NamespaceRejected
from ..protocol.wordings import NO_NAMESPACE
from ..transports.errors import TransportError
from .evidence import ms
from .results import CheckResult, Report, Status
from .session import SessionPlan, flag_ended, open_session

if TYPE_CHECKING:
    from ..transports.driver import Connection

__all__ = ["check_namespaces"]


async def check_namespaces(plan: SessionPlan) -> CheckResult:
    report = Report("namespaces")
    main = plan.namespace
    names = [main, *(n for n in plan.options.namespaces if n != main)]
    async with open_session(plan, report, plan.tap()) as connection:
        if connection is None:
            return report.result()
        report.note(
            f"session over {plan.transport}, auth: "
            + ("--auth given" if plan.options.auth is not None else "none")
        )
        answers = await _join(plan, connection, names, report)
    report.data["namespaces"] = answers
    _judge(plan, report, answers)
    return report.result()


async def _join(
    plan: SessionPlan, connection: Connection, names: list[str], report: Report
) -> dict[str, dict[str, Any]]:
    """CONNECT to every namespace at once; each answer as the server sent it."""
    from ..render.jsonl import dumps_line

    answers: dict[str, dict[str, Any]] = {}
    started = time.monotonic()
    for name in names:
        try:
            connection.act(connection.session.connect, name, plan.options.auth)
        except LocalProtocolError as exc:
            answers[name] = {"status": "not sent", "message": str(exc)}
            report.note(f"{name}: {exc}")
    pending = [n for n in names if n not in answers]
    deadline = time.monotonic() + plan.timeout
    while pending:
        try:
            event = await connection.next_event(max(deadline - time.monotonic(), 0.01))
        except TransportError:
            break
        took = ms(time.monotonic() - started)
        if isinstance(event, NamespaceConnected) and event.namespace in pending:
            pending.remove(event.namespace)
            answers[event.namespace] = {"status": "connected", "sid": event.sid}
            sid = f" (sid {event.sid})" if event.sid else ""
            report.note(f"{event.namespace}: connected in {took}{sid}")
        elif isinstance(event, NamespaceRejected) and event.namespace in pending:
            pending.remove(event.namespace)
            answers[event.namespace] = {
                "status": "refused",
                "message": event.message,
                "data": event.data,
            }
            said = f"message {dumps_line(event.message)}"
            if event.data is not None:
                said += f", data {dumps_line(event.data)}"
            report.note(f"{event.namespace}: refused in {took}: CONNECT_ERROR {said}")
        elif isinstance(event, Closed):
            detail = f" ({event.detail})" if event.detail else ""
            report.note(f"the session ended: {event.reason}{detail}")
            flag_ended(
                report,
                connection,
                f"the session ended before every namespace answered: {event.reason}",
            )
            break
    for name in pending:
        answers[name] = {"status": "no answer"}
        report.note(f"{name}: no answer to CONNECT within {plan.timeout:g} s")
    return answers


def _judge(plan: SessionPlan, report: Report, answers: dict[str, dict[str, Any]]) -> None:
    def named(status: str, test: Callable[[dict[str, Any]], bool] = bool) -> list[str]:
        return [n for n, a in answers.items() if a["status"] == status and test(a)]

    joined = named("connected")
    invalid = named("refused", lambda a: a["message"] in NO_NAMESPACE)
    refused = named("refused", lambda a: a["message"] not in NO_NAMESPACE)
    silent, unsent = named("no answer"), named("not sent")
    bad = [*invalid, *refused, *silent, *unsent]
    if not bad:
        report.passed(f"joined {', '.join(joined)}")
        return
    why = {n: answers[n].get("message") or answers[n]["status"] for n in bad}
    report.flag(
        Status.FAIL,
        f"{len(bad)} of {len(answers)} namespaces refused: "
        + ", ".join(f"{n} ({why[n]})" for n in bad)
        + (f"; joined {', '.join(joined)}" if joined else ""),
    )
    for name in invalid:
        report.flag(
            Status.FAIL,
            "",
            f"{name} does not exist on the server ({answers[name]['message']}). The URL's "
            "path is the "
            f"namespace (…{name} joins {name}), -n adds more; if {name} is where the server "
            f"is mounted, use --path {name}/ and the URL without it. On the server a "
            f'namespace exists once used: io.of("{name}") (python-socketio: a handler with '
            "namespace=...)",
        )
    if refused:
        where = "io(url, { auth })" if plan.revision == 4 else "the query option"
        names = ", ".join(refused)
        report.flag(
            Status.FAIL,
            "",
            f"no --auth was given, and the server's middleware refused {names}: pass what "
            f"it expects with --auth JSON (socket.io-client: {where})"
            if plan.options.auth is None
            else f"the server's middleware refused this --auth on {names}: its message "
            "and data are above; check the token and what the middleware expects "
            f"(socket.io-client: {where})",
        )
    if silent:
        report.flag(
            Status.FAIL,
            "",
            f"no answer to CONNECT for {', '.join(silent)}: a middleware that never calls "
            "next() (Socket.IO 2.x: a middleware on / holds every namespace)",
        )
    if unsent:
        report.flag(Status.FAIL, "", "a namespace starts with '/' and holds no ',' or '?'")
