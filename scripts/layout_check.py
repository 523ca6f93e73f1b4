#!/usr/bin/env python3
"""The project's import cycles (lazy imports inside functions included; ``TYPE_CHECKING`` blocks left out) and its
modules over a line limit. Run from the project root: ``python scripts/layout_check.py [--max-lines 400]``; exit
status 1 when it finds either. ``tests/test_layering.py`` runs the same checks in the test suite.

Standard library only, and plain Python 3.11 syntax, so it runs before (and without) the virtualenv.
"""

import argparse
import ast
import os
import sys
from pathlib import Path

SKIP = ("tests/", "migrations/", ".venv", "var/", "node_modules", "bench/")


def modules(root: Path) -> dict[str, str]:
    """Every project module (dotted name → path relative to ``root``), tests, migrations and benchmarks left out."""
    mods = {}
    for dirpath, dirnames, files in os.walk(root):
        rel_dir = os.path.relpath(dirpath, root)
        if rel_dir != "." and rel_dir.split(os.sep)[0].startswith("."):
            dirnames[:] = []
            continue
        for f in files:
            rel = os.path.normpath(os.path.join(rel_dir, f))
            if f.endswith(".py") and not any(s in rel + "/" for s in SKIP):
                mods[rel[:-3].replace(os.sep, ".").removesuffix(".__init__")] = rel
    return mods


def imports(mod: str, rel: str, mods: dict[str, str], root: Path) -> set[str]:
    """The project modules ``mod`` imports anywhere in its body (functions included), except under TYPE_CHECKING."""
    tree = ast.parse((root / rel).read_text(), rel)
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.dump(node.test):
            node.body = []
    deps = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            targets = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = mod.split(".") + (["x"] if rel.endswith("__init__.py") else [])
            if node.level:
                prefix = ".".join(base[: len(base) - node.level] + [node.module or ""]).strip(".")
            else:
                prefix = node.module or ""
            targets = [prefix] + [f"{prefix}.{a.name}" for a in node.names]
        else:
            continue
        for t in targets:
            while t and t not in mods:
                t = t.rpartition(".")[0]
            if t and t != mod:
                deps.add(t)
    return deps


def import_graph(root: Path) -> dict[str, set[str]]:
    mods = modules(root)
    return {m: imports(m, rel, mods, root) for m, rel in mods.items()}


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan): each is at least one import cycle."""
    index, low, on, stack, out, n = {}, {}, set(), [], [], [0]
    sys.setrecursionlimit(10000)

    def visit(v):
        index[v] = low[v] = n[0]
        n[0] += 1
        stack.append(v)
        on.add(v)
        for w in graph[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return out


def oversized(root: Path, max_lines: int) -> list[tuple[int, str]]:
    """(lines, path) of the modules longer than ``max_lines``, longest first."""
    sizes = []
    for rel in modules(root).values():
        with open(root / rel) as f:
            sizes.append((sum(1 for _ in f), rel))
    return sorted(((n, rel) for n, rel in sizes if n > max_lines), reverse=True)


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--max-lines", type=int, default=400)
    ap.add_argument("root", nargs="?", default=".")
    a = ap.parse_args()
    root = Path(a.root).resolve()
    graph = import_graph(root)
    found = cycles(graph)
    for comp in found:
        print(f"import cycle of {len(comp)} modules:")
        for m in comp:
            print(f"  {m} -> {', '.join(sorted(d for d in graph[m] if d in comp))}")
    over = oversized(root, a.max_lines)
    for n, r in over:
        print(f"{r}: {n} lines (over {a.max_lines})")
    if not found and not over:
        print(f"no import cycle; no module over {a.max_lines} lines")
    return 1 if found or over else 0


if __name__ == "__main__":
    sys.exit(main())
