"""One error ladder: CommandError (status, message, hint), one table from transport failures
to statuses, one place that prints (siocli.exit.report, called by cli.main)."""

from __future__ import annotations

import io
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from siocli.exit import CommandError, ExitStatus, from_transport, report
from siocli.transports.errors import ConnectError, Timeout, TLSError, TransportError

from .command import siocli


@pytest.mark.parametrize(
    ("error", "status"),
    [
        (Timeout("no answer"), ExitStatus.TIMEOUT),
        (ConnectError("refused", "is it running?"), ExitStatus.CONNECT_FAILED),
        (TLSError("bad certificate", "--cacert"), ExitStatus.CONNECT_FAILED),
        (TransportError("broken"), ExitStatus.CONNECT_FAILED),
    ],
)
def test_transport_failures_to_statuses(error: TransportError, status: ExitStatus) -> None:
    failure = from_transport(error)
    assert (failure.status, failure.message, failure.hint) == (status, error.message, error.hint)


def test_report_prints_the_message_and_the_hint() -> None:
    err = io.StringIO()
    status = report(CommandError(ExitStatus.TIMEOUT, "no ack 3 within 5 s", "raise --timeout"), err)
    assert status is ExitStatus.TIMEOUT
    assert err.getvalue() == "siocli: no ack 3 within 5 s\n  hint: raise --timeout\n"
    quiet = io.StringIO()
    assert report(CommandError(ExitStatus.SERVER_ERROR), quiet) is ExitStatus.SERVER_ERROR
    assert quiet.getvalue() == ""


@pytest.mark.parametrize("command", ["serve", "proxy"])
def test_an_address_in_use_is_one_line_and_exit_2(command: str) -> None:
    """serve, replay --serve and proxy printed this themselves; now CommandError does."""
    taken = socket.socket()
    taken.bind(("127.0.0.1", 0))
    taken.listen()
    port = taken.getsockname()[1]
    try:
        if command == "serve":
            result = siocli("serve", "--port", str(port))
        else:
            result = siocli("proxy", "http://127.0.0.1:9", "--listen", f"127.0.0.1:{port}")
    finally:
        taken.close()
    assert result.returncode == 2, result.stderr
    assert result.stderr.startswith(f"siocli: cannot listen on 127.0.0.1:{port}: ")
    assert result.stderr.count("\n") == 1


def test_proxy_record_directory_that_cannot_be_made(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("")
    result = siocli("proxy", "http://127.0.0.1:9", "--listen", "0", "--record", str(blocker / "x"))
    assert result.returncode == 2, result.stderr
    assert result.stderr.startswith(f"siocli: cannot create {blocker / 'x'}: ")


def test_help_lists_every_exit_status() -> None:

    from siocli.exit import ExitStatus

    shown = subprocess.run(
        [sys.executable, "-m", "siocli", "--help"], capture_output=True, text=True, check=True
    ).stdout
    listed = " ".join(shown.split())  # click wraps the paragraph
    for status in ExitStatus:
        assert f" {int(status)} " in listed, status
