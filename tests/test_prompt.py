"""connect's interactive prompt, typed in a pseudo-terminal as a user types: line editing,
history, completion, and events arriving while a line is half typed."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pexpect
import pytest

from .test_serve import siocli_serve

UP = "\x1b[A"
CTRL_D = "\x04"
CTRL_U = "\x15"


@pytest.fixture(scope="module")
def ticking() -> Iterator[str]:
    """``siocli serve`` emitting ``tick 1`` to each client every 0.3 s."""
    with siocli_serve("--emit-every", "0.3 tick 1") as url:
        yield url


def prompt(url: str, history: Path) -> pexpect.spawn:
    # a pseudo-terminal does not answer cursor position requests as a terminal does
    env = {
        **os.environ,
        "SIOCLI_HISTORY": str(history),
        "NO_COLOR": "1",
        "PROMPT_TOOLKIT_NO_CPR": "1",
    }
    child = pexpect.spawn(
        sys.executable,
        ["-m", "siocli", "connect", url],
        env=env,
        encoding="utf-8",
        timeout=15,
        dimensions=(24, 100),
    )
    child.expect("/ ›")
    return child


def leave(child: pexpect.spawn) -> int:
    child.send(CTRL_D)
    child.expect(pexpect.EOF)
    child.close()
    return child.exitstatus


def test_events_print_above_a_half_typed_line_without_breaking_it(
    ticking: str, tmp_path: Path
) -> None:
    child = prompt(ticking, tmp_path / "history")
    child.send("emit hel")
    for _ in range(2):  # events arrive while the line is half typed...
        child.expect('< event  / "tick" 1')
        child.expect("emit hel")  # ...and the line is drawn again below them, whole
    child.send("lo 1\r")
    child.expect(r"emit     nsp=/ event=hello args=\[1\]")
    assert leave(child) == 0


def test_history_persists_and_up_recalls_it(ticking: str, tmp_path: Path) -> None:
    history = tmp_path / "history"
    child = prompt(ticking, history)
    child.send('emit remember {"a": 1}\r')
    child.expect("event=remember")
    assert leave(child) == 0
    assert 'emit remember {"a": 1}' in history.read_text(encoding="utf-8")
    again = prompt(ticking, history)  # a new run: Up brings back the last one's line
    again.send(UP + "\r")
    again.expect(r"event=remember args=\[\{\"a\": 1\}\]")
    assert leave(again) == 0


def test_tab_completes_commands_namespaces_and_events_seen(ticking: str, tmp_path: Path) -> None:
    child = prompt(ticking, tmp_path / "history")
    child.send("jo\t")
    child.expect("join")
    child.send(CTRL_U + "use \t")
    child.expect("use /")
    child.expect('< event  / "tick"')  # a tick seen: its name completes
    child.send(CTRL_U + "emit ti\t")
    child.expect("emit tick")  # completed (in the background: wait for it)
    child.send(" 5\r")
    child.expect(r"emit     nsp=/ event=tick args=\[5\]")
    assert leave(child) == 0


def test_a_piped_script_does_not_load_prompt_toolkit(ticking: str) -> None:
    result = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "siocli", "connect", ticking],
        input="emit x\n",
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "prompt_toolkit" not in result.stderr
