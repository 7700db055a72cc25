"""Front ends reach the archive through ``Pipeline`` and ``pipeline.archive``, never its stores.

CONTRIBUTING.md's rule "front ends call the pipeline, never a store", checked on the source: no module of
the CLI, the HTTP layer, jobs or the renderers reads ``pipeline.store`` or ``pipeline.sources`` or imports
``service.archive.store`` / ``service.archive.sources``. What such a module needs from the archive is a typed
method of ``Archive`` (``service/archive/access.py``).
"""

from __future__ import annotations

import ast
from pathlib import Path

import service

ROOT = Path(service.__file__).parent
FRONT_ENDS = [*(ROOT / "cli").rglob("*.py"), *(ROOT / "http").rglob("*.py"), *(ROOT / "jobs").rglob("*.py"),
              *(ROOT / "report").rglob("*.py"),
              *(ROOT / f"{name}.py" for name in ("keyframes", "retention", "reviews", "timeline", "auth"))]
STORES = ("service.archive.store", "service.archive.sources")


def _reaches(node: ast.AST) -> bool:
    """``pipeline.store``, ``services.pipeline.sources``, ``self._pipeline.store`` and the like."""
    if not isinstance(node, ast.Attribute) or node.attr not in ("store", "sources"):
        return False
    owner = node.value
    name = owner.id if isinstance(owner, ast.Name) else owner.attr if isinstance(owner, ast.Attribute) else ""
    return name.lstrip("_") == "pipeline"


def test_front_ends_never_touch_the_archive_stores() -> None:
    found: list[str] = []
    for path in FRONT_ENDS:
        assert path.is_file(), path
        for node in ast.walk(ast.parse(path.read_text())):
            where = f"{path.relative_to(ROOT.parent)}:{getattr(node, 'lineno', '?')}"
            if isinstance(node, ast.Attribute) and _reaches(node):
                found.append(f"{where} reads pipeline.{node.attr}")
            if isinstance(node, ast.ImportFrom) and node.module in STORES:
                found.append(f"{where} imports {node.module}")
            if isinstance(node, ast.ImportFrom) and node.module == "service.archive":
                found += [f"{where} imports service.archive.{a.name}" for a in node.names
                          if f"service.archive.{a.name}" in STORES]
    assert found == []


def test_the_check_sees_a_reach_past_the_pipeline() -> None:
    tree = ast.parse("items = services.pipeline.store.list()\nsources = self._pipeline.sources")
    assert sum(_reaches(n) for n in ast.walk(tree)) == 2
    assert not any(_reaches(n) for n in ast.walk(ast.parse("services.pipeline.archive.items()")))
