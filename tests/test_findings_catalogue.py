"""The findings catalogue (siocli/protocol/findings.py) is the code's: every finding code
the source can emit is catalogued, with the severities and modules that emit it, and nothing
is catalogued that nothing emits. docs/findings.md is generated from it, and
``decode --explain`` prints its entries."""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

from siocli.protocol.findings import CATALOGUE, close_matches, markdown
from siocli.protocol.types import Severity

ROOT = Path(__file__).resolve().parent.parent
SEVERITIES = {s.name for s in Severity}


def _literal(node: ast.AST) -> str | None:
    return node.value if isinstance(node, ast.Constant) and isinstance(node.value, str) else None


def _severity(node: ast.AST) -> str | None:
    if (
        isinstance(node, ast.Attribute)
        and isinstance(node.value, ast.Name)
        and node.value.id == "Severity"
        and node.attr in SEVERITIES
    ):
        return node.attr
    if isinstance(node, ast.Name) and node.id in SEVERITIES:
        return node.id
    return None


def _passed_on(node: ast.AST) -> bool:
    """``note.code``: a code some other record carries (its own site is scanned)."""
    return isinstance(node, ast.Attribute) and node.attr == "code"


def emitted() -> tuple[dict[str, set[tuple[str, str]]], list[str]]:
    """code -> {(severity, module)} over siocli/, and the call sites whose code is computed
    (neither a literal nor passed on), which no catalogue could check."""
    found: dict[str, set[tuple[str, str]]] = {}
    dynamic = []
    for path in sorted((ROOT / "siocli").rglob("*.py")):
        module = path.relative_to(ROOT / "siocli").as_posix()
        for node in ast.walk(ast.parse(path.read_text("utf-8"))):
            if isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
                # a dataclass's default code (InputProblem's input.unreadable)
                if node.target.id == "code" and node.value is not None:
                    code = _literal(node.value)
                    if code is not None:
                        found.setdefault(code, set()).add(("VIOLATION", module))
                continue
            if not isinstance(node, ast.Call):
                continue
            keywords = {k.arg: k.value for k in node.keywords}
            if "code" in keywords:
                code = _literal(keywords["code"])
                severity = _severity(keywords["severity"]) if "severity" in keywords else None
                if code is not None:
                    found.setdefault(code, set()).add((severity or "VIOLATION", module))
                elif not _passed_on(keywords["code"]):
                    dynamic.append(f"{module}:{node.lineno}")
                continue
            for i, argument in enumerate(node.args[:-1]):
                severity = _severity(argument)
                if severity is None:
                    continue
                code = _literal(node.args[i + 1])
                if code is not None:
                    found.setdefault(code, set()).add((severity, module))
                elif not _passed_on(node.args[i + 1]):
                    dynamic.append(f"{module}:{node.lineno}")
    return found, dynamic


def test_every_emitted_code_is_catalogued_as_emitted() -> None:
    found, _ = emitted()
    assert len(found) >= 60  # the scan sees the codes (it can fail)
    missing = sorted(set(found) - set(CATALOGUE))
    assert not missing, f"add an Entry to siocli/protocol/findings.py for {missing}"
    stale = sorted(set(CATALOGUE) - set(found))
    assert not stale, f"catalogued, emitted nowhere: {stale}"
    for code, sites in found.items():
        entry = CATALOGUE[code]
        assert {s.name for s in entry.severities} == {s for s, _ in sites}, code
        assert set(entry.sources) == {m for _, m in sites}, code


def test_no_code_is_computed() -> None:
    _, dynamic = emitted()
    assert not dynamic, f"a finding code must be a literal at its call site: {dynamic}"


def test_entries_say_something() -> None:
    for entry in CATALOGUE.values():
        assert entry.summary and entry.basis, entry.code
        assert "\n" not in entry.summary + entry.basis, entry.code


def test_docs_findings_md_is_up_to_date() -> None:
    text = (ROOT / "docs" / "findings.md").read_text("utf-8")
    assert text == markdown(), "python -m siocli.render.findings > docs/findings.md"
    for code in CATALOGUE:
        assert f"`{code}`" in text


def siocli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "siocli", *args], capture_output=True, text=True, timeout=60
    )


def test_explain_prints_one_entry() -> None:
    result = siocli("decode", "--explain", "sio.empty-packet")
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("sio.empty-packet (violation)\n")
    assert "rests on: socket.io-parser" in result.stdout
    assert "siocli/protocol/socketio.py" in result.stdout


def test_explain_an_unknown_code_exits_2_with_close_matches() -> None:
    result = siocli("decode", "--explain", "empty-packet")
    assert result.returncode == 2
    assert "no finding has the code 'empty-packet'" in result.stderr
    assert "sio.empty-packet" in result.stderr
    assert close_matches("eio.ping-timout-not-default") == ["eio.ping-timeout-not-default"]


def test_what_decode_reports_is_catalogued() -> None:
    """The other way round: codes decode actually reports, on messages that break rules."""
    messages = ["4", "42", "43", "4 2[1]", "451-/x[]", "40/admin", "6", "2probe", "bAQID", "0{}"]
    result = siocli("decode", "--json", "--eio", "4", *messages)
    reported = {
        finding["code"]
        for line in result.stdout.splitlines()
        for finding in json.loads(line).get("findings", [])
    }
    assert reported, result.stdout + result.stderr
    assert reported <= set(CATALOGUE), reported - set(CATALOGUE)
