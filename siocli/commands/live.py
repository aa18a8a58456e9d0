"""``siocli connect``, ``emit`` and ``listen``: a live session with a server, and the connection
options they share with ``doctor``."""

from __future__ import annotations

import re
import sys
from collections.abc import Callable
from typing import Any

import click

from ..params import (
    PATH,
    PROXY,
    auth_option,
    header_option,
    namespace_option,
    parser_option,
    query_option,
)
from ..protocol.types import Parser

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
            type=PATH,
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
        click.option(
            "--proxy",
            type=PROXY,
            metavar="URL",
            help="HTTP proxy URL, http://HOST:PORT (https://, socks5:// too; default: the "
            "*_proxy variables).",
        ),
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
            "for emit; never after the server disconnects the client).",
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


def live_options(params: dict[str, Any], reconnect_default: bool) -> Any:
    from ..live import LiveOptions
    from ..transports.config import ConnectOptions, parse_target

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
    from urllib.parse import unquote, urlunsplit

    from ..transports.config import split_url

    if "://" not in url:
        typo = _MISSING_COLON.match(url)
        if typo is not None:
            meant = f"{typo.group(1)}://{url[typo.end() :]}"
            raise click.BadParameter(f"{url!r}: did you mean {meant!r}?", param_hint="URL")
        return url, None
    try:
        parts = split_url(url)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="URL") from None
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


def pop_live(kwargs: dict[str, Any]) -> dict[str, Any]:
    return {name: kwargs.pop(name) for name in _LIVE_PARAMS}


@click.command(epilog=EPILOG_EMIT, context_settings={"ignore_unknown_options": True})
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
    Exit 0 sent (with --ack: acked), 2 bad command line, 3 connection failed, 4 namespace
    refused, 5 no ack in time, 7 the server refused the event, closed the session or broke
    the protocol.
    """
    from ..arguments import ArgumentError, check_event_name, parse_json_value, parse_value
    from ..live import emit_main, run_live

    # '-3' is an argument, as at the prompt: click passes what is not one of the options
    # on (ignore_unknown_options), and what looks like an option but is no number is not.
    for token in (kwargs["event"], *kwargs["args"]):
        if token.startswith("-") and not _NUMBER.fullmatch(token):
            raise click.NoSuchOption(token.partition("=")[0])
    try:
        check_event_name(kwargs["event"])
    except ArgumentError as exc:
        raise click.BadParameter(str(exc), param_hint="EVENT") from None
    live = live_options(pop_live(kwargs), reconnect_default=False)
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


@click.command(epilog=EPILOG_LISTEN)
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
    from ..arguments import ArgumentError, check_event_name, parse_emit, parse_value
    from ..live import ListenSpec, listen_main, run_live

    live = live_options(pop_live(kwargs), reconnect_default=True)
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


@click.command("connect", epilog=EPILOG_CONNECT)
@connection_options
@click.pass_context
def connect_command(ctx: click.Context, **kwargs: Any) -> None:
    """An interactive session: type 'emit [--ack] EVENT ARGS...', 'ack ID|last ARGS...',
    'join NSP [AUTH]', 'leave [NSP]', 'use NSP', 'wait EVENT', 'quit', 'help'. Incoming events
    print as they come.

    With stdin not a terminal, the same commands are read line by line (a script), each
    done before the next (a join answered, an ack received, an event waited for); EOF ends
    the session once the server has answered what it owes. A command that fails is
    explained and the script goes on; the exit code is then that of the first failure: 4
    a refused join, 5 no answer in time, 2 any other."""
    from ..live import connect_main, run_live

    live = live_options(pop_live(kwargs), reconnect_default=True)
    interactive = sys.stdin.isatty()
    status = run_live(connect_main(live, sys.stdout, sys.stderr, sys.stdin.buffer, interactive))
    ctx.exit(int(status))
