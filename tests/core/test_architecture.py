"""The core's shape, checked: no import cycles (function-local imports count; only imports
under TYPE_CHECKING are exempt), no import of a plugin package, no module over 450 lines."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import artflow

ROOT = Path(artflow.__file__).parent
MAX_LINES = 450


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _modules() -> dict[str, Path]:
    return {_module_name(p): p for p in sorted(ROOT.rglob("*.py"))}


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")


def _imports(path: Path, name: str, known: set[str]) -> tuple[set[str], set[str]]:
    """(artflow modules imported, other top-level packages imported) by a module, at any depth."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()
    foreign: set[str] = set()

    def visit(node: ast.AST) -> None:
        if isinstance(node, ast.If) and _is_type_checking(node):
            for child in node.orelse:
                visit(child)
            return
        if isinstance(node, ast.Import):
            for alias in node.names:
                (found if alias.name.split(".")[0] == "artflow" else foreign).add(alias.name)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - (node.level - 1)]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            if target.split(".")[0] != "artflow":
                foreign.add(target)
            else:
                for alias in node.names:
                    sub = f"{target}.{alias.name}"
                    found.add(sub if sub in known else target)
        for child in ast.iter_child_nodes(node):
            visit(child)

    visit(tree)
    return {m for m in found if m in known and m != name}, foreign


def _graph() -> dict[str, set[str]]:
    modules = _modules()
    return {name: _imports(path, name, set(modules))[0] for name, path in modules.items()}


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on: set[str] = set()
    out: list[list[str]] = []
    counter = [0]

    def strong(v: str) -> None:
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in graph[v]:
            if w not in index:
                strong(w)
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
            strong(v)
    return out


def test_the_core_has_no_import_cycles():
    assert _cycles(_graph()) == []


def test_the_core_imports_no_plugin_package():
    offenders = {}
    modules = _modules()
    for name, path in modules.items():
        foreign = _imports(path, name, set(modules))[1]
        bad = sorted(f for f in foreign if f.split(".")[0].startswith("artflow_"))
        if bad:
            offenders[name] = bad
    assert offenders == {}


def test_no_core_module_runs_past_450_lines():
    long = {name: n for name, path in _modules().items()
            if (n := len(path.read_text(encoding="utf-8").splitlines())) > MAX_LINES}
    assert long == {}


DOC = ROOT.parent / "docs" / "architecture.md"


def _layers() -> list[tuple[str, list[str]]]:
    """The layers docs/architecture.md states, in order: (name, module prefixes like 'artflow.models')."""
    text = DOC.read_text(encoding="utf-8").split("## Layers", 1)[1].split("\n## ", 1)[0]
    layers = []
    for row in text.splitlines():
        cells = [c.strip() for c in row.strip().strip("|").split("|")]
        if len(cells) < 3 or cells[0] in ("layer", "") or set(cells[0]) <= {"-"}:
            continue
        first = cells[1].split("(", 1)[0]  # `models/` (`registry.py`, …): the folder is the entry
        names = re.findall(r"`([\w/]+?)(?:\.py)?`", first)
        layers.append((cells[0], ["artflow." + n.strip("/").replace("/", ".") for n in names]))
    return layers


def _layer_of(module: str, layers: list[tuple[str, list[str]]]) -> int | None:
    for i, (_, prefixes) in enumerate(layers):
        if any(module == p or module.startswith(p + ".") for p in prefixes):
            return i
    return None


def test_docs_architecture_places_every_core_module_in_a_layer():
    layers = _layers()
    assert [name for name, _ in layers][:3] == ["data contract", "models", "plugins"]
    missing = [m for m in _modules() if m != "artflow" and _layer_of(m, layers) is None]
    assert missing == [], "add them to the Layers table of docs/architecture.md"


def test_each_layer_imports_only_the_layers_above_it_as_docs_architecture_states():
    layers = _layers()
    modules = _modules()
    upward = []
    for name, path in modules.items():
        own = _layer_of(name, layers)
        for target in sorted(_imports(path, name, set(modules))[0]):
            theirs = _layer_of(target, layers)
            if own is not None and theirs is not None and theirs > own:
                upward.append(f"{name} ({layers[own][0]}) imports {target} ({layers[theirs][0]})")
    assert upward == []


def test_no_core_module_names_a_shipped_model_or_a_plugins_decoder():
    """A new model plugin touches nothing under artflow/: no string in the core is the name of a
    model or an import decoder that a plugin ships (core's own decoders excepted)."""
    import artflow as af
    from artflow.import_registry import CORE_DECODERS

    plugins = af.get_plugins()
    names = {m.name for m in plugins.models} | (set(plugins.imports.decoders) - set(CORE_DECODERS))
    assert {"glass", "digits", "coco", "hed"} <= names
    found = []
    for module, path in _modules().items():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and node.value in names:
                found.append(f"{module}:{node.lineno} {node.value!r}")
    assert found == []
