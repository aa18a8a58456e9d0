"""The options several commands share are parsed once (siocli.params): the same rules on
every command, checked here on plain values and through the real commands."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

import click
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from siocli.params import AUTH, HEADER, NAMESPACE, PROXY, QUERY
from siocli.proxy.options import OptionError
from siocli.proxy.options import Target as ProxyTarget
from siocli.transports.config import ConnectOptions, parse_target

from .command import siocli


@contextmanager
def serving(*args: str, env: dict[str, str] | None = None) -> Iterator[str]:
    process = subprocess.Popen(
        [sys.executable, "-m", "siocli", "serve", "--port", "0", "--json", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, **(env or {})},
    )
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        assert line, process.stderr.read() if process.stderr else ""
        ready = json.loads(line)
        assert ready["type"] == "listening"
        yield ready["url"]
    finally:
        process.terminate()
        process.wait(10)
        for stream in (process.stdout, process.stderr):
            if stream is not None:
                stream.close()


# --- the types, on plain values --------------------------------------------------------------


def test_auth_reads_json_and_files(tmp_path: Path) -> None:
    token = tmp_path / "token.json"
    token.write_text('{"token": "t"}')
    assert AUTH.convert('{"a": [1, 2]}', None, None) == {"a": [1, 2]}
    assert AUTH.convert(f"@{token}", None, None) == {"token": "t"}


@pytest.mark.parametrize(
    ("value", "said"),
    [
        ("[1, 2]", "a JSON object is needed"),
        ("word", "a JSON object is needed"),
        ("hex:0102", "a JSON object is needed"),
        ('{"a": ', "not valid JSON"),
        ("@/nonexistent/token.json", "No such file"),
    ],
)
def test_auth_refuses_what_is_not_an_object(value: str, said: str) -> None:
    with pytest.raises(click.BadParameter, match=said):
        AUTH.convert(value, None, None)


def test_auth_file_that_is_not_json(tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text("{token: t}")
    with pytest.raises(click.BadParameter, match=r"bad\.json: not valid JSON"):
        AUTH.convert(f"@{bad}", None, None)


def test_header_and_namespace() -> None:
    assert HEADER.convert("Cookie:  a=b ", None, None) == ("Cookie", "a=b")
    assert HEADER.convert("X-Empty:", None, None) == ("X-Empty", "")
    for bad in ("no colon", ": value", "  : value"):
        with pytest.raises(click.BadParameter, match="expected 'Name: value'"):
            HEADER.convert(bad, None, None)
    assert NAMESPACE.convert("/admin", None, None) == "/admin"
    with pytest.raises(click.BadParameter, match="must start with '/'"):
        NAMESPACE.convert("admin", None, None)


def test_query() -> None:
    assert QUERY.convert("token=a=b", None, None) == ("token", "a=b")
    assert QUERY.convert("empty=", None, None) == ("empty", "")
    with pytest.raises(click.BadParameter, match="expected k=v"):
        QUERY.convert("token", None, None)


# --- the same rules on every command ---------------------------------------------------------


def test_serve_auth_from_a_file(tmp_path: Path) -> None:
    """``serve --auth @file`` was refused ("a JSON object is needed") where ``emit --auth
    @file`` worked."""
    token = tmp_path / "token.json"
    token.write_text('{"token": "secret"}')
    with serving("-n", "/admin", "--auth", f"@{token}") as url:
        allowed = siocli("emit", f"{url}/admin", "hi", "--auth", f"@{token}", "--timeout", "10")
        assert allowed.returncode == 0, allowed.stderr
        refused = siocli("emit", f"{url}/admin", "hi", "--auth", '{"token": "other"}')
        assert refused.returncode == 4, refused.stderr
        assert "not authorized" in refused.stderr


def test_serve_auth_from_the_environment() -> None:
    with serving("-n", "/admin", env={"SIOCLI_AUTH": '{"token": "env"}'}) as url:
        refused = siocli("emit", f"{url}/admin", "hi", "--timeout", "10")
        assert refused.returncode == 4, refused.stderr
        allowed = siocli(
            "emit", f"{url}/admin", "hi", "--timeout", "10", env={"SIOCLI_AUTH": '{"token": "env"}'}
        )
        assert allowed.returncode == 0, allowed.stderr


@pytest.mark.parametrize(
    "args",
    [
        ["serve", "--auth", "[1]"],
        ["emit", "http://127.0.0.1:9/", "x", "--auth", "[1]"],
        ["replay", "missing.jsonl", "--auth", "[1]"],
    ],
)
def test_auth_same_rule_everywhere(args: list[str]) -> None:
    result = siocli(*args)
    assert result.returncode == 2
    assert "a JSON object is needed" in result.stderr


@pytest.mark.parametrize(
    "args",
    [
        ["emit", "http://127.0.0.1:9/", "x", "-H", ": value"],
        ["replay", "missing.jsonl", "-H", ": value"],
        ["proxy", "http://127.0.0.1:9", "-H", ": value"],
    ],
)
def test_header_same_rule_everywhere(args: list[str]) -> None:
    result = siocli(*args)
    assert result.returncode == 2
    assert "expected 'Name: value'" in result.stderr


@pytest.mark.parametrize(
    "args",
    [
        ["emit", "http://127.0.0.1:9/", "x", "-n", "admin"],
        ["serve", "-n", "admin"],
        ["proxy", "http://127.0.0.1:9", "-n", "admin"],
    ],
)
def test_namespace_same_rule_everywhere(args: list[str]) -> None:
    result = siocli(*args)
    assert result.returncode == 2
    assert "must start with '/'" in result.stderr


@pytest.mark.parametrize(
    "args",
    [
        ["emit", "http://127.0.0.1:9/", "x", "--query", "token"],
        ["listen", "http://127.0.0.1:9/", "--query", "token"],
        ["replay", "missing.jsonl", "--query", "token"],
    ],
)
def test_query_same_rule_everywhere(args: list[str]) -> None:
    result = siocli(*args)
    assert result.returncode == 2
    assert "expected k=v" in result.stderr


@pytest.mark.parametrize(
    ("option", "value", "said"),
    [
        ("--latency", "abc", "expected MS or MS±JITTER"),
        ("--cut-after", "0", "whole number >= 1"),
        ("--drop", "c2s:", "no event name glob"),
    ],
)
def test_proxy_faults_say_which_option_is_wrong(option: str, value: str, said: str) -> None:
    result = siocli("proxy", "http://127.0.0.1:9", "--listen", "127.0.0.1:0", option, value)
    assert result.returncode == 2
    assert f"Invalid value for '{option}'" in result.stderr and said in result.stderr


def test_serve_refuses_recovery_for_socketio_2_only() -> None:
    """Recovery is protocol 5's: with --eio 3 it would be silently without effect."""
    result = siocli("serve", "--port", "0", "--eio", "3", "--recover", "5")
    assert result.returncode == 2
    assert "Invalid value for '--recover'" in result.stderr and "--eio 3" in result.stderr


# --- --no-color reaches the -v view ----------------------------------------------------------

COLOUR = re.compile(r"\x1b\[[0-9;]*(3[0-79]|9[0-7]|38;[0-9;]+)m")


def test_verbose_view_honours_no_color() -> None:
    """The -v view had a Console of its own that looked at NO_COLOR only."""
    env = {"FORCE_COLOR": "1", "NO_COLOR": ""}
    with serving() as url:
        plain = dict(os.environ, **env)
        plain.pop("NO_COLOR")
        coloured = subprocess.run(
            [sys.executable, "-m", "siocli", "emit", url, "hi", "-v"],
            capture_output=True,
            text=True,
            timeout=60,
            env=plain,
        )
        assert coloured.returncode == 0, coloured.stderr
        assert COLOUR.search(coloured.stderr)  # the check can fail: colours are there without
        uncoloured = subprocess.run(
            [sys.executable, "-m", "siocli", "--no-color", "emit", url, "hi", "-v"],
            capture_output=True,
            text=True,
            timeout=60,
            env=plain,
        )
        assert uncoloured.returncode == 0, uncoloured.stderr
        assert "open" in uncoloured.stderr
        assert not COLOUR.search(uncoloured.stderr)


# --- a URL whose host is in brackets but no IPv6 address -------------------------------------

RECORDING = str(Path(__file__).parent.parent / "recordings" / "node4-websocket.jsonl")


@pytest.mark.parametrize("url", ["http://[::1", "http://[zz]:3000"])
@pytest.mark.parametrize(
    ("args", "hint"),
    [
        (["emit", "{url}", "hello"], "URL"),
        (["connect", "{url}"], "URL"),
        (["listen", "{url}"], "URL"),
        (["doctor", "{url}"], "URL"),
        (["proxy", "{url}", "--listen", "127.0.0.1:0"], "TARGET"),
        (["replay", RECORDING, "--url", "{url}"], "'--url'"),
    ],
)
def test_bracketed_host_that_is_no_ipv6_address(url: str, args: list[str], hint: str) -> None:
    """urlsplit's ValueError ("Invalid IPv6 URL") was an internal error (exit 70) on every
    command that takes a URL."""
    result = siocli(*(a.format(url=url) for a in args), timeout=30)
    assert result.returncode == 2, result.stderr
    assert f"Invalid value for {hint}: bad host in {url!r}" in result.stderr
    assert "internal error" not in result.stderr


@pytest.mark.parametrize("url", ["http://[::1", "http://127.0.0.1:99999", ""])
def test_recording_whose_url_cannot_be_connected_to(tmp_path: Path, url: str) -> None:
    """A recording edited by hand: replay read its URL only when connecting, an internal
    error (exit 70)."""
    header, *rest = Path(RECORDING).read_text(encoding="utf-8").splitlines(keepends=True)
    edited = tmp_path / "edited.jsonl"
    edited.write_text(json.dumps({**json.loads(header), "url": url}) + "\n" + "".join(rest))
    result = siocli("replay", str(edited), "--auth", "{}", timeout=30)
    assert result.returncode == 2, result.stderr
    assert f"{edited}: the recorded URL: bad " in result.stderr or "no host" in result.stderr
    assert "hint: give the server to replay against with --url" in result.stderr


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet="[]:/@0123456789abcdefz.%?#", max_size=24))
def test_any_url_is_read_or_refused_with_a_reason(text: str) -> None:
    for url in (text, "http://" + text):
        try:
            parse_target(ConnectOptions(url=url))
        except ValueError as exc:
            assert "Invalid IPv6 URL" not in str(exc)  # urlsplit's words, not ours
        with suppress(OptionError):
            ProxyTarget.parse(url)


# --- -H and --proxy: what HTTP can send, said before connecting ------------------------------


@pytest.mark.parametrize(
    ("value", "said"),
    [
        ("Bad Name: v", "'Bad Name' is not a header name: a name is an RFC 9110 token"),
        ("X(y): v", "'X(y)' is not a header name"),
        ("X: a\r\nY: b", "the value of X has '\\r' at character 2"),
        ("X: a\x00", "the value of X has '\\x00' at character 2"),
        ("X: a\x7fb", "the value of X has '\\x7f' at character 2"),
    ],
)
def test_header_that_http_cannot_send(value: str, said: str) -> None:
    with pytest.raises(click.BadParameter) as raised:
        HEADER.convert(value, None, None)
    assert said in raised.value.message


def test_header_that_http_can_send() -> None:
    assert HEADER.convert("X-Odd!#$%&'*+-.^_`|~: a\tb c\u00e9", None, None) == (
        "X-Odd!#$%&'*+-.^_`|~",
        "a\tb c\u00e9",  # obs-text: HTTP allows it, as siocli did
    )


@pytest.mark.parametrize(
    ("args", "said"),
    [
        (["-H", "Bad Name: v"], "'Bad Name' is not a header name"),
        (["-H", "X: a\r\nY: b"], "one line, no CR, LF or other control character"),
        (["--proxy", "notaurl"], "no scheme or no host: a proxy URL is http://HOST:PORT"),
        (["--proxy", "ftp://127.0.0.1:1"], "unsupported scheme 'ftp'"),
        (["--proxy", "http://[::1"], "bad host"),
        (["--proxy", "http://127.0.0.1:99999"], "bad port"),
    ],
)
def test_bad_header_or_proxy_is_a_usage_error(args: list[str], said: str) -> None:
    """They were exit 3 (connection failed), in the HTTP library's words."""
    result = siocli("emit", "http://127.0.0.1:9/", "x", *args, "--timeout", "5")
    assert result.returncode == 2, result.stderr
    assert said in result.stderr


def test_socks_proxy_without_socks_support(monkeypatch: pytest.MonkeyPatch) -> None:
    """httpx's ImportError ("pip install httpx[socks]") came after a failed connection."""
    import importlib.util

    monkeypatch.setattr(importlib.util, "find_spec", lambda name: None)
    with pytest.raises(click.BadParameter) as raised:
        PROXY.convert("socks5://127.0.0.1:1080", None, None)
    assert "a socks5 proxy needs SOCKS support" in raised.value.message
    assert "pip install 'httpx[socks]' python-socks" in raised.value.message
    assert PROXY.convert("http://user:pw@127.0.0.1:3128", None, None)


# --- --auth and $SIOCLI_AUTH: never echoed ---------------------------------------------------


def test_auth_from_the_environment_is_not_echoed() -> None:
    result = siocli("emit", "http://127.0.0.1:9/", "x", env={"SIOCLI_AUTH": '{"token":"s3cr3t"'})
    assert result.returncode == 2
    assert "s3cr3t" not in result.stderr
    assert "Invalid value for $SIOCLI_AUTH: not valid JSON" in result.stderr
    assert "line 1 column 18 (character 18)" in result.stderr
    assert "--auth" not in result.stderr


def test_auth_on_the_command_line_is_not_echoed() -> None:
    for value in ('{"token":"s3cr3t"', '"s3cr3t"', "s3cr3t", '{"token": NaN}'):
        result = siocli("emit", "http://127.0.0.1:9/", "x", "--auth", value)
        assert result.returncode == 2
        assert "Invalid value for '--auth'" in result.stderr
        assert "s3cr3t" not in result.stderr


def test_a_script_join_auth_is_not_echoed() -> None:
    """A connect script's `join NSP AUTH` echoed an AUTH that is not valid JSON."""
    with serving("-n", "/admin") as url:
        for auth in ('{"token":"s3cr3t"', '"s3cr3t"'):
            result = siocli("connect", url, "-q", stdin=f"join /admin {auth}\nquit\n")
            assert result.returncode == 2, result.stderr
            assert "AUTH: " in result.stdout + result.stderr
            assert "s3cr3t" not in result.stdout + result.stderr


# --- serve --emit-every ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("spec", "said"),
    [
        ("1 connect", "'connect' is a reserved event name"),
        ("1 disconnect 2", "'disconnect' is a reserved event name"),
        ("x", "expected 'SECONDS EVENT [ARGS...]', SECONDS a number > 0"),
        ("nan tick", "SECONDS a number > 0"),
        ("0 tick", "SECONDS a number > 0"),
    ],
)
def test_serve_emit_every_refuses_what_clients_cannot_take(spec: str, said: str) -> None:
    """A reserved name broke every client (a parse error, a transport error); a bad
    SECONDS said Python's words, "could not convert string to float"."""
    result = siocli("serve", "--port", "0", "--emit-every", spec, timeout=20)
    assert result.returncode == 2
    assert "Invalid value for '--emit-every'" in result.stderr and said in result.stderr


# --- help that says what the commands do -----------------------------------------------------


def test_help_says_what_the_commands_do(tmp_path: Path) -> None:
    emit_help = " ".join(siocli("emit", "--help").stdout.split())
    assert "2 bad command line" in emit_help and "7 the server refused the event" in emit_help
    assert "'leave [NSP]'" in " ".join(siocli("connect", "--help").stdout.split())
    reconnect = " ".join(siocli("listen", "--help").stdout.split())
    assert "off for emit;" in reconnect and "doctor" not in reconnect
    refused = siocli("doctor", "http://127.0.0.1:9/", "--reconnect")
    assert refused.returncode == 2 and "--reconnect does not apply to doctor" in refused.stderr


def test_proxy_record_on_a_file(tmp_path: Path) -> None:
    """It said "cannot create FILE: File exists"."""
    file = tmp_path / "file"
    file.write_text("")
    result = siocli("proxy", "http://127.0.0.1:9", "--listen", "127.0.0.1:0", "--record", str(file))
    assert result.returncode == 2
    assert f"--record {file}: not a directory" in result.stderr


# --- --path and doctor --origin: what a request can carry, said before connecting -----------


@pytest.mark.parametrize(
    ("path", "said"),
    [
        (
            "/a b/",
            "' ' at character 3: a path has no blank, control or non-ASCII character "
            "(percent-encode it: %20)",
        ),
        ("/\u00e9/", "'é' at character 2"),
        ("/x\r\n", "'\\r' at character 3"),
    ],
)
@pytest.mark.parametrize(
    "args",
    [
        ["emit", "http://127.0.0.1:9/", "x"],
        ["doctor", "http://127.0.0.1:9/"],
        ["proxy", "http://127.0.0.1:9", "--listen", "127.0.0.1:0"],
        ["serve", "--port", "0"],
        ["replay", RECORDING],
    ],
)
def test_path_that_a_request_cannot_carry(args: list[str], path: str, said: str) -> None:
    """It was exit 3 in the HTTP library's words ("Illegal target characters", a
    UnicodeEncodeError); serve and proxy listened on a path no request can name."""
    result = siocli(*args, "--path", path, timeout=30)
    assert result.returncode == 2, result.stderr
    assert f"Invalid value for '--path': {said}" in result.stderr


def test_doctor_origin_held_to_what_a_header_is() -> None:
    """doctor's Path check failed on it, blaming the path."""
    result = siocli("doctor", "http://127.0.0.1:9/", "--origin", "http://a\r\nX: b")
    assert result.returncode == 2, result.stdout
    assert "Invalid value for '--origin': the value of Origin has '\\r'" in result.stderr
