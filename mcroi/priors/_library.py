"""The shipped priors library: where it lives, which files are layers, what each file says it is."""

from __future__ import annotations

import tomllib
from importlib import resources
from pathlib import Path

#: Top-level folders of the library that hold layers rather than complete scenarios.
LAYER_DIRS = ("platforms", "workloads", "curves", "markets", "finance", "optimization")


def is_layer(path: Path) -> bool:
    """Whether ``path`` is a layer of the shipped library (validated with ``partial=True``)."""
    try:
        rel = path.resolve().relative_to(library_root().resolve())
    except ValueError:
        return False
    return len(rel.parts) > 1 and rel.parts[0] in LAYER_DIRS


def describe_file(path: Path) -> tuple[str, str]:
    """(kind, one-line description) of a library file, without validating it."""
    try:
        doc = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError, UnicodeDecodeError):
        return "?", "(unreadable)"
    desc = ""
    sc = doc.get("scenario", {})
    if isinstance(sc, dict):
        desc = str(sc.get("description", ""))
    if not desc:
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.startswith("#"):
                desc = line.lstrip("# ").strip()
                break
    return ("layer" if is_layer(path) else "scenario"), desc


def library_root() -> Path:
    """The folder holding the shipped priors library (``priors/`` in a checkout)."""
    packaged = resources.files("mcroi") / "_priors"
    p = Path(str(packaged))
    if p.is_dir():
        return p
    return Path(__file__).resolve().parents[2] / "priors"


def default_path() -> Path:
    """The default scenario, shipped inside the package."""
    return library_root() / "default.toml"


def resolve_path(name_or_path: str | Path) -> Path:
    """A path as given, or a library name such as ``scenarios/hopper-vs-blackwell``."""
    p = Path(name_or_path)
    if p.exists():
        return p
    lib = library_root()
    for cand in (lib / p, lib / f"{p}.toml"):
        if cand.exists():
            return cand
    return p
