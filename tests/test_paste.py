"""Pasting into a terminal: `siocli decode` with no input reads what is pasted, message by
message as lines arrive, until Ctrl-D."""

from __future__ import annotations

import os
import pty
import select
import subprocess
import sys
import time


def read_until(fd: int, needle: bytes, timeout: float = 10.0) -> bytes:
    seen = b""
    deadline = time.monotonic() + timeout
    while needle not in seen:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise AssertionError(f"{needle!r} not seen; got {seen.decode(errors='replace')!r}")
        ready, _, _ = select.select([fd], [], [], remaining)
        if ready:
            try:
                chunk = os.read(fd, 4096)
            except OSError:  # the child closed the terminal
                break
            seen += chunk
    return seen


def test_paste_mode_decodes_each_line_as_it_arrives() -> None:
    controller, terminal = pty.openpty()
    env = {**os.environ, "NO_COLOR": "1", "COLUMNS": "100"}
    child = subprocess.Popen(
        [sys.executable, "-m", "siocli", "decode"],
        stdin=terminal,
        stdout=terminal,
        stderr=terminal,
        env=env,
        close_fds=True,
    )
    os.close(terminal)
    try:
        assert b"Ctrl-D to finish" in read_until(controller, b"Ctrl-D to finish")
        os.write(controller, b'42["hey","Jude"]\n')
        # explained before any more input: the line is decoded as it arrives
        assert b"event 'hey' with 1 argument" in read_until(controller, b"with 1 argument")
        os.write(controller, b'451-["up",{"_placeholder":true,"num":0}]\nhex:01 02\n')
        read_until(controller, b"attachment 0 of the packet in #1")
        os.write(controller, b"\x04")  # Ctrl-D
        tail = read_until(controller, b"Summary")
        assert b"events: hey 1, up 1" in tail + read_until(controller, b"findings")
        assert child.wait(timeout=10) == 0
    finally:
        child.kill()
        os.close(controller)
