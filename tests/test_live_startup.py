"""``listen`` to a plain ``ws://`` or ``http://`` URL imports no httpx and makes no TLS
context: httpx costs ~50 ms to import and loads its CA bundle even for ``http://``. A real
session runs in a fresh interpreter, which then says what it imported and made."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from .realservers import run_server

# Runs siocli's command line in this interpreter, counting the TLS contexts made, then
# prints what the session left in sys.modules.
PROBE = """
import json, ssl, sys
made = []
new = ssl.SSLContext.__new__
def counted(cls, *args, **kwargs):
    made.append(cls.__name__)
    return new(cls, *args, **kwargs)
ssl.SSLContext.__new__ = counted
from siocli.cli import main
try:
    main(sys.argv[1:])
except SystemExit as exc:
    status = exc.code
print(json.dumps({"status": status, "httpx": "httpx" in sys.modules, "contexts": made}))
"""


def probe(*args: str) -> dict[str, object]:
    result = subprocess.run(
        [sys.executable, "-c", PROBE, *args],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    return json.loads(result.stdout.splitlines()[-1])  # type: ignore[no-any-return]


@pytest.mark.parametrize(
    ("scheme", "extra"),
    [("ws", ()), ("http", ("--transport", "polling")), ("http", ())],
)
def test_plain_urls_import_no_httpx_and_make_no_tls_context(
    scheme: str, extra: tuple[str, ...]
) -> None:
    with run_server("node4") as server:
        url = server.url.replace("http", scheme, 1) + "/"
        seen = probe("listen", url, "--count", "1", "--json", "--emit", "burst {}", *extra)
    assert seen == {"status": 0, "httpx": False, "contexts": []}


def test_the_probe_sees_a_tls_context() -> None:
    # https to a closed port: the context is made before the connection fails.
    seen = probe("listen", "https://127.0.0.1:1/", "--timeout", "2")
    assert seen["status"] == 3 and seen["contexts"]
