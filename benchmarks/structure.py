"""Measure the package's structure: where each question is answered, by an AST scan.

Run it from the repository root (``python benchmarks/structure.py``); it reads
``src/nnmath`` only and imports nothing of it. It prints:

- lines of code (docstrings, comments and blank lines aside), in all and in ``Network``;
- where matrix products are written (``@``, ``dot``, ``matmul``, ``einsum``);
- the import graph of nnmath's modules (function-level imports included; importing
  ``a.b`` runs ``a/__init__``), its cycles, and the third-party packages the core reaches;
- the modules that recognise Dask collections, and the branches on the kind of array
  inside the modules that define ``fit``;
- the modules that name one activation (``leaky_relu``) and one loss (``huber``): what
  adding one of either touches;
- uses of another library's private names.
"""

from __future__ import annotations

import argparse
import ast
import io
import sys
import tokenize
from collections import defaultdict
from pathlib import Path

CORE = "nnmath.core"
# scikit-learn tells third-party estimators to use its parameter validation.
ALLOWED_PRIVATE = {"sklearn.utils._param_validation"}
KIND_TESTS = (
    "is np",
    "np.ndarray",
    "issparse",
    "is_dask",
    "dask",
    "__array_namespace__",
    "is_array_api_obj",
    "is_numpy",
    "Collection",
)


def module_name(path: Path, root: Path) -> str:
    parts = list(path.relative_to(root.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def code_lines(source: str, tree: ast.AST, node: ast.AST | None = None) -> int:
    """Count lines holding code: no blank, comment-only or docstring lines."""
    node = node or tree
    start = getattr(node, "lineno", 1)
    end = getattr(node, "end_lineno", len(source.splitlines()))
    doc_lines: set[int] = set()
    for n in ast.walk(node):
        if isinstance(n, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)):
            body = n.body
            if (
                body
                and isinstance(body[0], ast.Expr)
                and isinstance(body[0].value, ast.Constant)
                and isinstance(body[0].value.value, str)
            ):
                doc_lines.update(range(body[0].lineno, body[0].end_lineno + 1))
    code: set[int] = set()
    for tok in tokenize.generate_tokens(io.StringIO(source).readline):
        if tok.type in (
            tokenize.COMMENT,
            tokenize.NL,
            tokenize.NEWLINE,
            tokenize.INDENT,
            tokenize.DEDENT,
            tokenize.ENDMARKER,
        ):
            continue
        for line in range(tok.start[0], tok.end[0] + 1):
            if start <= line <= end and line not in doc_lines:
                code.add(line)
    return len(code)


def resolve(module: str, is_package: bool, level: int, name: str | None) -> str:
    if level == 0:
        return name or ""
    base = module.split(".")
    if not is_package:
        base = base[:-1]
    base = base[: len(base) - (level - 1)]
    return ".".join(base + ([name] if name else []))


def scan(root: Path):
    modules: dict[str, tuple[Path, str, ast.Module]] = {}
    for path in sorted(root.rglob("*.py")):
        source = path.read_text()
        modules[module_name(path, root)] = (path, source, ast.parse(source))
    return modules


def imports_of(modules):
    """Return {module: set of nnmath modules it imports} and {module: third-party tops}."""
    graph: dict[str, set[str]] = defaultdict(set)
    third: dict[str, set[str]] = defaultdict(set)
    for name, (path, _, tree) in modules.items():
        is_package = path.name == "__init__.py"
        for node in ast.walk(tree):
            targets = []
            if isinstance(node, ast.Import):
                targets = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = resolve(name, is_package, node.level, node.module)
                submodules = [f"{base}.{a.name}" for a in node.names]
                targets = [m for m in submodules if m in modules]
                if len(targets) < len(submodules):
                    targets.append(base)  # names defined in base itself
            own = {".".join(name.split(".")[:i]) for i in range(1, name.count(".") + 1)}
            for target in targets:
                top = target.split(".")[0]
                if top == "nnmath":
                    # importing a.b.c runs a/__init__ and a/b/__init__ first; the
                    # packages around the importing module are already running, so
                    # they count only when a name is taken from them
                    parts = target.split(".")
                    for i in range(1, len(parts) + 1):
                        prefix = ".".join(parts[:i])
                        if prefix in modules and prefix != name:
                            if prefix in own and prefix != target:
                                continue
                            graph[name].add(prefix)
                elif top and top not in sys.stdlib_module_names and top != "__future__":
                    third[name].add(top)
    return graph, third


def cycles(graph) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan)."""
    index, low, stack, on, out = {}, {}, [], set(), []
    counter = [0]

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in sorted(graph.get(v, ())):
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

    sys.setrecursionlimit(10_000)
    for v in sorted(set(graph) | {w for ws in graph.values() for w in ws}):
        if v not in index:
            visit(v)
    return out


def reach(graph, start: set[str]) -> set[str]:
    seen, todo = set(start), list(start)
    while todo:
        for w in graph.get(todo.pop(), ()):
            if w not in seen:
                seen.add(w)
                todo.append(w)
    return seen


def matmul_sites(modules):
    sites = defaultdict(int)
    for name, (_, _, tree) in modules.items():
        for node in ast.walk(tree):
            if isinstance(node, ast.BinOp) and isinstance(node.op, ast.MatMult):
                sites[name] += 1
            elif isinstance(node, ast.Call):
                f = node.func
                attr = f.attr if isinstance(f, ast.Attribute) else getattr(f, "id", "")
                if attr in ("dot", "matmul", "einsum"):
                    sites[name] += 1
    return dict(sites)


def kind_branches(modules, module: str) -> int:
    _, source, tree = modules[module]
    count = 0
    for node in ast.walk(tree):
        if isinstance(node, (ast.If, ast.IfExp)):
            text = ast.get_source_segment(source, node.test) or ""
            if any(k in text for k in KIND_TESTS):
                count += 1
    return count


def defines_fit(tree) -> bool:
    return any(
        isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef)) and n.name in ("fit", "_fit")
        for n in ast.walk(tree)
    )


def private_names(modules):
    found = []
    for name, (_, _, tree) in modules.items():
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                top = node.module.split(".")[0]
                if top == "nnmath" or node.module in ALLOWED_PRIVATE:
                    continue
                for a in node.names:
                    if a.name.startswith("_") or any(
                        p.startswith("_") for p in node.module.split(".")[1:]
                    ):
                        found.append(f"{name}: from {node.module} import {a.name}")
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--src", default="src/nnmath", help="the package folder")
    root = Path(parser.parse_args().src).resolve()
    modules = scan(root)
    graph, third = imports_of(modules)

    total = sum(code_lines(s, t) for _, s, t in modules.values())
    print(f"lines of code in {len(modules)} modules: {total}")
    for name, (_, source, tree) in modules.items():
        for node in ast.walk(tree):
            if isinstance(node, ast.ClassDef) and node.name == "Network":
                print(f"class Network ({name}): {code_lines(source, tree, node)} lines of code")

    sites = matmul_sites(modules)
    print("matrix products:", ", ".join(f"{m} {n}" for m, n in sorted(sites.items())) or "none")

    found = cycles(graph)
    print(f"import cycles: {len(found)}")
    for comp in found:
        print("   ", " ↔ ".join(comp))

    core = {m for m in modules if m == CORE or m.startswith(CORE + ".")}
    if core:
        reached = reach(graph, core)
        outside = sorted(m for m in reached if m not in core)
        packages = sorted({p for m in reached for p in third.get(m, ())})
        print(f"the core reaches nnmath modules outside it: {outside or 'none'}")
        print(f"the core reaches third-party packages: {', '.join(packages)}")
    else:
        print(f"no {CORE} package")

    dask = sorted(
        m for m, (_, s, _) in modules.items() if "dask" in third.get(m, set()) or "is_dask" in s
    )
    print(f"modules recognising Dask collections ({len(dask)}): {', '.join(dask)}")
    fits = {m: kind_branches(modules, m) for m, (_, _, t) in modules.items() if defines_fit(t)}
    print(
        f"branches on the kind of array in modules defining fit ({sum(fits.values())}): "
        + ", ".join(f"{m} {n}" for m, n in sorted(fits.items()))
    )
    for word in ("leaky_relu", "huber"):
        named = sorted(m for m, (_, s, _) in modules.items() if word in s)
        print(f"modules naming {word!r} ({len(named)}): {', '.join(named)}")
    private = private_names(modules)
    print(f"another library's private names ({len(private)}):")
    for line in private:
        print("   ", line)


if __name__ == "__main__":
    main()
