"""Scripts that mean what they say: ``connect`` reading commands from a pipe, ``emit`` and
``listen`` as a shell script uses them, against real socket.io servers."""

from __future__ import annotations

import json
import queue
import resource
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from typing import Any

import pytest

from siocli.live.client import backoff

from .command import siocli
from .realservers import RunningServer, run_server

AUTH = '{"token": "secret-token"}'


@pytest.fixture(scope="module", params=["node4", "node2"])
def node(request: pytest.FixtureRequest) -> Iterator[RunningServer]:
    with run_server(request.param) as server:
        yield server


def records(result: subprocess.CompletedProcess[str]) -> list[dict[str, Any]]:
    return [json.loads(line) for line in result.stdout.splitlines()]


def steps(result: subprocess.CompletedProcess[str]) -> list[tuple[str, Any]]:
    """(type, what) of the emits, acks and errors of a --json run, in order."""
    out = []
    for r in records(result):
        if r["type"] in ("emit", "ack"):
            out.append((r["type"], r.get("event") or r.get("args")))
        elif r["type"] == "error":
            out.append(("error", r["message"]))
    return out


# --- connect: a piped script -------------------------------------------------------------------


def test_a_script_waits_for_each_ack_before_its_next_line(node: RunningServer) -> None:
    result = siocli("connect", node.url, "--json", stdin="emit --ack hello 1\nemit --ack hello 2\n")
    assert result.returncode == 0, result.stderr
    assert steps(result) == [
        ("emit", "hello"),
        ("ack", ["hi", 1]),
        ("emit", "hello"),
        ("ack", ["hi", 2]),
    ]


def test_an_ack_that_never_comes_is_a_timeout_and_the_script_goes_on(node: RunningServer) -> None:
    script = "emit --ack nobody-answers\nemit --ack hello 1\n"
    result = siocli("connect", node.url, "--json", "--timeout", "1", stdin=script)
    assert result.returncode == 5, result.stdout
    assert steps(result) == [
        ("emit", "nobody-answers"),
        ("error", "no ack 0 on / within the --timeout"),
        ("emit", "hello"),
        ("ack", ["hi", 1]),  # at EOF, ack 0 is not waited for again: its failure was said
    ]


def test_an_ack_the_server_cannot_send_any_more_fails_at_once(node: RunningServer) -> None:
    """The server disconnects the namespace (socket.disconnect()) instead of answering: no
    ack can come on that socket. emit and a script say so at once, exit 7, once; they
    waited out --timeout, then said it twice (exit 5)."""
    emitted = siocli("emit", node.url, "leave-me", "--ack", "--timeout", "30", timeout=20)
    assert emitted.returncode == 7, emitted.stdout + emitted.stderr
    said = "the server disconnected / before it answered ack 0: none can come"
    assert emitted.stderr.splitlines() == [f"siocli: {said}"]
    script = "emit --ack leave-me\n"
    result = siocli("connect", node.url, "--json", "--timeout", "30", stdin=script, timeout=20)
    assert result.returncode == 7, result.stdout
    assert steps(result) == [("emit", "leave-me"), ("error", said)]


def test_a_refused_join_exits_4_and_keeps_the_current_namespace(node: RunningServer) -> None:
    result = siocli("connect", node.url, "--json", stdin="join /private\nemit --ack hello 1\n")
    assert result.returncode == 4, result.stdout + result.stderr
    [emit] = [r for r in records(result) if r["type"] == "emit"]
    assert emit["nsp"] == "/"
    assert any(r["type"] == "connect_error" and r["nsp"] == "/private" for r in records(result))
    assert ("ack", ["hi", 1]) in steps(result)


def test_leave_goes_back_to_the_previous_namespace(node: RunningServer) -> None:
    script = f"join /admin {AUTH}\nemit --ack whoami\nleave /admin\nemit --ack hello bye\n"
    result = siocli("connect", node.url, "--json", stdin=script)
    assert result.returncode == 0, result.stdout + result.stderr
    emits = [(r["nsp"], r["event"]) for r in records(result) if r["type"] == "emit"]
    assert emits == [("/admin", "whoami"), ("/", "hello")]
    assert ("ack", ["hi", "bye"]) in steps(result)


def test_wait_on_a_pipe_at_eof_sleeps_until_its_timeout() -> None:
    """At EOF a pipe stays readable: a reader left registered spun a core at 100%."""
    with run_server("node4") as server:
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        result = siocli("connect", server.url, "--timeout", "3", stdin="wait never\n")
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
    assert result.returncode == 5 and "no 'never' within the --timeout" in result.stdout
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    assert cpu < 1.5, f"{cpu:.2f} s of CPU for 3 s of waiting"


def test_a_script_waits_for_an_event_that_came_before_its_line_was_read(
    node: RunningServer,
) -> None:
    """The server's welcome comes (and is printed) before the script's ``wait welcome`` is
    read: a race a script must not lose. ``wait echo`` then takes one echo of the emit
    before it, not a second one."""
    with subprocess.Popen(
        [sys.executable, "-m", "siocli", "connect", node.url, "--json", "--timeout", "5"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    ) as child:
        assert child.stdin is not None
        lines = Lines(child)
        lines.wait_for(lambda r: r["type"] == "event" and r.get("event") == "welcome")
        child.stdin.write("wait welcome\nemit echo once\n")
        child.stdin.flush()
        lines.wait_for(echo_of("once"))
        child.stdin.write("wait echo\nwait echo\n")  # one echo came: the second waits
        child.stdin.close()
        child.wait(timeout=30)
    errors = [r["message"] for r in lines.rest() if r["type"] == "error"]
    assert errors == ["no 'echo' within the --timeout"]  # the second 'wait echo' only
    assert child.returncode == 5


# --- emit --------------------------------------------------------------------------------------


def test_negative_numbers_are_arguments_and_typos_are_not(node: RunningServer) -> None:
    result = siocli("emit", node.url, "hello", "-3", "5", "-0.5e2", "--ack", "--json")
    assert result.returncode == 0, result.stderr
    assert ("ack", ["hi", -3, 5, -50.0]) in steps(result)
    typo = siocli("emit", node.url, "hello", "--acx")
    assert typo.returncode == 2 and "No such option '--acx'" in typo.stderr


@pytest.mark.parametrize("name", ["disconnect", "connect", "connect_error"])
def test_a_reserved_event_name_is_a_usage_error_before_connecting(name: str) -> None:
    # nothing listens on port 9: a connection attempt would say "connection refused"
    result = siocli("emit", "http://127.0.0.1:9", name)
    assert result.returncode == 2, result.stderr
    assert "reserved event name" in result.stderr and "refused" not in result.stderr
    listen = siocli("listen", "http://127.0.0.1:9", "--emit", f"emit --ack {name} 1")
    assert listen.returncode == 2 and "reserved event name" in listen.stderr


@pytest.mark.parametrize("transport", ["websocket", "polling"])
def test_emit_succeeds_whoever_closes_first_once_the_event_is_sent(transport: str) -> None:
    # 'kick' makes the server close the session as soon as it reads the event: whether the
    # client sees that close before it leaves is a race, and must not change the exit code.
    with run_server("node4") as server:
        for _ in range(8):
            result = siocli("emit", server.url, "kick", "--transport", transport)
            assert result.returncode == 0, result.stderr


# --- listen ------------------------------------------------------------------------------------


def test_listen_emit_takes_the_prompt_syntax_with_ack(node: RunningServer) -> None:
    result = siocli(
        "listen",
        node.url,
        "--emit",
        "emit --ack hello 1",
        "--emit",
        "--ack hello 2",
        "--emit",
        "echo done",
        "--until",
        "echo",
        "--json",
    )
    assert result.returncode == 0, result.stderr
    emits = [(r["event"], r["id"]) for r in records(result) if r["type"] == "emit"]
    assert emits == [("hello", 0), ("hello", 1), ("echo", None)]
    acks = [r["args"] for r in records(result) if r["type"] == "ack"]
    assert acks == [["hi", 1], ["hi", 2]]


def test_until_fires_outside_the_filter(node: RunningServer) -> None:
    # the filter shows only 'tick*'; --until echo stops at the echo all the same
    result = siocli(
        "listen", node.url, "tick*", "--emit", "echo x", "--until", "echo", "--json", timeout=15
    )
    assert result.returncode == 0, result.stderr
    assert not [r for r in records(result) if r["type"] == "event"]


def test_backoff_doubles_and_is_capped_at_five_seconds_as_socketio_client() -> None:
    assert [backoff(n, 1.0) for n in range(1, 7)] == [1, 2, 4, 5, 5, 5]
    assert backoff(1, 0.2) == 0.2
    assert backoff(4, 8.0) == 8.0  # a first delay past the cap is the user's choice


class Lines:
    """A child's stdout, read line by line in a thread: waits end on a line, or fail."""

    def __init__(self, process: subprocess.Popen[str]) -> None:
        self.process = process
        self.queue: queue.Queue[str] = queue.Queue()
        self.seen: list[str] = []
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        try:
            for line in self.process.stdout:
                self.queue.put(line)
        except (ValueError, OSError):  # closed by stop(): the test is over
            return
        self.queue.put("")  # the end of its output

    def wait_for(self, predicate: Any, timeout: float = 15) -> dict[str, Any]:
        while True:
            try:
                line = self.queue.get(timeout=timeout)
            except queue.Empty:
                raise AssertionError(f"not seen; the child printed: {self.seen}") from None
            if not line:
                raise AssertionError(f"not seen before its end; it printed: {self.seen}")
            self.seen.append(line)
            record = json.loads(line)
            if predicate(record):
                return record

    def rest(self, timeout: float = 15) -> list[dict[str, Any]]:
        """The records printed after the last one waited for, to the end of the output."""
        records = []
        while line := self.queue.get(timeout=timeout):
            self.seen.append(line)
            records.append(json.loads(line))
        return records


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def listen_child(url: str, *extra: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [
            *(sys.executable, "-m", "siocli", "listen", url, "--json", "--reconnect"),
            *("--reconnect-delay", "0.2", "--reconnect-attempts", "20", *extra),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )


def stop(child: subprocess.Popen[str]) -> None:
    child.kill()
    child.wait()
    assert child.stdout is not None
    child.stdout.close()


def echo_of(word: str) -> Any:
    return lambda r: r["type"] == "event" and r.get("event") == "echo" and r["args"] == [word]


def test_reconnect_retries_the_first_connection() -> None:
    port = free_port()  # nothing listens there yet
    child = listen_child(f"http://127.0.0.1:{port}", "--emit", "echo hi", "--until", "echo")
    try:
        lines = Lines(child)
        lines.wait_for(lambda r: r["type"] == "reconnect")
        with run_server("node4", port=port):
            lines.wait_for(echo_of("hi"))
            assert child.wait(15) == 0
    finally:
        stop(child)


def test_listen_emits_again_after_a_reconnection() -> None:
    with run_server("node4") as first:
        port = first.port
        child = listen_child(first.url, "--emit", "echo subscribed")
        try:
            lines = Lines(child)
            lines.wait_for(echo_of("subscribed"))
            first.kill()
            lines.wait_for(lambda r: r["type"] == "reconnect")
            with run_server("node4", port=port):
                # the new session lost the subscription: --emit is sent again
                lines.wait_for(echo_of("subscribed"))
        finally:
            stop(child)
