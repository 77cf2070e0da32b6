"""The two commands of the README: `make demo` installs only what the demo needs."""

from __future__ import annotations

import re
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def _recipe(text: str, target: str) -> tuple[list[str], list[str]]:
    match = re.search(rf"^{re.escape(target)}:(.*)\n((?:\t.*\n)*)", text, re.M)
    assert match, target
    return match.group(1).split(), [ln.strip() for ln in match.group(2).splitlines()]


def test_make_demo_installs_no_dev_extras() -> None:
    text = (REPO / "Makefile").read_text()
    deps, _ = _recipe(text, "demo")
    assert deps == ["$(STAMP)"]
    _, install = _recipe(text, "$(STAMP)")
    assert any("pip install" in ln and "-e ." in ln for ln in install)
    assert not any("[dev]" in ln for ln in install)
    deps, _ = _recipe(text, "test")
    assert deps == ["$(DEV_STAMP)"]
    _, dev = _recipe(text, "$(DEV_STAMP)")
    assert any("'.[dev]'" in ln for ln in dev)


def test_readme_opens_with_the_two_commands() -> None:
    readme = (REPO / "README.md").read_text()
    block = re.search(r"```sh\n(.*?)```", readme, re.S).group(1)
    assert [ln.split()[:2] for ln in block.strip().splitlines()] == [
        ["make", "demo"],
        ["make", "test"],
    ]


def _import_graph() -> dict[str, set[str]]:
    """stylecast's modules and the stylecast modules each imports, at module level or in a
    function (not under TYPE_CHECKING); a name from a lazy package ``__init__`` counts as
    an import of the module its ``_EXPORTS`` names."""
    import ast

    root = Path(__file__).resolve().parents[1]
    files = {}
    for f in (root / "stylecast").rglob("*.py"):
        name = ".".join(f.relative_to(root).with_suffix("").parts).removesuffix(".__init__")
        files[name] = f
    trees = {m: ast.parse(f.read_text()) for m, f in files.items()}
    lazy = {
        m: ast.literal_eval(node.value)
        for m, tree in trees.items()
        for node in tree.body
        if isinstance(node, ast.Assign) and getattr(node.targets[0], "id", "") == "_EXPORTS"
    }

    def targets(module: str, node: ast.AST) -> list[str]:
        if isinstance(node, ast.Import):
            return [a.name for a in node.names if a.name in files]
        assert isinstance(node, ast.ImportFrom)
        base = node.module or ""
        if node.level:
            parts = module.split(".")
            keep = len(parts) - node.level + (files[module].name == "__init__.py")
            base = ".".join([*parts[:keep], *([node.module] if node.module else [])])
        out = []
        for alias in node.names:
            if f"{base}.{alias.name}" in files:
                out.append(f"{base}.{alias.name}")
            elif alias.name in lazy.get(base, {}):
                out.append(lazy[base][alias.name])
            elif base in files:
                out.append(base)
        return out

    graph: dict[str, set[str]] = {m: set() for m in files}
    for module, tree in trees.items():
        todo = list(ast.iter_child_nodes(tree))
        while todo:
            node = todo.pop()
            if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
                continue
            if isinstance(node, (ast.Import, ast.ImportFrom)):
                graph[module].update(t for t in targets(module, node) if t != module)
            todo.extend(ast.iter_child_nodes(node))
    return graph


def test_no_import_circles_between_modules() -> None:
    """No stylecast module imports, directly or through others, one that imports it back
    (function-level imports included: they hide a circle, they do not remove it)."""
    graph = _import_graph()
    assert len(graph) > 100 and "stylecast.training.engine" in graph["stylecast.training.follower"]
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    circles: list[list[str]] = []

    def visit(v: str) -> None:  # Tarjan's strongly connected components
        index[v] = low[v] = len(index)
        stack.append(v)
        for w in graph[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                circles.append(sorted(component))

    for module in sorted(graph):
        if module not in index:
            visit(module)
    assert circles == []
