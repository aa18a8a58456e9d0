"""``siocli proxy``: a recording, fault-injecting proxy between a client and a server."""

from __future__ import annotations

import sys
from typing import Any

import click

from ..params import PATH, ReadBy, header_option, namespace_option

EPILOG_PROXY = """\b
Examples:
  siocli proxy http://127.0.0.1:3000              # then point the app at http://127.0.0.1:8000
  siocli proxy https://api.example.com --listen 127.0.0.1:9000 -q 'chat:*'
  siocli proxy http://127.0.0.1:3000 --record recordings/ --json > wire.jsonl
  siocli proxy http://127.0.0.1:3000 --latency 200±50 --drop 's2c:price' --cut-after 30s
"""


@click.command(epilog=EPILOG_PROXY)
@click.argument("target")
@click.argument("events", nargs=-1)
@click.option(
    "--listen",
    default="127.0.0.1:8000",
    show_default=True,
    metavar="[HOST:]PORT",
    help="Where the app connects instead of TARGET (port 0: any free port).",
)
@click.option("--path", type=PATH, default="/socket.io/", show_default=True, help="Handshake path.")
@header_option("A header added to every request upstream (repeatable).")
@click.option("--preserve-host", is_flag=True, help="Send the client's Host header upstream.")
@click.option(
    "--timeout",
    type=click.FloatRange(min=0, min_open=True),
    default=10.0,
    show_default=True,
    help="Seconds to wait for TARGET to accept a connection; then the client gets a 504.",
)
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
    from ..proxy import Faults, OptionError, ProxyOptions, Target, run_proxy

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
        connect_timeout=kwargs["timeout"],
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
