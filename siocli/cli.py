"""The command line: thin click commands over the library.

Each command parses its options, calls the library and returns an :class:`ExitStatus`;
:func:`main` is the one place that maps errors to exit codes (the table is in
:mod:`siocli.exit`). Commands import what they use inside their bodies, so that
``siocli --help`` and ``siocli decode`` stay fast (``decode`` never imports httpx,
websockets or asyncio).
"""

from __future__ import annotations

import os
import sys
from typing import TYPE_CHECKING

import click

from . import __version__
from .exit import ExitStatus

if TYPE_CHECKING:
    from rich.console import Console

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


class CliError(Exception):
    """An error to print in one line and exit with ``status``."""

    def __init__(self, message: str, status: ExitStatus) -> None:
        super().__init__(message)
        self.status = status


def make_console(*, stderr: bool = False, no_color: bool = False) -> Console:
    from rich.console import Console

    return Console(
        stderr=stderr,
        no_color=no_color or "NO_COLOR" in os.environ,
        highlight=False,
        soft_wrap=True,
    )


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
    7 server error, 130 interrupted.
    """
    ctx.ensure_object(dict)
    ctx.obj["traceback"] = traceback
    ctx.obj["no_color"] = no_color


@cli.command(epilog=EPILOG_DECODE)
@click.argument("inputs", nargs=-1, metavar="[MESSAGE|FILE]...")
@click.option("--sample", is_flag=True, help="Decode the Socket.IO docs' sample session.")
@click.option(
    "--from",
    "source_format",
    type=click.Choice(["text", "transcript", "har", "payload"]),
    help="The format of FILE inputs (default: detected).",
)
@click.option("--eio", type=click.Choice(["3", "4"]), help="Engine.IO revision of bare input.")
@click.option(
    "--transport",
    type=click.Choice(["websocket", "polling"]),
    help="Bare messages are WebSocket messages or polling bodies (default: guessed).",
)
@click.option("--json", "as_json", is_flag=True, help="One JSON object per Engine.IO packet.")
@click.option("--full", is_flag=True, help="Do not elide long payloads.")
@click.option("--strict", is_flag=True, help="Exit 1 if any finding is a protocol violation.")
@click.pass_context
def decode(
    ctx: click.Context,
    inputs: tuple[str, ...],
    sample: bool,
    source_format: str | None,
    eio: str | None,
    transport: str | None,
    as_json: bool,
    full: bool,
    strict: bool,
) -> None:
    """Explain Engine.IO/Socket.IO wire messages, byte by byte, and flag protocol mistakes.

    Each argument is one wire message as you saw it (hex:... or b64:... for binary), or a
    FILE: a transcript like the docs' sample session, lines of pasted messages, a HAR
    export from browser devtools, or an Engine.IO 3 binary payload. '-' reads stdin.
    Without arguments, siocli reads stdin, or waits for you to paste.
    """
    from .decode import DecodeOptions, run_decode

    options = DecodeOptions(
        inputs=inputs,
        sample=sample,
        source_format=source_format,
        eio=int(eio) if eio else None,
        transport=transport,
        as_json=as_json,
        full=full,
        strict=strict,
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
    except CliError as exc:
        if show_traceback:
            raise
        _error(str(exc))
        status = exc.status
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
        _error(f"internal error: {type(exc).__name__}: {exc} (run with --traceback)")
        status = ExitStatus.INTERNAL
    sys.exit(int(status or 0))


def _error(message: str) -> None:
    click.echo(f"siocli: {message}", err=True)


def _silence_stdout() -> None:
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except OSError:
        pass
