"""The package's layers import only in the allowed directions (no cycles between layers):

    domain       -> nothing of ours
    projections  -> domain
    ports        -> domain                 settings -> domain
    process      -> domain, projections, ports
    adapters     -> ports, domain
    bootstrap    -> adapters, process, projections, ports, domain, settings
    usecases     -> bootstrap, process, projections, ports, domain, settings
    api, facade  -> bootstrap, usecases, process, ports, domain, settings (api also facade)
    aio          -> api, facade, bootstrap, usecases, process, ports, domain, settings
    entrypoints  -> the facade (proofqueue, api), settings, domain, testing, offline
    offline      -> domain, adapters          (checks a receipt with no store)
    testing      -> ports, domain

``proofqueue.chaos`` (crash points for fault runs) imports nothing of ours and may be used
anywhere. Imports under ``if TYPE_CHECKING:`` count too.

The MCP SDK (the ``proofqueue[mcp]`` extra) is imported by ``proofqueue.entrypoints.mcp``
only, and there never at the top of ``mount`` (which the HTTP app imports): the core and
``serve`` load without it.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[2] / "proofqueue"

ALLOWED: dict[str, set[str]] = {
    "domain": set(),
    "projections": {"domain"},
    "ports": {"domain"},
    "settings": {"domain"},
    "process": {"domain", "projections", "ports"},
    "adapters": {"ports", "domain"},
    "bootstrap": {"adapters", "process", "projections", "ports", "domain", "settings"},
    "usecases": {"bootstrap", "process", "projections", "ports", "domain", "settings"},
    "api": {"bootstrap", "usecases", "process", "ports", "domain", "settings", "facade"},
    "facade": {"bootstrap", "usecases", "process", "ports", "domain", "settings"},
    "aio": {"api", "facade", "bootstrap", "usecases", "process", "ports", "domain", "settings"},
    "root": {"api", "aio", "usecases", "ports", "domain", "settings"},
    "entrypoints": {"root", "api", "settings", "domain", "testing", "offline"},
    "offline": {"domain", "adapters"},
    "testing": {"ports", "domain"},
    "main": {"entrypoints"},
    "chaos": set(),
}
LEAVES = {"chaos"}


def layer_of(module: str) -> str:
    """``proofqueue.process.manager`` -> ``process``; ``proofqueue`` -> ``root``."""
    parts = module.split(".")
    if parts == ["proofqueue"]:
        return "root"
    if parts[1] == "__main__":
        return "main"
    return parts[1]


def imports_of(source: str, module: str) -> set[str]:
    """The proofqueue modules that ``source`` (the text of ``module``) imports."""
    found: set[str] = set()
    package = module if module.endswith("__init__") else module.rsplit(".", 1)[0]
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names if a.name.split(".")[0] == "proofqueue")
        elif isinstance(node, ast.ImportFrom):
            name = node.module or ""
            if node.level:
                base = package.removesuffix(".__init__").split(".")
                base = base[: len(base) - node.level + 1]
                name = ".".join([*base, name] if name else base)
            if name.split(".")[0] == "proofqueue":
                found.add(name)
    return found


def violations(module: str, source: str) -> list[str]:
    """Each import of ``module`` that its layer may not make."""
    own = layer_of(module)
    allowed = ALLOWED[own] | {own} | LEAVES
    return [
        f"{module} imports {target} ({own} -> {layer_of(target)})"
        for target in sorted(imports_of(source, module))
        if layer_of(target) not in allowed
    ]


def modules() -> list[tuple[str, Path]]:
    found = []
    for path in sorted(PACKAGE.rglob("*.py")):
        relative = path.relative_to(PACKAGE.parent).with_suffix("")
        name = ".".join(relative.parts).removesuffix(".__init__")
        found.append((name, path))
    return found


@pytest.mark.parametrize(("module", "path"), modules(), ids=[m for m, _ in modules()])
def test_each_module_imports_only_in_the_allowed_directions(module: str, path: Path) -> None:
    """No module reaches a layer its own may not depend on."""
    assert violations(module, path.read_text()) == []


def test_every_layer_of_the_package_is_known() -> None:
    """A new top-level module or package must be placed in the table above."""
    assert {layer_of(module) for module, _ in modules()} <= set(ALLOWED)


SDK = {"mcp", "mcp_types"}
MCP_PACKAGE = "proofqueue.entrypoints.mcp"
# Modules of that package imported by the HTTP app: no SDK import at their top level.
SDK_FREE = {"proofqueue.entrypoints.mcp", "proofqueue.entrypoints.mcp.mount"}


def sdk_imports(source: str, top_level_only: bool = False) -> set[str]:
    """The MCP SDK modules ``source`` imports (anywhere, or at its top level only)."""
    tree = ast.parse(source)
    nodes = tree.body if top_level_only else list(ast.walk(tree))
    names: list[str] = []
    for node in nodes:
        if isinstance(node, ast.Import):
            names.extend(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and not node.level and node.module:
            names.append(node.module)
    return {name for name in names if name.split(".")[0] in SDK}


@pytest.mark.parametrize(("module", "path"), modules(), ids=[m for m, _ in modules()])
def test_only_the_mcp_entry_point_imports_the_mcp_sdk(module: str, path: Path) -> None:
    """The SDK is an optional extra: imported in ``entrypoints.mcp`` only, and not at the
    top of the modules the HTTP app imports."""
    source = path.read_text()
    if module in SDK_FREE:
        assert sdk_imports(source, top_level_only=True) == set()
    elif not (module == MCP_PACKAGE or module.startswith(MCP_PACKAGE + ".")):
        assert sdk_imports(source) == set()


def test_the_sdk_import_check_can_fail() -> None:
    """An SDK import is found, at the top level and inside a function."""
    assert sdk_imports("from mcp.server import MCPServer") == {"mcp.server"}
    assert sdk_imports("def f():\n    import mcp_types\n") == {"mcp_types"}
    assert sdk_imports("def f():\n    import mcp_types\n", top_level_only=True) == set()


@pytest.mark.parametrize(
    ("module", "source"),
    [
        ("proofqueue.domain.intent", "from proofqueue.adapters.store import opening"),
        ("proofqueue.domain.intent", "import proofqueue.projections.views"),
        ("proofqueue.projections.views", "from proofqueue.adapters import store"),
        ("proofqueue.process.manager", "from proofqueue.adapters.vendor_http import HttpVendor"),
        ("proofqueue.adapters.store", "from proofqueue.process.guard import BreakerGuard"),
        ("proofqueue.entrypoints.cli", "from proofqueue.adapters.sealing import new_key"),
        ("proofqueue.domain.intent", "from ..adapters.store import opening"),
        (
            "proofqueue.domain.intent",
            "from typing import TYPE_CHECKING\n"
            "if TYPE_CHECKING:\n    from proofqueue.usecases import audit",
        ),
    ],
)
def test_a_forbidden_import_is_caught(module: str, source: str) -> None:
    """The check itself fails on an import against the directions (so it can fail)."""
    assert violations(module, source)
