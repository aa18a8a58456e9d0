"""``siocli serve``: a Socket.IO server for clients to talk to."""

from __future__ import annotations

import math
import sys
from typing import Any

import click

from ..params import PATH, auth_option, namespace_option, parser_option
from ..protocol.types import Parser

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


@click.command(epilog=EPILOG_SERVE)
@click.option(
    "--host",
    default="127.0.0.1",
    show_default=True,
    help="Address to listen on (127.0.0.1: this machine only).",
)
@click.option(
    "--port", type=click.IntRange(0, 65535), default=3000, show_default=True, help="0: any."
)
@click.option("--path", type=PATH, default="/socket.io/", show_default=True, help="Handshake path.")
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
    from ..arguments import ArgumentError, check_event_name, parse_command_line
    from ..serve import ServeOptions, run_serve

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
        except ValueError:
            interval = math.nan
        if not (math.isfinite(interval) and interval > 0):
            raise click.BadParameter(
                f"{spec!r}: expected 'SECONDS EVENT [ARGS...]', SECONDS a number > 0 "
                "(e.g. '1.5 tick {\"n\": 1}')",
                param_hint="'--emit-every'",
            )
        try:
            name, args = parse_command_line(rest)
            check_event_name(name)  # a client would refuse the event, or drop the session
        except ArgumentError as exc:
            raise click.BadParameter(f"{spec!r}: {exc}", param_hint="'--emit-every'") from None
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
