"""Lazy package attributes (PEP 562): a package's public names are imported on first use.

``import mcroi`` or ``import mcroi.report`` then costs milliseconds, not the second that JAX,
xarray and SciPy take, so that a process needing one small module (the chart helper of
:class:`mcroi.report.Painter`) loads only that module's own imports. (``mcroi --help`` still
loads JAX: ``mcroi.cli._main`` imports the analysis layer at the top.)

A package lists its public names once, as ordinary ``from mcroi.x._y import f as f`` lines under
``if TYPE_CHECKING:`` (what type checkers and readers see), and ends with
``__getattr__, __dir__ = attach(__name__, __file__)``; :func:`attach` reads those lines from the
package's source, so the two can never disagree.
"""

from __future__ import annotations

import ast
import importlib
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any


def names_of(source: str) -> dict[str, tuple[str, str]]:
    """``{public name: (module, attribute)}`` of the ``from m import a as b`` lines inside the
    ``if TYPE_CHECKING:`` block of a module's source."""
    out: dict[str, tuple[str, str]] = {}
    for node in ast.parse(source).body:
        if isinstance(node, ast.If) and isinstance(node.test, ast.Name) and node.test.id == "TYPE_CHECKING":
            for stmt in node.body:
                if isinstance(stmt, ast.ImportFrom) and stmt.module:
                    out.update({a.asname or a.name: (stmt.module, a.name) for a in stmt.names})
    return out


def attach(package: str, file: str) -> tuple[Callable[[str], Any], Callable[[], list[str]]]:
    """The ``__getattr__`` and ``__dir__`` of ``package`` (whose ``__init__`` is ``file``):
    a public name imports its module on first use and is then an ordinary attribute."""
    table = names_of(Path(file).read_text(encoding="utf-8"))

    def __getattr__(name: str) -> Any:
        if name not in table:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        module, attr = table[name]
        value = getattr(importlib.import_module(module), attr)
        setattr(sys.modules[package], name, value)
        return value

    def __dir__() -> list[str]:
        return sorted({*vars(sys.modules[package]), *table})

    return __getattr__, __dir__
