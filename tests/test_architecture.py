"""The shape the developers' guide asks for: lib never imports the UI or the benchmarks, its modules import one another
without circles, each file stays small enough to read (pages 200 lines, the rest 300)."""

from __future__ import annotations

import ast
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LIB = ROOT / "lib"
PAGE_LINES, FILE_LINES = 200, 300


def lib_modules() -> dict[str, Path]:
    """Dotted name -> file of every module in lib (Alembic's migration scripts are run by Alembic, not imported)."""
    out = {}
    for path in sorted(p for p in LIB.rglob("*.py") if "migrations" not in p.parts):
        parts = path.relative_to(ROOT).with_suffix("").parts
        out[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return out


def imports_at_load(path: Path) -> set[str]:
    """The lib modules a module imports when it is loaded (not those imported inside functions or for type checkers)."""
    found = set()
    for node in ast.parse(path.read_text()).body:
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("lib"):
            found.add(node.module)
            found.update(f"{node.module}.{a.name}" for a in node.names)
        elif isinstance(node, ast.Import):
            found.update(a.name for a in node.names if a.name.startswith("lib"))
    return found


def test_lib_never_imports_streamlit_nor_the_benchmarks():
    pattern = re.compile(r"^\s*(import|from)\s+(streamlit|bench|ui|views)\b", re.MULTILINE)
    assert [p.name for p in LIB.rglob("*.py") if pattern.search(p.read_text())] == []
    modules = ", ".join(name for name in lib_modules() if not name.endswith("__main__"))
    code = f"import sys, {modules}; print(sorted(m for m in sys.modules if m.split('.')[0] in ('streamlit', 'bench')))"
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_lib_modules_import_one_another_without_circles():
    modules = lib_modules()
    graph = {name: {m for m in imports_at_load(path) if m in modules and m != name and m != "lib"}
             for name, path in modules.items()}
    state: dict[str, int] = {}  # 1 visiting, 2 done

    def visit(name: str, trail: list[str]) -> None:
        state[name] = 1
        for nxt in sorted(graph[name]):
            assert state.get(nxt) != 1, "import circle: " + " -> ".join(trail + [name, nxt])
            if nxt not in state:
                visit(nxt, trail + [name])
        state[name] = 2

    for name in sorted(graph):
        if name not in state:
            visit(name, [])


def test_files_stay_short():
    long = [f"{p.relative_to(ROOT)}: {n} lines" for p in sorted(ROOT.glob("views/*.py"))
            if (n := len(p.read_text().splitlines())) > PAGE_LINES]
    long += [f"{p.relative_to(ROOT)}: {n} lines" for folder in ("lib", "ui") for p in sorted((ROOT / folder).rglob("*.py"))
             if (n := len(p.read_text().splitlines())) > FILE_LINES]
    assert long == []
