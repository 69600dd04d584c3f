"""The house plan, checked (docs/architecture.md): package arrows point downward.

Every import in ``bot/`` and ``actions/`` (module level, in functions, under
``TYPE_CHECKING``: every ``import`` statement ``ast`` finds) is an edge from the
importing module's part to the imported module's part. The check fails on

- a module in no part of the plan (a new package must be given a layer);
- an upward edge: a part importing a part of a higher layer;
- an edge between two edges of the service (actions, NLU, channels, web: each
  stands on the layers below, never on another);
- a service importing another service's module that is not in ``PUBLIC``;
- a cycle between parts;
- Rasa (``rasa``, ``rasa_sdk``, ``sanic``) imported outside the parts that are
  Rasa's glue (so ``bot/wechat/`` and every service run and test without it).

The checker itself is tested below on tiny fake trees that break each rule.
"""

from __future__ import annotations

import ast
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from bot.settings import PROJECT_ROOT


@dataclass(frozen=True)
class Plan:
    # Lowest layer first: (name, the parts in it). A part is a package (it holds
    # its submodules) or a module; a name in ``roots`` stands for its
    # ``__init__.py`` alone.
    layers: tuple[tuple[str, tuple[str, ...]], ...]
    # Layers whose parts may not import one another.
    separate: frozenset[str] = frozenset()
    # The services layer: a service imports another only through these modules
    # (and the other's package ``__init__``).
    services: str = "services"
    public: Mapping[str, frozenset[str]] = field(default_factory=dict)
    # Parts that may import Rasa.
    rasa: frozenset[str] = frozenset()
    roots: frozenset[str] = frozenset()
    packages: tuple[str, ...] = ("bot", "actions")


RASA = ("rasa", "rasa_sdk", "sanic")

PLAN = Plan(
    layers=(
        ("base", ("bot", "bot.settings")),
        ("libraries", ("bot.text", "bot.net")),
        ("storage", ("bot.storage",)),
        (
            "services",
            (
                "bot.accounts",
                "bot.fraud",
                "bot.handoff",
                "bot.knowledge",
                "bot.menu",
                "bot.orders",
                "bot.rumors",
                "bot.voice",
                "bot.wechat",
            ),
        ),
        ("across services", ("bot.understanding", "bot.insights", "bot.outreach")),
        ("edges", ("actions", "bot.nlu", "bot.channels", "bot.web")),
        # Alembic runs the migrations as scripts: a data migration may use a
        # service's code (0015 writes the claims' search documents).
        ("run", ("bot.run", "bot.storage.migrations")),
    ),
    separate=frozenset({"edges"}),
    public={
        "bot.accounts": frozenset(
            {
                "bot.accounts.access",
                "bot.accounts.audit",
                "bot.accounts.errors",
                "bot.accounts.users",
            }
        ),
        "bot.handoff": frozenset({"bot.handoff.hotlines"}),
        "bot.knowledge": frozenset(
            {"bot.knowledge.schema", "bot.knowledge.service", "bot.knowledge.store"}
        ),
        "bot.menu": frozenset({"bot.menu.pages"}),
    },
    rasa=frozenset({"actions", "bot.nlu", "bot.channels", "bot.run"}),
    roots=frozenset({"bot"}),
)


def module_name(path: Path, root: Path) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def modules(root: Path, packages: Iterable[str]) -> dict[str, Path]:
    """Every module of ``packages`` under ``root``, by dotted name."""
    found: dict[str, Path] = {}
    for package in packages:
        for path in sorted((root / package).rglob("*.py")):
            found[module_name(path, root)] = path
    return found


def imports(name: str, path: Path, known: Mapping[str, Path]) -> set[str]:
    """What ``name`` imports: dotted names of modules (ours resolved to the module
    itself when ``from package import module``), others by their full name."""
    is_package = path.name == "__init__.py"
    package = name if is_package else name.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - (node.level - 1)]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            for alias in node.names:
                sub = f"{target}.{alias.name}"
                found.add(sub if sub in known else target)
    return found


def part_of(module: str, plan: Plan) -> str | None:
    best = None
    for _, parts in plan.layers:
        for part in parts:
            inside = module.startswith(part + ".") and part not in plan.roots
            if (module == part or inside) and (best is None or len(part) > len(best)):
                best = part
    return best


def cycles(edges: Mapping[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one part (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in sorted(edges.get(node, ())):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                top = stack.pop()
                on_stack.discard(top)
                component.append(top)
                if top == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(edges):
        if node not in index:
            visit(node)
    return found


def violations(root: Path, plan: Plan) -> list[str]:
    """Every breach of ``plan`` by the modules under ``root``, one line each."""
    layer_of = {part: i for i, (_, parts) in enumerate(plan.layers) for part in parts}
    layer_name = {part: name for name, parts in plan.layers for part in parts}
    known = modules(root, plan.packages)
    found: list[str] = []
    graph: dict[str, set[str]] = {}
    for name, path in known.items():
        source = part_of(name, plan)
        if source is None:
            found.append(f"{name}: in no part of the plan")
            continue
        for target in sorted(imports(name, path, known)):
            top = target.split(".")[0]
            if top in RASA:
                if source not in plan.rasa:
                    found.append(f"{name} -> {target}: Rasa outside its glue")
                continue
            if top not in plan.packages:
                continue
            dest = part_of(target, plan)
            if dest is None:
                found.append(f"{name} -> {target}: imports a module in no part of the plan")
                continue
            if dest == source:
                continue
            graph.setdefault(source, set()).add(dest)
            where = f"{name} -> {target}"
            if layer_of[dest] > layer_of[source]:
                found.append(f"{where}: upward ({layer_name[source]} -> {layer_name[dest]})")
            elif layer_of[dest] == layer_of[source]:
                layer = layer_name[source]
                if layer in plan.separate:
                    found.append(f"{where}: {layer} import one another")
                elif layer == plan.services:
                    public = plan.public.get(dest, frozenset())
                    if target != dest and not any(
                        target == p or target.startswith(p + ".") for p in public
                    ):
                        found.append(f"{where}: not a public module of {dest}")
    for component in cycles(graph):
        found.append("cycle: " + " <-> ".join(component))
    return found


def test_our_imports_follow_the_plan() -> None:
    assert violations(PROJECT_ROOT, PLAN) == []


def test_the_wechat_library_imports_no_rasa() -> None:
    # Also covered by PLAN.rasa; said on its own because it is the library's promise.
    known = modules(PROJECT_ROOT, ["bot"])
    for name, path in known.items():
        if name.startswith("bot.wechat"):
            assert not {t for t in imports(name, path, known) if t.split(".")[0] in RASA}, name


def test_the_plan_names_only_parts_that_exist() -> None:
    known = modules(PROJECT_ROOT, PLAN.packages)
    for _, parts in PLAN.layers:
        for part in parts:
            assert part in known or any(m.startswith(part + ".") for m in known), part
    for part, public in PLAN.public.items():
        assert part in dict(PLAN.layers)[PLAN.services], part
        assert public <= known.keys(), public - known.keys()


# --- the checker on fake trees ---------------------------------------------

FAKE = Plan(
    layers=(
        ("low", ("app", "app.text")),
        ("services", ("app.one", "app.two")),
        ("edges", ("app.web", "app.chat")),
    ),
    separate=frozenset({"edges"}),
    public={"app.two": frozenset({"app.two.api"})},
    rasa=frozenset({"app.chat"}),
    roots=frozenset({"app"}),
    packages=("app",),
)


def fake_tree(root: Path, files: Mapping[str, str]) -> Path:
    base = {
        "app/__init__.py": "",
        "app/text/__init__.py": "",
        "app/text/words.py": "",
        "app/one/__init__.py": "",
        "app/one/core.py": "",
        "app/two/__init__.py": "",
        "app/two/api.py": "",
        "app/two/inner.py": "",
        "app/web/__init__.py": "",
        "app/web/views.py": "",
        "app/chat/__init__.py": "",
        "app/chat/glue.py": "",
    }
    for rel, text in {**base, **files}.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text, encoding="utf-8")
    return root


def test_a_tree_that_keeps_the_plan_passes(tmp_path: Path) -> None:
    root = fake_tree(
        tmp_path,
        {
            "app/one/core.py": "from app.two.api import x\nfrom app.text import words\n",
            "app/web/views.py": "from app.two.inner import y\nfrom app.one import core\n",
            "app/chat/glue.py": "import rasa.core\nfrom .. import text\n",
        },
    )
    assert violations(root, FAKE) == []


def test_an_upward_import_fails_even_inside_a_function(tmp_path: Path) -> None:
    root = fake_tree(tmp_path, {"app/text/words.py": "def f():\n    from app.one import core\n"})
    assert violations(root, FAKE) == ["app.text.words -> app.one.core: upward (low -> services)"]


def test_a_relative_upward_import_is_resolved(tmp_path: Path) -> None:
    root = fake_tree(tmp_path, {"app/text/words.py": "from ..web import views\n"})
    assert violations(root, FAKE) == ["app.text.words -> app.web.views: upward (low -> edges)"]


def test_a_service_may_not_reach_into_another(tmp_path: Path) -> None:
    root = fake_tree(tmp_path, {"app/one/core.py": "from app.two.inner import y\n"})
    assert violations(root, FAKE) == [
        "app.one.core -> app.two.inner: not a public module of app.two"
    ]


def test_two_services_that_need_each_other_are_a_cycle(tmp_path: Path) -> None:
    root = fake_tree(
        tmp_path,
        {"app/one/core.py": "from app.two import api\n", "app/two/api.py": "import app.one\n"},
    )
    assert violations(root, FAKE) == ["cycle: app.one <-> app.two"]


def test_edges_do_not_import_one_another(tmp_path: Path) -> None:
    root = fake_tree(tmp_path, {"app/web/views.py": "from app.chat.glue import z\n"})
    assert violations(root, FAKE) == ["app.web.views -> app.chat.glue: edges import one another"]


def test_rasa_only_in_its_glue(tmp_path: Path) -> None:
    root = fake_tree(tmp_path, {"app/two/api.py": "from sanic import response\n"})
    assert violations(root, FAKE) == ["app.two.api -> sanic: Rasa outside its glue"]


def test_a_module_outside_the_plan_fails(tmp_path: Path) -> None:
    root = fake_tree(tmp_path, {"app/loose.py": ""})
    assert violations(root, FAKE) == ["app.loose: in no part of the plan"]
