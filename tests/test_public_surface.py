"""Every module says what it offers: ``__all__`` names exist, and what a module defines for others is listed.

STYLE.md habit 12. A name another module imports from here must be in ``__all__`` (or start with ``_``
and then nobody outside may import it): the test reads every ``from service.x import y`` in service/.
"""

from __future__ import annotations

import ast
import importlib
import importlib.util
import pkgutil
from pathlib import Path

import pytest

import service

ROOT = Path(service.__file__).parent


def _modules() -> list[str]:
    names = ["service"]
    for info in pkgutil.walk_packages([str(ROOT)], prefix="service."):
        if ".migrations" not in info.name:
            names.append(info.name)
    return sorted(names)


MODULES = _modules()


@pytest.mark.parametrize("name", MODULES)
def test_module_lists_its_public_names(name: str) -> None:
    module = importlib.import_module(name)
    listed = getattr(module, "__all__", None)
    assert isinstance(listed, list), f"{name} has no __all__"
    missing = [n for n in listed if not hasattr(module, n)]
    assert missing == [], f"{name}.__all__ names what it does not define: {missing}"


def test_names_imported_across_modules_are_public() -> None:
    """``from service.a import b`` in another module: ``b`` is in ``service.a.__all__`` or is a submodule."""
    unlisted: list[str] = []
    for path in ROOT.rglob("*.py"):
        if "migrations" in path.parts:
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if not isinstance(node, ast.ImportFrom) or not node.module or not node.module.startswith("service"):
                continue
            module = importlib.import_module(node.module)
            listed = set(getattr(module, "__all__", []))
            for alias in node.names:
                submodule = hasattr(module, "__path__") and importlib.util.find_spec(f"{node.module}.{alias.name}")
                if alias.name in listed or submodule:
                    continue
                unlisted.append(f"{path.relative_to(ROOT.parent)}: {node.module}.{alias.name}")
    assert unlisted == []
