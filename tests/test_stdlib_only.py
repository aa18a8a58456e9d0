"""The protocol core needs nothing but the standard library, and does no I/O."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

CORE = Path(__file__).parent.parent / "siocli" / "protocol"
OPTIONAL_ACCELERATORS = {"orjson"}  # imported when present, never required (see _jsonlib)
# imported inside a function, on first use only (the MessagePack parser): never at import
LOADED_ON_USE = {"msgpack"}
IO_MODULES = {
    "socket",
    "asyncio",
    "ssl",
    "select",
    "selectors",
    "time",
    "io",
    "os",
    "sys",
    "subprocess",
    "threading",
    "http",
    "urllib.request",
    "pathlib",
    "builtins",
}


def _imports(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module)
    return names


def test_core_imports_only_the_standard_library() -> None:
    for path in sorted(CORE.glob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        at_import = {
            alias.name.split(".")[0]
            for node in tree.body
            if isinstance(node, ast.Import)
            for alias in node.names
        }
        for name in _imports(path):
            top = name.split(".")[0]
            assert (
                top in sys.stdlib_module_names
                or top in OPTIONAL_ACCELERATORS
                or (top in LOADED_ON_USE and top not in at_import)
                or top == "__future__"
            ), f"{path.name} imports {name}"


def test_core_does_no_io() -> None:
    for path in sorted(CORE.glob("*.py")):
        for name in _imports(path):
            assert name not in IO_MODULES, f"{path.name} imports {name}: the core does no I/O"
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
                assert node.func.id not in ("open", "print", "input"), (
                    f"{path.name} calls {node.func.id}()"
                )


PROBE = """
import sys
sys.modules["orjson"] = None  # as if only the standard library were installed
sys.modules["msgpack"] = None
before = set(sys.modules)
import siocli.protocol
from siocli.protocol import engineio, socketio, annotate, checker, dissect, session
from siocli.protocol import msgpack_parser, server
outside = sorted(
    name for name in set(sys.modules) - before
    if name.split(".")[0] not in sys.stdlib_module_names and not name.startswith("siocli")
    and sys.modules[name] is not None
)
assert outside == [], outside
p = socketio.decode_packet('2["hey",{"big":123456789012345678901234567890}]')
print(p.event, p.args)
"""


def test_core_works_with_the_standard_library_alone() -> None:
    result = subprocess.run(
        [sys.executable, "-c", PROBE], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "hey [{'big': 123456789012345678901234567890}]"
