"""The command line: thin click commands over the library.

Each command parses its options, calls the library and returns an :class:`ExitStatus`;
:func:`main` is the one place that maps errors to exit codes (the table is in
:mod:`siocli.exit`). Commands import what they use inside their bodies, so that
``siocli --help`` and ``siocli decode`` stay fast (``decode`` never imports httpx,
websockets or asyncio). ``decode`` is defined here; the other commands are in
:mod:`siocli.commands`, imported only when one of them runs or is listed (:class:`LazyGroup`).
"""

from __future__ import annotations

import os
import sys
from importlib import import_module
from typing import Any

import click

from . import __version__
from .exit import CommandError, ExitStatus, report, silence_stdout
from .params import parser_option
from .protocol.types import Parser

__all__ = ["LazyGroup", "cli", "main"]

LAZY_COMMANDS = {
    "connect": "siocli.commands.live:connect_command",
    "doctor": "siocli.commands.doctor:doctor",
    "emit": "siocli.commands.live:emit",
    "listen": "siocli.commands.live:listen",
    "proxy": "siocli.commands.proxy:proxy",
    "replay": "siocli.commands.replay:replay",
    "serve": "siocli.commands.serve:serve",
}
"""The commands imported on use, as ``module:attribute``: click builds every option of a
command when its module is imported (~150 options, a few ms), which ``siocli decode``
should not pay."""


class LazyGroup(click.Group):
    """A group whose :data:`LAZY_COMMANDS` are imported when run or listed (click's
    documentation, "Lazily Loading Subcommands")."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*self.commands, *LAZY_COMMANDS})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name in LAZY_COMMANDS and cmd_name not in self.commands:
            module, _, attribute = LAZY_COMMANDS[cmd_name].partition(":")
            self.add_command(getattr(import_module(module), attribute), cmd_name)
        return super().get_command(ctx, cmd_name)

    def invoke(self, ctx: click.Context) -> Any:
        # `siocli listen ... | head -1`: the reader left, which is no error. Said here, as
        # click's main catches EPIPE itself and exits 1 (our "--strict found violations").
        try:
            return super().invoke(ctx)
        except BrokenPipeError:
            silence_stdout()
            raise click.exceptions.Exit(ExitStatus.OK) from None


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


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
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
