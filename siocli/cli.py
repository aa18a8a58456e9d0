"""The command line: thin click commands over the library.

Each command parses its options, calls the library and returns an :class:`ExitStatus`;
:func:`main` is the one place that maps errors to exit codes (the table is in
:mod:`siocli.exit`). Commands import what they use inside their bodies, so that
``siocli --help`` and ``siocli decode`` stay fast (``decode`` never imports httpx,
websockets or asyncio).
"""

from __future__ import annotations

import os
import re
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import click

from . import __version__
from .exit import CommandError, ExitStatus, report
from .params import ReadBy, auth_option, header_option, namespace_option, query_option
from .protocol.types import Parser

if TYPE_CHECKING:
    from .recording import Recording

__all__ = ["cli", "main"]

EPILOG_DECODE = """\b
Examples:
  siocli decode '42["hey","Jude"]'
  siocli decode '451-/admin,1["file",{"_placeholder":true,"num":0}]' 'hex:01 02 03'
  siocli decode --eio 3 --transport polling '6:4hello2:40'
  siocli decode --sample            # the Socket.IO docs' sample session, explained
  siocli decode capture.har --strict
  siocli decode --json '40/admin,{"token":"x"}' | jq .
  pbpaste | siocli decode -
"""


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, "-V", "--version", prog_name="siocli")
@click.option("--traceback", is_flag=True, help="Show the Python traceback of an error.")
@click.option("--no-color", is_flag=True, help="No colours (also: the NO_COLOR variable).")
@click.pass_context
def cli(ctx: click.Context, traceback: bool, no_color: bool) -> None:
    """A command-line debugger for Socket.IO: see what crosses the wire.

    \b
    Decode what you captured:   siocli decode '42["hey","Jude"]'
    The docs' sample session:   siocli decode --sample

    Exit codes: 0 ok, 1 protocol violations (--strict), 2 usage or unreadable input,
    3 connection failed, 4 namespace rejected, 5 timeout, 6 replay mismatch,
    7 server error, 70 a bug in siocli (run with --traceback), 130 interrupted.
    """
    ctx.ensure_object(dict)
    ctx.obj["traceback"] = traceback
    ctx.obj["no_color"] = no_color
    if no_color:  # every console of the command honours it, as it honours NO_COLOR
        os.environ["NO_COLOR"] = "1"


def parser_option(default: str | None) -> Any:
    """``--parser``: the Socket.IO packet encoding (the Socket.IO docs' "custom parser")."""
    return click.option(
        "--parser",
        type=click.Choice(["default", "msgpack"]),
        default=default,
        show_default=default is not None,
        envvar="SIOCLI_PARSER",
        help="The Socket.IO packet encoding: default, or msgpack (socket.io-msgpack-parser, "
        "python-socketio's serializer='msgpack')"
        + ("" if default else "; without it, detected")
        + ". Also $SIOCLI_PARSER.",
    )


@cli.command(epilog=EPILOG_DECODE)
@click.argument("inputs", nargs=-1, metavar="[MESSAGE|FILE]...")
@click.option("--sample", is_flag=True, help="Decode the Socket.IO docs' sample session.")
@click.option(
    "--from",
    "source_format",
    type=click.Choice(["text", "transcript", "har", "payload", "recording", "pcap"]),
    help="The format of FILE inputs (default: detected).",
)
@click.option(
    "--server-port",
    type=click.IntRange(1, 65535),
    help="Packet captures: the server's TCP port (for connections whose start is missing).",
)
@click.option("--eio", type=click.Choice(["3", "4"]), help="Engine.IO revision of bare input.")
@click.option(
    "--transport",
    type=click.Choice(["websocket", "polling"]),
    help="Bare messages are WebSocket messages or polling bodies (default: guessed).",
)
@parser_option(None)
@click.option("--json", "as_json", is_flag=True, help="One JSON object per Engine.IO packet.")
@click.option("--full", is_flag=True, help="Do not elide long payloads.")
@click.option("--strict", is_flag=True, help="Exit 1 if any finding is a protocol violation.")
@click.option(
    "--explain",
    metavar="CODE",
    help="Explain a finding code (severity, meaning, what it rests on) and exit; "
    "the whole catalogue is docs/findings.md.",
)
@click.pass_context
def decode(
    ctx: click.Context,
    inputs: tuple[str, ...],
    sample: bool,
    source_format: str | None,
    server_port: int | None,
    eio: str | None,
    transport: str | None,
    parser: str | None,
    as_json: bool,
    full: bool,
    strict: bool,
    explain: str | None,
) -> None:
    """Explain Engine.IO/Socket.IO wire messages, byte by byte, and flag protocol mistakes.

    Each argument is one wire message as you saw it (hex:... or b64:... for binary), or a
    FILE: a transcript like the docs' sample session, lines of pasted messages, a HAR
    export from browser devtools, an Engine.IO 3 binary payload, or a packet capture
    (pcap, pcapng: tcpdump, Wireshark). '-' reads stdin.
    Without arguments, siocli reads stdin, or waits for you to paste.
    """
    if explain is not None:
        ctx.exit(int(_explain(explain)))
    from .decode import DecodeOptions, run_decode
    from .render.console import make_console

    options = DecodeOptions(
        inputs=inputs,
        sample=sample,
        source_format=source_format,
        eio=int(eio) if eio else None,
        transport=transport,
        as_json=as_json,
        full=full,
        strict=strict,
        server_port=server_port,
        parser=Parser(parser) if parser else None,
    )
    status = run_decode(
        options,
        stdout=sys.stdout,
        stderr=sys.stderr,
        stdin=sys.stdin.buffer,
        stdin_is_tty=sys.stdin.isatty(),
        console=lambda: make_console(no_color=ctx.obj["no_color"]),
    )
    ctx.exit(int(status))


def _explain(code: str) -> ExitStatus:
    """``decode --explain CODE``: one entry of the findings catalogue."""
    from .protocol.findings import CATALOGUE, close_matches

    entry = CATALOGUE.get(code.strip())
    if entry is None:
        matches = close_matches(code.strip())
        raise CommandError(
            ExitStatus.USAGE,
            f"no finding has the code {code!r}",
            f"did you mean {', '.join(matches)}?" if matches else "docs/findings.md lists them all",
        )
    sys.stdout.write(entry.explain())
    return ExitStatus.OK


EPILOG_CONNECT = """\b
Examples:
  siocli connect http://127.0.0.1:3000
  siocli connect https://api.example.com/chat --auth '{"token":"..."}' -H 'Cookie: a=b'
  printf 'emit hello 1 "two"\\nquit\\n' | siocli connect http://127.0.0.1:3000
"""
EPILOG_EMIT = """\b
Examples:
  siocli emit http://127.0.0.1:3000 hello 1 '{"a": [2, 3]}' word --ack
  siocli emit http://127.0.0.1:3000/admin upload hex:0102 @photo.png --auth @token.json
  siocli emit http://127.0.0.1:3000 batch -d @args.json --ack --json
"""
EPILOG_LISTEN = """\b
Examples:
  siocli listen http://127.0.0.1:3000
  siocli listen ws://127.0.0.1:3000 'price:*' --count 100 --json
  siocli listen http://127.0.0.1:3000 --emit 'subscribe {"room": "a"}' --until done
"""


def connection_options(command: Any) -> Any:
    """The options every command that connects shares (curl/httpie habits)."""
    options: list[Callable[[Any], Any]] = [
        click.option(
            "--path",
            default="/socket.io/",
            show_default=True,
            help="The server's handshake path (the URL's path is the namespace).",
        ),
        namespace_option("Also join this namespace (repeatable)."),
        auth_option("CONNECT payload (Socket.IO 2.x: the namespace's query)."),
        header_option("HTTP header on every request, both transports (repeatable)."),
        query_option("Query parameter on every request (repeatable)."),
        click.option(
            "--transport",
            type=click.Choice(["auto", "polling", "websocket"]),
            default="auto",
            show_default=True,
            help="auto: polling, then upgrade (the official client's default).",
        ),
        click.option(
            "--eio",
            type=click.Choice(["auto", "3", "4"]),
            default="auto",
            show_default=True,
            help="Engine.IO revision (3: Socket.IO 2.x servers).",
        ),
        parser_option("default"),
        click.option("-k", "--insecure", is_flag=True, help="Do not verify TLS certificates."),
        click.option(
            "--cacert",
            type=click.Path(exists=True, dir_okay=False),
            help="Trust this CA bundle (PEM).",
        ),
        click.option(
            "--cert", type=click.Path(exists=True, dir_okay=False), help="Client certificate (PEM)."
        ),
        click.option(
            "--key",
            type=click.Path(exists=True, dir_okay=False),
            help="Client certificate's key (PEM).",
        ),
        click.option("--proxy", help="HTTP proxy URL (default: the *_proxy variables)."),
        click.option(
            "--timeout",
            type=click.FloatRange(min=0, min_open=True),
            default=20.0,
            show_default=True,
            help="Seconds to wait for the connection, the namespaces, an ack.",
        ),
        click.option(
            "--reconnect/--no-reconnect",
            default=None,
            help="Reconnect when the session drops (default: on for connect and listen, off "
            "for emit and doctor; never after the server disconnects the client).",
        ),
        click.option(
            "--reconnect-attempts", type=click.IntRange(min=1), default=5, show_default=True
        ),
        click.option(
            "--recover/--no-recover",
            default=True,
            show_default=True,
            help="On reconnection, ask the server to recover each namespace's session with "
            "the last pid and offset it sent (connection state recovery, socket.io >= 4.6), "
            "as socket.io-client does; --no-recover sends a bare CONNECT.",
        ),
        click.option(
            "--reconnect-delay",
            type=click.FloatRange(min=0),
            default=1.0,
            show_default=True,
            help="Seconds before the first attempt (doubles each time).",
        ),
        click.option("--json", "as_json", is_flag=True, help="One JSON object per line."),
        click.option(
            "-v",
            "--verbose",
            is_flag=True,
            help="Show every wire message, annotated as decode does (stderr).",
        ),
        click.option("-q", "--quiet", is_flag=True, help="Only events, acks and errors."),
        click.option(
            "--record",
            type=click.Path(dir_okay=False, writable=True),
            help="Record every wire message to FILE (JSON Lines, see recordings/).",
        ),
        click.option(
            "--no-redact",
            is_flag=True,
            help="Keep secrets (auth, cookies, tokens) in the recording.",
        ),
        click.argument("url"),
    ]
    for option in reversed(options):
        command = option(command)
    return command


def _live_options(params: dict[str, Any], reconnect_default: bool) -> Any:
    from .live import LiveOptions
    from .transports.config import ConnectOptions, parse_target

    queries = list(params["queries"])
    headers = list(params["headers"])
    url, basic = _credentials(params["url"])
    if basic is not None and not any(n.lower() == "authorization" for n, _ in headers):
        headers.append(("Authorization", basic))
    connect = ConnectOptions(
        url=url,
        path=params["path"],
        transport=params["transport"],
        eio=None if params["eio"] == "auto" else int(params["eio"]),
        headers=tuple(headers),
        query=tuple(queries),
        timeout=params["timeout"],
        insecure=params["insecure"],
        cacert=params["cacert"],
        cert=params["cert"],
        key=params["key"],
        proxy=params["proxy"],
        parser=Parser(params["parser"]),
    )
    try:
        parse_target(connect)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="URL") from None
    reconnect = params["reconnect"]
    return LiveOptions(
        connect=connect,
        namespaces=tuple(params["namespaces"]),
        auth=params["auth"],
        as_json=params["as_json"],
        verbose=params["verbose"],
        quiet=params["quiet"],
        reconnect=reconnect_default if reconnect is None else reconnect,
        attempts=params["reconnect_attempts"],
        delay=params["reconnect_delay"],
        recover=params["recover"],
        record=params["record"],
        redact=not params["no_redact"],
        no_color=click.get_current_context().obj["no_color"],
    )


_MISSING_COLON = re.compile(r"(?i)(https?|wss?)(?::/?(?!/)|//)(?=[^/])")
"""``http//host``, ``http:/host``, ``http:host``: a scheme that lost its ``://``."""


def _credentials(url: str) -> tuple[str, str | None]:
    """``url`` without its ``user:password@``, and those as a Basic Authorization header
    (as curl sends them): kept out of what is printed and recorded, not dropped."""
    from urllib.parse import unquote, urlsplit, urlunsplit

    if "://" not in url:
        typo = _MISSING_COLON.match(url)
        if typo is not None:
            meant = f"{typo.group(1)}://{url[typo.end() :]}"
            raise click.BadParameter(f"{url!r}: did you mean {meant!r}?", param_hint="URL")
        return url, None
    parts = urlsplit(url)
    if parts.username is None and parts.password is None:
        return url, None
    import base64

    pair = f"{unquote(parts.username or '')}:{unquote(parts.password or '')}"
    netloc = parts.netloc.rpartition("@")[2]
    basic = "Basic " + base64.b64encode(pair.encode("utf-8")).decode("ascii")
    return urlunsplit(parts._replace(netloc=netloc)), basic


_LIVE_PARAMS = (
    "url",
    "path",
    "namespaces",
    "auth",
    "headers",
    "queries",
    "transport",
    "eio",
    "parser",
    "insecure",
    "cacert",
    "cert",
    "key",
    "proxy",
    "timeout",
    "reconnect",
    "reconnect_attempts",
    "recover",
    "reconnect_delay",
    "as_json",
    "verbose",
    "quiet",
    "record",
    "no_redact",
)


_NUMBER = re.compile(r"-?(0|[1-9]\d*)(\.\d+)?([eE][-+]?\d+)?")
"""A JSON number: the one kind of argument that starts with '-'."""


def _pop_live(kwargs: dict[str, Any]) -> dict[str, Any]:
    return {name: kwargs.pop(name) for name in _LIVE_PARAMS}


@cli.command(epilog=EPILOG_EMIT, context_settings={"ignore_unknown_options": True})
@connection_options
@click.argument("event")
@click.argument("args", nargs=-1)
@click.option("--ack", is_flag=True, help="Ask for an ack, wait for it and print its args.")
@click.option(
    "-d",
    "--data",
    metavar="JSON|@FILE|@-",
    help="The args as a JSON array (one value: one arg), instead of ARGS.",
)
@click.pass_context
def emit(ctx: click.Context, **kwargs: Any) -> None:
    """Connect, emit EVENT once (with --ack, wait for the ack), and leave.

    ARGS are JSON literals, bare words (strings), hex:.. or b64:.. (binary), @FILE (binary).
    Exit 0, 3 connection failed, 4 namespace refused, 5 no ack in time.
    """
    from .arguments import ArgumentError, check_event_name, parse_json_value, parse_value
    from .live import emit_main, run_live

    # '-3' is an argument, as at the prompt: click passes what is not one of the options
    # on (ignore_unknown_options), and what looks like an option but is no number is not.
    for token in (kwargs["event"], *kwargs["args"]):
        if token.startswith("-") and not _NUMBER.fullmatch(token):
            raise click.NoSuchOption(token.partition("=")[0])
    try:
        check_event_name(kwargs["event"])
    except ArgumentError as exc:
        raise click.BadParameter(str(exc), param_hint="EVENT") from None
    live = _live_options(_pop_live(kwargs), reconnect_default=False)
    if kwargs["data"] is not None and kwargs["args"]:
        raise click.UsageError("give the args as ARGS or with -d/--data, not both")
    try:
        args = [parse_value(a) for a in kwargs["args"]]
        if kwargs["data"] is not None:
            data = parse_json_value(kwargs["data"])
            args = data if isinstance(data, list) else [data]
    except (ArgumentError, ValueError) as exc:
        raise click.BadParameter(str(exc), param_hint="ARGS/--data") from None
    status = run_live(emit_main(live, kwargs["event"], args, kwargs["ack"], sys.stdout, sys.stderr))
    ctx.exit(int(status))


@cli.command(epilog=EPILOG_LISTEN)
@connection_options
@click.argument("patterns", nargs=-1, metavar="[EVENT]...")
@click.option("--count", type=click.IntRange(min=1), help="Stop after N matching events.")
@click.option("--until", help="Stop after this event.")
@click.option(
    "--duration", type=click.FloatRange(min=0, min_open=True), help="Stop after S seconds."
)
@click.option(
    "--emit",
    "emits",
    multiple=True,
    metavar="'[--ack] EVENT [ARGS...]'",
    help="Emit this first, and again after each reconnection (repeatable; the prompt's "
    "emit syntax, --ack included: the ack prints when it comes).",
)
@click.option("--auto-ack", metavar="JSON", help="Answer every ack request with this.")
@click.pass_context
def listen(ctx: click.Context, **kwargs: Any) -> None:
    """Print every event the server sends (all by default, like onAny), on every joined
    namespace, until --count, --until, --duration or Ctrl-C. EVENT filters are globs."""
    from .arguments import ArgumentError, check_event_name, parse_emit, parse_value
    from .live import ListenSpec, listen_main, run_live

    live = _live_options(_pop_live(kwargs), reconnect_default=True)
    try:
        for line in kwargs["emits"]:
            check_event_name(parse_emit(line, verb=True)[0])
        auto_ack = parse_value(kwargs["auto_ack"]) if kwargs["auto_ack"] is not None else None
    except ArgumentError as exc:
        raise click.BadParameter(str(exc), param_hint="--emit/--auto-ack") from None
    spec = ListenSpec(
        patterns=tuple(kwargs["patterns"]),
        count=kwargs["count"],
        until=kwargs["until"],
        duration=kwargs["duration"],
        emits=tuple(kwargs["emits"]),
        auto_ack=auto_ack,
    )
    status = run_live(listen_main(live, spec, sys.stdout, sys.stderr))
    ctx.exit(int(status))


@cli.command("connect", epilog=EPILOG_CONNECT)
@connection_options
@click.pass_context
def connect_command(ctx: click.Context, **kwargs: Any) -> None:
    """An interactive session: type 'emit [--ack] EVENT ARGS...', 'ack ID|last ARGS...',
    'join NSP [AUTH]', 'leave NSP', 'use NSP', 'wait EVENT', 'quit', 'help'. Incoming events
    print as they come.

    With stdin not a terminal, the same commands are read line by line (a script), each
    done before the next (a join answered, an ack received, an event waited for); EOF ends
    the session once the server has answered what it owes. A command that fails is
    explained and the script goes on; the exit code is then that of the first failure: 4
    a refused join, 5 no answer in time, 2 any other."""
    from .live import connect_main, run_live

    live = _live_options(_pop_live(kwargs), reconnect_default=True)
    interactive = sys.stdin.isatty()
    status = run_live(connect_main(live, sys.stdout, sys.stderr, sys.stdin.buffer, interactive))
    ctx.exit(int(status))


EPILOG_REPLAY = """\b
Examples:
  siocli replay recordings/chat.jsonl --url http://127.0.0.1:3000 --fast
  siocli replay recordings/*.jsonl --url http://staging:3000 --auth @token.json --junit out.xml
  siocli replay rec.jsonl --ignore 'tick[0].time' --ignore 'welcome[0].at'
  siocli replay rec.jsonl --serve --port 3000        # be the recorded server for a client
  siocli replay rec.jsonl --serve --strict --clients 1 --fast   # in CI, beside the client
"""


@cli.command(epilog=EPILOG_REPLAY)
@click.argument("recordings", nargs=-1, required=True, type=click.Path(dir_okay=False))
@click.option("--url", help="The server to check (default: each recording's URL).")
@click.option("--path", help="The handshake path (default: the recording's).")
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
    namespace. Several recordings run concurrently. Exit 0 when all match, 6 on a
    mismatch, 3 when the server cannot be reached, 2 for an unreadable recording.

    With --serve, siocli is the recorded server: it answers a client's handshake with the
    recording's Engine.IO revision and heartbeat, namespace CONNECTs as recorded (CONNECT
    or CONNECT_ERROR), and when the client does what the recorded client did (same event,
    namespace and args, ids normalised), plays what the server sent next, at the recorded
    pace (--fast: at once). What the client does differently is reported as it happens
    and per client session.
    """
    import asyncio

    from .render import replay as render
    from .replay import (
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
        if auth is None and needs_auth(recording):
            raise CommandError(
                ExitStatus.USAGE,
                f"{recording.name}: the recorded auth payload was redacted; give it with "
                "--auth JSON|@FILE or $SIOCLI_AUTH (or record with --no-redact)",
            )
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
    if run.junit:
        render.write_junit(reports, run.junit)
    ctx.exit(int(replay_status(reports)))


def _check_ignores(specs: tuple[str, ...], recordings: list[Recording]) -> None:
    """An --ignore that names nothing in the recordings is a mistake (a typo, an ack named
    as an event): said, not silently matched against nothing."""
    from .script import ignore_targets, parse_ignore, script_of

    targets: set[str] = set()
    for recording in recordings:
        targets |= ignore_targets(script_of(recording))
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
    """The recordings to replay; what reading them found (a cut last line, a line
    skipped) is said first, since the replay stops where a recording does. ``parser``
    (--parser) overrides the one each recording's header names."""
    from .recording import RecordingError, load_recording

    try:
        recordings = [load_recording(path) for path in paths]
    except RecordingError as exc:
        raise CommandError(ExitStatus.USAGE, str(exc)) from None
    for recording in recordings:
        if parser is not None:
            recording.header["parser"] = parser
        for problem in recording.problems:
            sys.stderr.write(f"siocli: {problem.source}: {problem.message}\n")
    return recordings


def _serve_recording(kwargs: dict[str, Any], traceback: bool, no_color: bool) -> ExitStatus:
    """``replay --serve``: one recording, played as the server."""
    from .recorded_server import RecordedServerOptions, run_recorded_server

    if len(kwargs["recordings"]) != 1:
        raise click.UsageError("--serve plays one recording")
    for name in ("url", "transport", "auth", "cacert"):
        if kwargs[name]:
            raise click.UsageError(
                f"--{name} is for replaying against a server; with --serve, siocli is the "
                "server: point the client under test at it"
            )
    (recording,) = _load_recordings(kwargs["recordings"][:1], kwargs["parser"])
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


EPILOG_DOCTOR = """\b
Examples:
  siocli doctor https://api.example.com
  siocli doctor http://127.0.0.1:3000 -n /admin --auth '{"token": "t"}' --json
  siocli doctor https://internal:8443 --path /ws/ --cacert ca.pem
"""


@cli.command(epilog=EPILOG_DOCTOR)
@connection_options
@click.option(
    "--sessions",
    type=click.IntRange(min=1),
    default=3,
    show_default=True,
    help="Sessions to open for the sticky-session check.",
)
@click.option(
    "--origin",
    metavar="ORIGIN",
    help="Check as a page of ORIGIN would connect (an Origin header on every request, the "
    "WebSocket's included): a server's CORS check refuses browsers that siocli, sending no "
    "Origin, passes. Same as -H 'Origin: ORIGIN'.",
)
@click.pass_context
def doctor(ctx: click.Context, **kwargs: Any) -> None:
    """Explain why a Socket.IO connection fails: reach, path, protocol, handshake, polling,
    WebSocket and upgrade, sticky sessions, namespaces, heartbeat - each check with its
    evidence and the fix. Exit 0 when all pass, 1 when any fails."""
    from .doctor import run_doctor

    sessions = kwargs.pop("sessions")
    origin = kwargs.pop("origin")
    if origin is not None:
        if any(name.lower() == "origin" for name, _ in kwargs["headers"]):
            raise click.UsageError("--origin and -H 'Origin: ...' say the same: give one")
        kwargs["headers"] = (*kwargs["headers"], ("Origin", origin))
    for name in ("record", "no_redact", "reconnect", "quiet"):
        if kwargs.get(name):
            option = "--" + name.replace("_", "-")
            raise click.UsageError(f"{option} does not apply to doctor (it opens many sessions)")
    live = _live_options(_pop_live(kwargs), reconnect_default=False)
    status = run_doctor(live, sessions, sys.stdout, sys.stderr, no_color=ctx.obj["no_color"])
    ctx.exit(int(status))


# What doctor refuses, its --help does not offer (the refusal stays, for the hidden options).
for _param in doctor.params:
    if _param.name in (
        "record",
        "no_redact",
        "reconnect",
        "quiet",
        "reconnect_attempts",
        "reconnect_delay",
        "recover",
    ) and isinstance(_param, click.Option):
        _param.hidden = True


EPILOG_SERVE = """\b
Examples:
  siocli serve                                  # then: siocli connect http://127.0.0.1:3000
  siocli serve --port 8080 -n /admin --auth '{"token": "t"}' -v
  siocli serve --eio 3 --emit-every '1 tick {"n": 1}'
  siocli serve --profile protocol-test-suite    # for the official protocol test suites
"""


def _origins(values: tuple[str, ...]) -> tuple[str, ...]:
    """``--cors``: origins as a browser sends them (scheme://host[:port], no path)."""
    from urllib.parse import urlsplit

    origins = []
    for value in values:
        for origin in filter(None, (o.strip() for o in value.split(","))):
            parts = urlsplit(origin)
            if parts.scheme not in ("http", "https") or not parts.netloc or parts.path:
                raise click.BadParameter(
                    f"{origin!r} is not an origin: scheme://host[:port], no path "
                    "(e.g. http://localhost:8080)",
                    param_hint="--cors",
                )
            origins.append(origin)
    return tuple(origins)


@cli.command(epilog=EPILOG_SERVE)
@click.option(
    "--host",
    default="127.0.0.1",
    show_default=True,
    help="Address to listen on (127.0.0.1: this machine only).",
)
@click.option(
    "--port", type=click.IntRange(0, 65535), default=3000, show_default=True, help="0: any."
)
@click.option("--path", default="/socket.io/", show_default=True, help="Handshake path.")
@parser_option("default")
@click.option(
    "--eio",
    type=click.Choice(["3", "4", "both"]),
    default="4",
    show_default=True,
    help="3: a Socket.IO 2.x server; 4: 3.x/4.x; both: 4.x with allowEIO3.",
)
@namespace_option("A namespace besides '/' (repeatable).")
@auth_option("Required CONNECT payload on the -n namespaces.")
@click.option(
    "--ping-interval", type=click.IntRange(min=1), default=25000, show_default=True, help="ms"
)
@click.option(
    "--ping-timeout", type=click.IntRange(min=1), default=20000, show_default=True, help="ms"
)
@click.option(
    "--max-payload", type=click.IntRange(min=1), default=1_000_000, show_default=True, help="bytes"
)
@click.option(
    "--cors",
    "cors",
    multiple=True,
    metavar="ORIGIN[,ORIGIN...]",
    callback=lambda ctx, param, values: _origins(values),
    help="Only these page origins may read the answers (repeatable). Default: any origin, "
    "reflected, for local testing.",
)
@click.option(
    "--emit-every",
    "emit_every",
    multiple=True,
    metavar="'SECONDS EVENT [ARGS...]'",
    help="Emit EVENT to every client every SECONDS (repeatable).",
)
@click.option(
    "--recover",
    type=click.FloatRange(min=0, min_open=True),
    metavar="SECONDS",
    help="Connection state recovery (socket.io >= 4.6) with this maxDisconnectionDuration: "
    "answers carry a pid, events an offset, and a client back within SECONDS gets its "
    "socket id and what it missed.",
)
@click.option(
    "--profile",
    type=click.Choice(["protocol-test-suite"]),
    help="protocol-test-suite: the configuration and behaviour the official "
    "Engine.IO (/engine.io/) and Socket.IO (/socket.io/) test suites expect.",
)
@click.option("--json", "as_json", is_flag=True, help="One JSON object per line.")
@click.option("-v", "--verbose", is_flag=True, help="Every wire message, annotated (stderr).")
@click.option(
    "-q", "--quiet", is_flag=True, help="No line per client action: where it listens, errors."
)
@click.pass_context
def serve(ctx: click.Context, **kwargs: Any) -> None:
    """A Socket.IO server to try a client against: every event is echoed back, except one
    asking for an ack, which is acked with its args instead. Ctrl-C stops it."""
    from .arguments import ArgumentError, parse_command_line
    from .serve import ServeOptions, run_serve

    if kwargs["recover"] is not None and kwargs["eio"] == "3":
        raise click.BadParameter(
            "connection state recovery is Socket.IO 4.x's (protocol 5, socket.io >= 4.6), and "
            "--eio 3 serves Socket.IO 2.x clients only: use --eio 4, or --eio both",
            param_hint="'--recover'",
        )
    every = []
    for spec in kwargs["emit_every"]:
        seconds, _, rest = spec.strip().partition(" ")
        try:
            interval = float(seconds)
            name, args = parse_command_line(rest)
        except (ValueError, ArgumentError) as exc:
            raise click.BadParameter(f"{spec!r}: {exc}", param_hint="--emit-every") from None
        if interval <= 0:
            raise click.BadParameter(f"{spec!r}: SECONDS must be > 0", param_hint="--emit-every")
        every.append((interval, name, tuple(args)))
    options = ServeOptions(
        host=kwargs["host"],
        port=kwargs["port"],
        path=kwargs["path"] if kwargs["path"].endswith("/") else kwargs["path"] + "/",
        eio=None if kwargs["eio"] == "both" else int(kwargs["eio"]),
        parser=Parser(kwargs["parser"]),
        namespaces=tuple(kwargs["namespaces"]),
        auth=kwargs["auth"],
        ping_interval=kwargs["ping_interval"],
        ping_timeout=kwargs["ping_timeout"],
        max_payload=kwargs["max_payload"],
        cors=kwargs["cors"],
        emit_every=tuple(every),
        recover=kwargs["recover"],
        profile=kwargs["profile"],
        as_json=kwargs["as_json"],
        verbose=kwargs["verbose"],
        quiet=kwargs["quiet"],
        traceback=ctx.obj["traceback"],
        no_color=ctx.obj["no_color"],
    )
    ctx.exit(int(run_serve(options, sys.stdout, sys.stderr)))


EPILOG_PROXY = """\b
Examples:
  siocli proxy http://127.0.0.1:3000              # then point the app at http://127.0.0.1:8000
  siocli proxy https://api.example.com --listen 127.0.0.1:9000 -q 'chat:*'
  siocli proxy http://127.0.0.1:3000 --record recordings/ --json > wire.jsonl
  siocli proxy http://127.0.0.1:3000 --latency 200±50 --drop 's2c:price' --cut-after 30s
"""


@cli.command(epilog=EPILOG_PROXY)
@click.argument("target")
@click.argument("events", nargs=-1)
@click.option(
    "--listen",
    default="127.0.0.1:8000",
    show_default=True,
    metavar="[HOST:]PORT",
    help="Where the app connects instead of TARGET (port 0: any free port).",
)
@click.option("--path", default="/socket.io/", show_default=True, help="Handshake path.")
@header_option("A header added to every request upstream (repeatable).")
@click.option("--preserve-host", is_flag=True, help="Send the client's Host header upstream.")
@click.option("-k", "--insecure", is_flag=True, help="Do not verify the target's TLS certificate.")
@click.option(
    "--cacert",
    type=click.Path(exists=True, dir_okay=False),
    help="Trust this CA for the target's certificate.",
)
@click.option(
    "--cert",
    type=click.Path(exists=True, dir_okay=False),
    help="Listen with TLS, with this certificate (PEM; with --key).",
)
@click.option("--key", type=click.Path(exists=True, dir_okay=False), help="The key of --cert.")
@namespace_option("Show only this namespace (repeatable).")
@click.option(
    "--json",
    "as_json",
    is_flag=True,
    help="One JSON object per wire message (decode --json's keys, plus session, sid).",
)
@click.option("-q", "--quiet", is_flag=True, help="Events, acks and lifecycle only.")
@click.option("--full", is_flag=True, help="Long payloads shown whole.")
@click.option("--record", metavar="DIR", help="One recording per client session, in DIR.")
@click.option("--no-redact", is_flag=True, help="Keep secrets in the recordings.")
@click.option(
    "--latency",
    type=ReadBy("MS[±JITTER]", "siocli.proxy.options:parse_latency"),
    default="0",
    help="Delay every message, each direction.",
)
@click.option(
    "--drop",
    multiple=True,
    type=ReadBy("[c2s:|s2c:]GLOB", "siocli.proxy.options:DropRule.parse"),
    help="Drop the events whose name matches (repeatable).",
)
@click.option(
    "--cut-after",
    type=ReadBy("N|Ns", "siocli.proxy.options:parse_cut_after"),
    help="Cut each session's transport after N wire messages, or after N seconds.",
)
@click.option("--no-upgrade", is_flag=True, help="Refuse the WebSocket upgrade (403).")
@click.option(
    "--stall-heartbeat", is_flag=True, help="Swallow heartbeats: a ping timeout happens on purpose."
)
@click.pass_context
def proxy(ctx: click.Context, **kwargs: Any) -> None:
    """A reverse proxy to TARGET that shows a real app's Socket.IO traffic live, annotated
    and checked on both sides; EVENTS (globs) filter the view. Everything is relayed
    unchanged, other paths too, unless a fault is asked for. Ctrl-C stops it."""
    from .proxy import Faults, OptionError, ProxyOptions, Target, run_proxy

    try:
        target = Target.parse(kwargs["target"])
    except OptionError as exc:
        raise click.BadParameter(str(exc), param_hint="TARGET") from None
    host, sep, port_text = kwargs["listen"].rpartition(":")
    host = host.strip("[]") if sep else "127.0.0.1"
    try:
        port = int(port_text)
        if not 0 <= port < 65536:
            raise ValueError
    except ValueError:
        raise click.BadParameter(
            f"{kwargs['listen']!r}: expected [HOST:]PORT", param_hint="--listen"
        ) from None
    if bool(kwargs["cert"]) != bool(kwargs["key"]):
        raise click.UsageError("--cert and --key go together")
    headers = list(kwargs["headers"])
    latency, jitter = kwargs["latency"]
    cut = kwargs["cut_after"] or (None, None)
    path = kwargs["path"] if kwargs["path"].endswith("/") else kwargs["path"] + "/"
    options = ProxyOptions(
        target=target,
        host=host or "127.0.0.1",
        port=port,
        path=path if path.startswith("/") else "/" + path,
        headers=tuple(headers),
        preserve_host=kwargs["preserve_host"],
        insecure=kwargs["insecure"],
        cacert=kwargs["cacert"],
        cert=kwargs["cert"],
        key=kwargs["key"],
        as_json=kwargs["as_json"],
        quiet=kwargs["quiet"],
        events=tuple(kwargs["events"]),
        namespaces=tuple(kwargs["namespaces"]),
        full=kwargs["full"],
        record=kwargs["record"],
        redact=not kwargs["no_redact"],
        faults=Faults(
            latency=latency,
            jitter=jitter,
            drop=tuple(kwargs["drop"]),
            cut_messages=cut[0],
            cut_seconds=cut[1],
            no_upgrade=kwargs["no_upgrade"],
            stall_heartbeat=kwargs["stall_heartbeat"],
        ),
        traceback=ctx.obj["traceback"],
    )
    color = sys.stdout.isatty() and not ctx.obj["no_color"]
    ctx.exit(int(run_proxy(options, sys.stdout, sys.stderr, color=color)))


def main(argv: list[str] | None = None) -> None:
    """Entry point: run the command, map every error to its exit code."""
    show_traceback = "--traceback" in (argv if argv is not None else sys.argv[1:])
    try:
        status = cli.main(args=argv, prog_name="siocli", standalone_mode=False)
    except click.exceptions.Exit as exc:
        status = exc.exit_code
    except click.ClickException as exc:
        exc.show()
        status = ExitStatus.USAGE
    except click.exceptions.Abort:
        status = ExitStatus.INTERRUPTED
    except CommandError as exc:  # a failure the command explains: never a traceback
        status = report(exc, sys.stderr)
    except KeyboardInterrupt:
        if show_traceback:
            raise
        status = ExitStatus.INTERRUPTED
    except BrokenPipeError:
        # `siocli decode ... | head`: the reader left; that is not an error.
        _silence_stdout()
        status = ExitStatus.OK
    except Exception as exc:  # a bug: say so in one line unless asked for more
        if show_traceback:
            raise
        status = report(
            CommandError(
                ExitStatus.INTERNAL,
                f"internal error: {type(exc).__name__}: {exc} (run with --traceback)",
            ),
            sys.stderr,
        )
    sys.exit(int(status or 0))


def _silence_stdout() -> None:
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except OSError:
        pass
