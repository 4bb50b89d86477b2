"""Functional core, imperative shell: the core modules do no I/O and import no shell libraries."""

from __future__ import annotations

import ast
import pathlib
import subprocess
import sys

import pytest

import mcroi

CORE = ["schema", "distributions", "sampling", "model", "engine", "summarize", "correlation", "sensitivity"]
FORBIDDEN_IMPORTS = {"click", "xarray", "pathlib", "rich", "matplotlib", "h5netcdf", "openpyxl"}
FORBIDDEN_CALLS = {"open", "print", "input"}


def _core_files():
    root = pathlib.Path(mcroi.__file__).parent
    return [root / f"{name}.py" for name in CORE if (root / f"{name}.py").exists()]


@pytest.mark.parametrize("path", _core_files(), ids=lambda p: p.stem)
def test_core_module_is_pure(path):
    tree = ast.parse(path.read_text())
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                assert alias.name.split(".")[0] not in FORBIDDEN_IMPORTS, f"{path.name} imports {alias.name}"
        elif isinstance(node, ast.ImportFrom) and node.module:
            assert node.module.split(".")[0] not in FORBIDDEN_IMPORTS, f"{path.name} imports from {node.module}"
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
            assert node.func.id not in FORBIDDEN_CALLS, f"{path.name} calls {node.func.id}() at line {node.lineno}"


def test_importing_mcroi_changes_no_jax_config():
    code = (
        "import jax; before = jax.config.jax_enable_x64; import mcroi, mcroi.engine, mcroi.cli; "
        "import sys; sys.exit(0 if jax.config.jax_enable_x64 == before else 1)"
    )
    assert subprocess.run([sys.executable, "-c", code], timeout=300).returncode == 0


def test_public_api_is_curated():
    assert set(mcroi.__all__) >= {"simulate", "open_run", "load", "PriorSet", "PriorsError", "CONTRACT_VERSION"}
    for name in mcroi.__all__:
        assert hasattr(mcroi, name)
