"""``siocli replay``: recordings played against a server (or served to clients, ``--serve``)."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Any

import click

from ..exit import CommandError, ExitStatus
from ..params import PATH, auth_option, header_option, parser_option, query_option

if TYPE_CHECKING:
    from ..recording import Recording


EPILOG_REPLAY = """\b
Examples:
  siocli replay recordings/chat.jsonl --url http://127.0.0.1:3000 --fast
  siocli replay recordings/*.jsonl --url http://staging:3000 --auth @token.json --junit out.xml
  siocli replay rec.jsonl --ignore 'tick[0].time' --ignore 'welcome[0].at'
  siocli replay rec.jsonl --serve --port 3000        # be the recorded server for a client
  siocli replay rec.jsonl --serve --strict --clients 1 --fast   # in CI, beside the client
"""


@click.command(epilog=EPILOG_REPLAY)
@click.argument("recordings", nargs=-1, required=True, type=click.Path(dir_okay=False))
@click.option("--url", help="The server to check (default: each recording's URL).")
@click.option("--path", type=PATH, help="The handshake path (default: the recording's).")
@click.option(
    "--transport",
    type=click.Choice(["auto", "polling", "websocket"]),
    help="Transport (default: the recording's).",
)
@click.option("--eio", type=click.Choice(["auto", "3", "4"]), default="auto", show_default=True)
@parser_option(None)
@auth_option("CONNECT payload, for recordings whose auth was redacted.")
@header_option("HTTP header on every request (repeatable).")
@query_option(
    "Query parameter on every request, over the recording's (give again what it redacted)."
)
@click.option("-k", "--insecure", is_flag=True, help="Do not verify TLS certificates.")
@click.option("--cacert", type=click.Path(exists=True, dir_okay=False))
@click.option("--fast", is_flag=True, help="Do not wait the recorded time between steps.")
@click.option(
    "--ignore",
    "ignores",
    multiple=True,
    metavar="EVENT[I].PATH",
    help="A volatile field to ignore, e.g. 'tick[0].time' (repeatable).",
)
@click.option(
    "--timeout",
    type=click.FloatRange(min=0, min_open=True),
    default=5.0,
    show_default=True,
    help="Seconds to wait for each expected answer.",
)
@click.option("--json", "as_json", is_flag=True, help="One JSON object per step.")
@click.option(
    "--junit",
    type=click.Path(dir_okay=False, writable=True),
    help="Also write a JUnit XML report to FILE.",
)
@click.option(
    "--serve",
    is_flag=True,
    help="Be the recorded server instead: play the recording's server side to clients.",
)
@click.option(
    "--host", default="127.0.0.1", show_default=True, help="With --serve: the address to bind."
)
@click.option(
    "--port",
    type=click.IntRange(0, 65535),
    default=3000,
    show_default=True,
    help="With --serve: the port (0: any).",
)
@click.option(
    "--strict", is_flag=True, help="With --serve: exit 6 if a client did not act as recorded."
)
@click.option(
    "--clients",
    type=click.IntRange(min=1),
    metavar="N",
    help="With --serve: stop after N client sessions ended (default: at Ctrl-C).",
)
@click.option("-q", "--quiet", is_flag=True, help="With --serve: show divergences only.")
@click.option("-v", "--verbose", is_flag=True, help="With --serve: every wire message too.")
@click.pass_context
def replay(ctx: click.Context, **kwargs: Any) -> None:
    """Replay the client side of recorded sessions against a server, and check that it
    answers as recorded: same events, args, acks, connect errors, disconnects.

    Session ids, ack-id numbering, timing and heartbeats are normalised. Order: strict per
    namespace. Several recordings run concurrently. A recording's first Engine.IO session
    is replayed: later ones (reconnections) are said, with their steps, not checked. Exit
    0 when all match, 6 on a mismatch, 3 when the server cannot be reached, 2 for an
    unreadable recording or nothing to replay.

    With --serve, siocli is the recorded server: it answers a client's handshake with the
    recording's Engine.IO revision and heartbeat, namespace CONNECTs as recorded (CONNECT
    or CONNECT_ERROR), and when the client does what the recorded client did (same event,
    namespace and args, ids normalised), plays what the server sent next, at the recorded
    pace (--fast: at once). What the client does differently is reported as it happens
    and per client session.
    """
    import asyncio

    from ..render import replay as render
    from ..replay import (
        ReplayRun,
        needs_auth,
        parse_ignore,
        redacted_query,
        replay_all,
        replay_status,
    )

    for spec in kwargs["ignores"]:
        try:
            parse_ignore(spec)
        except ValueError as exc:
            raise click.BadParameter(str(exc), param_hint="--ignore") from None
    if kwargs["serve"]:
        ctx.exit(int(_serve_recording(kwargs, ctx.obj["traceback"], ctx.obj["no_color"])))
    for name in ("strict", "clients", "quiet", "verbose"):
        if kwargs[name]:
            raise click.UsageError(f"--{name} goes with --serve")
    if kwargs["url"] is not None:
        try:  # said now, as connect says it, not as every recording's failure
            _check_url(kwargs["url"])
        except ValueError as exc:
            raise click.BadParameter(str(exc), param_hint="'--url'") from None
    auth = kwargs["auth"]
    queries = list(kwargs["queries"])
    recordings = _load_recordings(kwargs["recordings"], kwargs["parser"])
    _check_ignores(kwargs["ignores"], recordings)
    for recording in recordings:
        missing = redacted_query(recording, tuple(queries))
        if missing and not kwargs["serve"]:
            raise CommandError(
                ExitStatus.USAGE,
                f"{recording.name}: the recorded query parameter(s) {', '.join(missing)} were "
                "redacted; give them with --query K=V (or record with --no-redact)",
            )
        if kwargs["url"] is None:
            try:  # a recording edited by hand: its URL is read by replay, not by connect
                _check_url(str(recording.header.get("url", "")))
            except ValueError as exc:
                raise CommandError(
                    ExitStatus.USAGE,
                    f"{recording.name}: the recorded URL: {exc}",
                    "give the server to replay against with --url",
                ) from None
        if auth is None and needs_auth(recording):
            raise CommandError(
                ExitStatus.USAGE,
                f"{recording.name}: the recorded auth payload was redacted; give it with "
                "--auth JSON|@FILE or $SIOCLI_AUTH (or record with --no-redact)",
            )
    _check_junit(kwargs["junit"])
    run = ReplayRun(
        recordings=kwargs["recordings"],
        url=kwargs["url"],
        path=kwargs["path"],
        transport=kwargs["transport"],
        eio=None if kwargs["eio"] == "auto" else int(kwargs["eio"]),
        auth=auth,
        headers=tuple(kwargs["headers"]),
        query=tuple(queries),
        insecure=kwargs["insecure"],
        cacert=kwargs["cacert"],
        fast=kwargs["fast"],
        ignore=tuple(kwargs["ignores"]),
        timeout=kwargs["timeout"],
        as_json=kwargs["as_json"],
        junit=kwargs["junit"],
    )
    reports = asyncio.run(replay_all(run, recordings))
    for each in reports:
        (render.write_json if run.as_json else render.write_human)(each, sys.stdout)
    status = replay_status(reports)
    if run.junit and not render.save_junit(reports, run.junit, sys.stderr):
        status = status if status is not ExitStatus.OK else ExitStatus.USAGE
    ctx.exit(int(status))


def _check_junit(path: str | None) -> None:
    """A --junit report that cannot be written is said before the run (exit 2), not
    after it, when it would cost the run's verdict."""
    from ..render.replay import junit_problem

    problem = junit_problem(path) if path else None
    if problem is not None:
        raise CommandError(ExitStatus.USAGE, problem)


def _check_url(url: str) -> None:
    """``ValueError`` with the reason when ``url`` cannot be connected to."""
    from ..transports.config import ConnectOptions, parse_target

    parse_target(ConnectOptions(url=url))


def _check_ignores(specs: tuple[str, ...], recordings: list[Recording]) -> None:
    """An --ignore that names nothing in the recordings is a mistake (a typo, an ack named
    as an event): said, not silently matched against nothing."""
    from ..script import ignore_targets, later_sessions, parse_ignore, script_of

    targets: set[str] = set()
    for recording in recordings:
        steps = script_of(recording)
        targets |= ignore_targets(steps)
        # what only a later session names is there, though not replayed: not a typo
        for later in later_sessions(recording, len(steps) + 1):
            targets |= ignore_targets(later)
    for spec in specs:
        name = parse_ignore(spec)[0]
        if name != "*" and name not in targets:
            known = ", ".join(sorted(targets)[:12]) or "none"
            raise click.BadParameter(
                f"{spec!r}: nothing named {name!r} in the recordings (events and acks there: "
                f"{known})",
                param_hint="--ignore",
            )


def _load_recordings(paths: tuple[str, ...], parser: str | None = None) -> list[Recording]:
    """The recordings to replay; what reading them found (a cut last line, a line of a
    session not replayed) is said first, since the replay stops where a recording does.
    A line that cannot be read in the session replayed, or no Socket.IO packet to replay,
    is an unreadable recording (exit 2): a replay of part of a session would pass or fail
    on steps it does not have. ``parser`` (--parser) overrides each recording's header."""
    from ..recording import RecordingError, line_of, load_recording
    from ..script import script_of

    try:
        recordings = [load_recording(path) for path in paths]
    except RecordingError as exc:
        raise CommandError(ExitStatus.USAGE, str(exc)) from None
    for recording in recordings:
        if parser is not None:
            recording.header["parser"] = parser
        end = recording.second_session_line()
        damaged = [
            p
            for p in recording.problems
            if p.unreadable and (end is None or line_of(p.source) < end)
        ]
        if damaged:
            more = f" (and {len(damaged) - 1} more line(s))" if len(damaged) > 1 else ""
            raise CommandError(
                ExitStatus.USAGE,
                f"{damaged[0].source}: {damaged[0].message}{more}; cannot replay a session "
                "with steps missing (decode shows what the other lines hold)",
            )
        for problem in recording.problems:
            sys.stderr.write(f"siocli: {problem.source}: {problem.message}\n")
        if all(step.kind == "close" for step in script_of(recording)):
            raise CommandError(
                ExitStatus.USAGE,
                f"{recording.name}: nothing to replay: no Socket.IO packet in "
                + ("its first session" if end is not None else "the recording"),
            )
    return recordings


def _serve_recording(kwargs: dict[str, Any], traceback: bool, no_color: bool) -> ExitStatus:
    """``replay --serve``: one recording, played as the server."""
    from ..recorded_server import RecordedServerOptions, run_recorded_server
    from ..render.replay import not_replayed
    from ..script import later_sessions, script_of

    if len(kwargs["recordings"]) != 1:
        raise click.UsageError("--serve plays one recording")
    for name in ("url", "transport", "auth", "cacert"):
        if kwargs[name]:
            raise click.UsageError(
                f"--{name} is for replaying against a server; with --serve, siocli is the "
                "server: point the client under test at it"
            )
    (recording,) = _load_recordings(kwargs["recordings"][:1], kwargs["parser"])
    _check_junit(kwargs["junit"])
    later = later_sessions(recording, len(script_of(recording)) + 1)
    if later:  # a client is checked against the first session only: said, not implied
        sys.stderr.write(
            f"siocli: {recording.name}: {not_replayed(later, 'served')}: replay --serve plays "
            "the recording's first session\n"
        )
    options = RecordedServerOptions(
        host=kwargs["host"],
        port=kwargs["port"],
        path=kwargs["path"],
        fast=kwargs["fast"],
        strict=kwargs["strict"],
        ignore=tuple(kwargs["ignores"]),
        clients=kwargs["clients"],
        as_json=kwargs["as_json"],
        quiet=kwargs["quiet"],
        verbose=kwargs["verbose"],
        junit=kwargs["junit"],
        traceback=traceback,
        no_color=no_color,
    )
    return run_recorded_server(recording, options, sys.stdout, sys.stderr)
