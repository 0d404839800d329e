"""The shape docs/architecture.md promises, read from the code's own imports (function-level ones
included): no import circle in booking/, services never import tasks, no module over 450 lines
and no class over 250."""

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
APP = ROOT / "booking"


def modules():
    for path in sorted(APP.rglob("*.py")):
        if "migrations" in path.parts:
            continue
        name = ".".join(path.relative_to(ROOT).with_suffix("").parts).removesuffix(".__init__")
        yield name, path


def imported(path, known):
    """The booking modules a file imports, anywhere in it (a lazy import inside a function counts)."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            candidates = [node.module] + [f"{node.module}.{alias.name}" for alias in node.names]
        elif isinstance(node, ast.Import):
            candidates = [alias.name for alias in node.names]
        else:
            continue
        found |= {name for name in candidates if name in known}
    return found


def graph():
    known = dict(modules())
    return {name: imported(path, known) - {name} for name, path in known.items()}


def cycles(edges):
    """Every strongly connected group of more than one module (Tarjan)."""
    index, low, stack, on_stack, groups, counter = {}, {}, [], set(), [], [0]

    def visit(node):
        index[node] = low[node] = counter[0]
        counter[0] += 1
        stack.append(node)
        on_stack.add(node)
        for nxt in edges.get(node, ()):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            group = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                group.append(member)
                if member == node:
                    break
            if len(group) > 1:
                groups.append(sorted(group))

    for node in edges:
        if node not in index:
            visit(node)
    return groups


def test_the_booking_app_has_no_import_circle_lazy_or_not():
    edges = graph()
    assert "booking.background" in edges  # the graph was read at all
    # A package's __init__ importing its own modules for registration is not a circle of logic.
    edges["booking.admin"] = set()
    edges["booking.models"] = set()
    assert cycles(edges) == []


def test_no_service_imports_a_task_and_models_import_no_other_room():
    edges = graph()
    services = [name for name in edges if name.endswith(("services", "outbox")) or name == "booking.privacy"]
    assert services
    for name in services:
        assert not {target for target in edges[name] if target.endswith(".tasks")}, name
    # The models' states and kinds live beside them in a module that imports nothing of booking; the
    # models' own modules import only each other and it.
    models = {name for name in edges if name == "booking.models" or name.startswith("booking.models.")}
    assert len(models) > 1
    for name in models:
        assert edges[name] <= models | {"booking.choices"}, name
    assert edges["booking.choices"] == set()
    assert edges["booking.background"] == set()


def test_no_module_is_over_450_lines_and_no_class_over_250():
    long_modules, long_classes = [], []
    for name, path in modules():
        text = path.read_text()
        if len(text.splitlines()) > 450:
            long_modules.append(name)
        for node in ast.walk(ast.parse(text)):
            if isinstance(node, ast.ClassDef) and node.end_lineno - node.lineno + 1 > 250:
                long_classes.append(f"{name}.{node.name}")
    assert (long_modules, long_classes) == ([], [])
