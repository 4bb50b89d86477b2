"""The layout is the pipeline: layers import only downwards, the core does no I/O, one jit site.

priors -> engine -> analysis -> runs -> report -> pipeline -> cli. A package may import the
packages below it and never one above it; the core packages (priors' math, the engine, analysis)
import no shell library and call no ``open``/``print``; only the engine calls ``jax.jit``.
"""

from __future__ import annotations

import ast
import importlib
import pathlib
import subprocess
import sys

import pytest

import mcroi

ROOT = pathlib.Path(mcroi.__file__).parent
LAYERS = ["priors", "engine", "analysis", "runs", "report", "pipeline", "cli"]
#: Core modules: pure functions of arrays (the parser, library and fitting read files by design).
CORE = [
    "priors/_schema.py",
    "priors/_families.py",
    "priors/_dist.py",
    "priors/_text.py",
    "priors/_priorset.py",
    "priors/_correlation.py",
    *(str(p.relative_to(ROOT)) for p in sorted((ROOT / "engine").glob("_*.py")) if p.name != "_devices.py"),
    *(str(p.relative_to(ROOT)) for p in sorted((ROOT / "analysis").glob("_*.py"))),
]
FORBIDDEN_IMPORTS = {"click", "xarray", "pathlib", "rich", "matplotlib", "h5netcdf", "openpyxl"}
FORBIDDEN_CALLS = {"open", "print", "input"}


def _modules() -> list[pathlib.Path]:
    return sorted(p for p in ROOT.rglob("*.py"))


def _layer(path: pathlib.Path) -> str | None:
    rel = path.relative_to(ROOT).parts
    return rel[0] if len(rel) > 1 and rel[0] in LAYERS else None


def _mcroi_imports(tree: ast.AST) -> list[tuple[str, int]]:
    out = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.split(".")[0] == "mcroi":
            parts = node.module.split(".")
            if len(parts) == 1:  # from mcroi import engine, runs
                out += [(a.name, node.lineno) for a in node.names]
            else:
                out.append((parts[1], node.lineno))
        elif isinstance(node, ast.Import):
            out += [(a.name.split(".")[1], node.lineno) for a in node.names if a.name.startswith("mcroi.")]
    return out


@pytest.mark.parametrize("path", [p for p in _modules() if _layer(p)], ids=lambda p: str(p.relative_to(ROOT)))
def test_no_package_imports_one_above_it(path: pathlib.Path) -> None:
    me = LAYERS.index(_layer(path))  # type: ignore[arg-type]
    for target, line in _mcroi_imports(ast.parse(path.read_text())):
        if target in LAYERS:
            assert LAYERS.index(target) <= me, (
                f"{path.relative_to(ROOT)}:{line} imports mcroi.{target}, a layer above it"
            )


@pytest.mark.parametrize("rel", CORE)
def test_core_module_is_pure(rel: str) -> None:
    path = ROOT / rel
    tree = ast.parse(path.read_text())
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                assert alias.name.split(".")[0] not in FORBIDDEN_IMPORTS, f"{rel} imports {alias.name}"
        elif isinstance(node, ast.ImportFrom) and node.module:
            assert node.module.split(".")[0] not in FORBIDDEN_IMPORTS, f"{rel} imports from {node.module}"
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
            assert node.func.id not in FORBIDDEN_CALLS, f"{rel} calls {node.func.id}() at line {node.lineno}"


def test_only_the_engine_jits() -> None:
    for path in _modules():
        if _layer(path) == "engine":
            continue
        text = path.read_text()
        for needle in ("jax.jit", "@jit", "jit(", "pmap(", "shard_map("):
            assert needle not in text, f"{path.relative_to(ROOT)} uses {needle}: only mcroi.engine compiles"


def test_importing_mcroi_changes_no_jax_config() -> None:
    code = (
        "import jax; before = jax.config.jax_enable_x64; import mcroi, mcroi.engine, mcroi.cli; "
        "import sys; sys.exit(0 if jax.config.jax_enable_x64 == before else 1)"
    )
    assert subprocess.run([sys.executable, "-c", code], timeout=300).returncode == 0


#: Function-level imports of mcroi are allowed in the command line only (so that ``mcroi --help``
#: starts without JAX); anywhere else one would hide an import cycle.
LAZY_OK = {"cli"}
#: The core's functions stay short enough to read (code lines, docstring excluded).
MAX_FUNCTION_LINES = 60
LONG_OK = {"pipeline", "report", "cli"}


def test_no_function_level_import_of_mcroi_outside_the_command_line() -> None:
    for path in _modules():
        if _layer(path) in LAZY_OK:
            continue
        for fn in ast.walk(ast.parse(path.read_text())):
            if not isinstance(fn, ast.FunctionDef | ast.AsyncFunctionDef):
                continue
            for node in ast.walk(fn):
                if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("mcroi"):
                    names = [a.name for a in node.names]
                    # mcroi.__version__ is read lazily: mcroi/__init__ imports the pipeline
                    assert node.module == "mcroi" and names == ["__version__"], (
                        f"{path.relative_to(ROOT)}:{node.lineno} imports {node.module} inside {fn.name}(): "
                        "import at the top (a function-level import hides a cycle)"
                    )


def test_every_module_imports_in_one_fresh_interpreter() -> None:
    names = []
    for p in _modules():
        parts = list(p.relative_to(ROOT.parent).with_suffix("").parts)
        names.append(".".join(parts[:-1] if parts[-1] == "__init__" else parts))
    code = "import importlib, sys\nfor n in sys.argv[1:]:\n    importlib.import_module(n)\n"
    res = subprocess.run([sys.executable, "-c", code, *names], capture_output=True, text=True, timeout=300)
    assert res.returncode == 0, res.stderr[-2000:]


@pytest.mark.parametrize(
    "path", [p for p in _modules() if _layer(p) not in LONG_OK], ids=lambda p: str(p.relative_to(ROOT))
)
def test_core_functions_are_short(path: pathlib.Path) -> None:
    for fn in ast.walk(ast.parse(path.read_text())):
        if not isinstance(fn, ast.FunctionDef | ast.AsyncFunctionDef):
            continue
        body = fn.body
        start = (
            body[0].end_lineno
            if body and isinstance(body[0], ast.Expr) and isinstance(getattr(body[0], "value", None), ast.Constant)
            else fn.lineno
        )
        lines = (fn.end_lineno or fn.lineno) - (start or fn.lineno)
        assert lines <= MAX_FUNCTION_LINES, f"{path.relative_to(ROOT)}: {fn.name}() has {lines} lines of code"


def test_public_api_is_curated() -> None:
    assert set(mcroi.__all__) >= {"simulate", "open_run", "load", "PriorSet", "PriorsError", "CONTRACT_VERSION"}
    for name in mcroi.__all__:
        assert hasattr(mcroi, name)
    for pkg in LAYERS:
        mod = __import__(f"mcroi.{pkg}", fromlist=["__all__"])
        assert mod.__all__, pkg
        for name in mod.__all__:
            assert hasattr(mod, name), f"mcroi.{pkg}.{name}"


@pytest.mark.parametrize("package", ["mcroi", "mcroi.report", "mcroi.cli"])
def test_a_lazy_package_loads_its_names_on_first_use(package: str) -> None:
    """``mcroi``, ``mcroi.report`` and ``mcroi.cli`` import their public names on first use
    (``mcroi._lazy``): importing one costs no JAX, and every name it lists resolves."""
    code = (
        "import importlib, sys; p = importlib.import_module(sys.argv[1]); "
        "heavy = sorted(m for m in ('jax', 'xarray', 'scipy') if m in sys.modules); "
        "missing = [n for n in p.__all__ if getattr(p, n, None) is None]; "
        "print(heavy, missing, sorted(set(p.__all__) - set(dir(p))))"
    )
    res = subprocess.run([sys.executable, "-c", code, package], capture_output=True, text=True, timeout=300)
    assert res.returncode == 0, res.stderr[-2000:]
    assert res.stdout.split() == ["[]", "[]", "[]"]


def test_a_lazy_package_refuses_an_unknown_name() -> None:
    import mcroi.report

    with pytest.raises(AttributeError, match="no attribute 'nothing_here'"):
        mcroi.report.nothing_here  # noqa: B018
    assert mcroi.report.tornado is importlib.import_module("mcroi.report._tornado").tornado
