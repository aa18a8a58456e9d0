"""Faults between a client and a real server, for ``siocli doctor``'s tests.

Each fault is a real process on 127.0.0.1 in front of real servers (tests/realservers.py):
:func:`run_proxy` starts ``proxy.py`` (an HTTP/1.1 proxy that can strip the WebSocket
upgrade, balance requests round-robin without affinity, terminate TLS, or act as a
forward proxy); :func:`make_certificate` writes a certificate with the ``openssl`` CLI.
"""

from __future__ import annotations

import json
import shutil
import signal
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

HERE = Path(__file__).parent

__all__ = ["make_certificate", "run_proxy"]


@contextmanager
def run_proxy(**options: object) -> Iterator[int]:
    """Start ``proxy.py`` with ``options`` (see its docstring); yields its port."""
    process = subprocess.Popen(
        [sys.executable, str(HERE / "proxy.py"), json.dumps({"port": 0, **options})],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
    )
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        if not line:
            raise RuntimeError("the fault proxy did not start")
        yield json.loads(line)["port"]
    finally:
        if process.stdout is not None:
            process.stdout.close()
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(5)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(5)


def make_certificate(
    directory: Path, name: str = "127.0.0.1", *, expired: bool = False
) -> tuple[Path, Path]:
    """A self-signed certificate for ``name`` (an IP address or a host name) and its key,
    made by the ``openssl`` CLI: ``(cert.pem, key.pem)``. ``expired``: valid only in 2020."""
    openssl = shutil.which("openssl")
    if openssl is None:
        pytest.fail("the openssl command is needed to make the test certificates")
    stem = f"{name}-expired" if expired else name
    cert, key = directory / f"{stem}.pem", directory / f"{stem}.key"
    kind = "IP" if name.replace(".", "").isdigit() else "DNS"
    subject = ["-subj", f"/CN={name}", "-addext", f"subjectAltName={kind}:{name}"]
    newkey = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
    if not expired:
        out = ["-keyout", str(key), "-out", str(cert)]
        _run([openssl, "req", "-x509", *newkey, *out, "-days", "30", *subject])
        return cert, key
    # `req -x509` cannot date a certificate in the past; `openssl ca -selfsign` can.
    csr, config = directory / f"{stem}.csr", directory / f"{stem}.cnf"
    database = directory / f"{stem}.index"
    database.write_text("")
    config.write_text(
        "[ca]\ndefault_ca = selfsigned\n[selfsigned]\n"
        f"database = {database}\nnew_certs_dir = {directory}\n"
        f"serial = {directory / (stem + '.srl')}\n"
        "default_md = sha256\npolicy = anything\ncopy_extensions = copy\nunique_subject = no\n"
        "[anything]\ncommonName = supplied\n"
    )
    (directory / f"{stem}.srl").write_text("01\n")
    _run([openssl, "req", "-new", *newkey, "-keyout", str(key), "-out", str(csr), *subject])
    _run(
        [
            openssl,
            "ca",
            "-batch",
            "-selfsign",
            "-config",
            str(config),
            "-keyfile",
            str(key),
            "-in",
            str(csr),
            "-out",
            str(cert),
            "-startdate",
            "20200101000000Z",
            "-enddate",
            "20200102000000Z",
            "-notext",
        ]
    )
    return cert, key


def _run(command: list[str]) -> None:
    result = subprocess.run(command, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise RuntimeError(f"{' '.join(command[:3])} failed: {result.stderr.strip()}")
