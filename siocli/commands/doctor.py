"""``siocli doctor``: why a client cannot connect, checked step by step."""

from __future__ import annotations

import sys
from typing import Any

import click

from ..params import HEADER
from .live import connection_options, live_options, pop_live

EPILOG_DOCTOR = """\b
Examples:
  siocli doctor https://api.example.com
  siocli doctor http://127.0.0.1:3000 -n /admin --auth '{"token": "t"}' --json
  siocli doctor https://internal:8443 --path /ws/ --cacert ca.pem
"""


@click.command(epilog=EPILOG_DOCTOR)
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
    from ..doctor import run_doctor

    sessions = kwargs.pop("sessions")
    origin = kwargs.pop("origin")
    if origin is not None:
        if any(name.lower() == "origin" for name, _ in kwargs["headers"]):
            raise click.UsageError("--origin and -H 'Origin: ...' say the same: give one")
        try:  # held to what -H holds a header to
            header = HEADER.convert(f"Origin: {origin}", None, ctx)
        except click.BadParameter as exc:
            raise click.BadParameter(exc.message, param_hint="'--origin'") from None
        kwargs["headers"] = (*kwargs["headers"], header)
    for name in ("record", "no_redact", "reconnect", "quiet"):
        if kwargs.get(name):
            option = "--" + name.replace("_", "-")
            raise click.UsageError(f"{option} does not apply to doctor (it opens many sessions)")
    live = live_options(pop_live(kwargs), reconnect_default=False)
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
