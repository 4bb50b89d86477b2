"""Run folders: the xarray Dataset, the manifest, the summary, written atomically.

A run is written into a hidden temporary folder next to its destination and renamed into
place at the end, so ``runs/`` holds either a complete run or nothing of it.
"""

from __future__ import annotations

import csv
import errno
import hashlib
import io
import json
import math
import os
import platform
import re
import shutil
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import numpy as np
import xarray as xr

from mcroi.engine import ANNUAL_OUTPUTS, OUTPUTS, SCALAR_OUTPUTS, RunArrays, thread_map
from mcroi.priors import PriorSet, input_unit
from mcroi.runs._format import csv_number

RUN_FILES = ("results.nc", "manifest.json", "summary.json", "summary.csv")


class RunExistsError(Exception):
    """The destination run folder exists and ``force`` was not given."""


class RunWriteError(Exception):
    """The run could not be written (no space on the disk, say); nothing was left behind. One line."""


#: Room kept free beyond the dataset's bytes: netCDF metadata, the summary, manifest and plots.
WRITE_MARGIN_BYTES = 32 * 2**20
_DISK_FULL = (errno.ENOSPC, errno.EDQUOT, errno.EFBIG)


def check_space(ds: xr.Dataset | int, out: Path) -> None:
    """Refuse when the disk holding ``out`` cannot take the run: ``ds`` or the bytes it will hold
    (results.nc is uncompressed). Called before the draws (from the memory estimate) and before writing."""
    need = (ds if isinstance(ds, int) else int(ds.nbytes)) + WRITE_MARGIN_BYTES
    out = Path(out)
    try:
        where = next((p for p in (out.parent, *out.parent.parents) if p.exists()), Path.cwd())
        free = shutil.disk_usage(where).free
    except OSError:
        return
    if need > free:
        raise RunWriteError(
            f"{out}: the run needs about {need / 2**20:,.0f} MB and the disk has {free / 2**20:,.0f} MB free; "
            "free some space, choose another --out, or use --keep summary (results.nc then keeps 10,000 draws)"
        )


def to_dataset(priors: PriorSet, arrays: RunArrays, attrs: Mapping[str, Any] | None = None) -> xr.Dataset:
    """Build the run Dataset: per-draw outputs on ``draw``, annual items on (draw, year), inputs."""
    n = arrays.inputs.shape[0]
    years = np.arange(1, -(-priors.horizon_months // 12) + 1)
    data_vars: dict[str, Any] = {}
    for k in (*SCALAR_OUTPUTS, *ANNUAL_OUTPUTS):
        spec = OUTPUTS[k]
        data_vars[k] = xr.Variable(spec.dims, arrays.outputs[k], {"units": spec.unit, "long_name": spec.long_name})
    data_vars["inputs"] = xr.Variable(
        ("draw", "input"), arrays.inputs, {"units": "see input_units", "long_name": "sampled value of each input"}
    )
    coords = {
        "draw": ("draw", np.arange(n), {"long_name": "draw index (absolute, as sampled)"}),
        "year": ("year", years, {"units": "year", "long_name": "year of operation (months 12y-11 .. 12y)"}),
        "input": ("input", np.array(arrays.names, dtype=object), {"long_name": "contract input name"}),
        "input_units": (
            "input",
            np.array([input_unit(k) for k in arrays.names], dtype=object),
            {"long_name": "unit of each input"},
        ),
    }
    ds = xr.Dataset(data_vars, coords=coords)
    ds.attrs.update(
        {
            "scenario": priors.name,
            "description": priors.description,
            "horizon_months": priors.horizon_months,
        }
    )
    if attrs:
        ds.attrs.update({k: v for k, v in attrs.items() if isinstance(v, str | int | float)})
    return ds


#: What ``results.nc`` stores per draw when a run keeps every draw (``keep="draws"``): the
#: headline outputs, readable by any netCDF tool. Every other per-draw variable (the inputs, the
#: other outputs, the yearly line items) is recomputed bit for bit from the seed whenever the run
#: is read (:func:`mcroi.runs.read_run`), and checked against the sha256 recorded here.
STORED_OUTPUTS = (
    "npv_usd",
    "irr_annual",
    "mirr_annual",
    "payback_months",
    "roi_multiple",
    "equity_irr_annual",
    "min_dscr",
    "revenue_to_rent_ratio",
)

STORAGE_NOTE = (
    "results.nc stores the outputs named in 'stored' for every draw; every other per-draw variable is "
    "recomputed from the seed and the resolved priors when the run is read, and must match the sha256 recorded "
    "here bit for bit (same backend and precision; elsewhere mcroi says so). --keep all stores every variable."
)


def draw_digest(values: np.ndarray) -> str:
    """sha256 of a per-draw array: its dtype, shape and bytes (C order)."""
    a = np.ascontiguousarray(values)
    h = hashlib.sha256(f"{a.dtype.str}{a.shape}".encode())
    h.update(a.data if a.size else b"")
    return h.hexdigest()


def draw_digests(ds: xr.Dataset, names: list[str]) -> dict[str, str]:
    """``{name: draw_digest}`` of the variables ``names``, on every core (hashlib releases the GIL),
    the largest first."""
    order = sorted(names, key=lambda k: -ds[k].size)
    digests = dict(zip(order, thread_map(lambda k: draw_digest(ds[k].values), order), strict=True))
    return {k: digests[k] for k in names}


def per_draw_variables(ds: xr.Dataset) -> list[str]:
    """The data variables of ``ds`` that have one value (or row) per draw."""
    return [str(k) for k, v in ds.data_vars.items() if "draw" in v.dims]


def compact(ds: xr.Dataset, made_on: Mapping[str, Any]) -> tuple[xr.Dataset, dict[str, Any]]:
    """The Dataset ``results.nc`` stores for a run that keeps every draw, and the manifest's
    ``storage`` block: :data:`STORED_OUTPUTS` on ``draw`` (no draw coordinate: it is 0..n-1)
    and the sha256 of every per-draw variable, stored or recomputed."""
    per_draw = per_draw_variables(ds)
    stored = [k for k in STORED_OUTPUTS if k in ds]
    digests = draw_digests(ds, per_draw)
    small = ds.drop_vars([k for k in per_draw if k not in stored]).drop_vars("draw")
    small.attrs["storage"] = "recompute"
    block = {
        "mode": "recompute",
        "stored": stored,
        "sha256": digests,
        "made_on": dict(made_on),
        "meaning": STORAGE_NOTE,
    }
    return small, block


def made_on(manifest: Mapping[str, Any]) -> dict[str, Any]:
    """Where a run's recomputed draws are bit-identical: its backend, jax and jaxlib, and machine."""
    v = manifest.get("versions") or {}
    return {
        "backend": manifest.get("backend"),
        "jax": v.get("jax"),
        "jaxlib": v.get("jaxlib"),
        "machine": platform.machine(),
    }


def stored_bytes(draws: int, itemsize: int, keep: str, full_bytes: int) -> int:
    """Bytes ``results.nc`` will hold: the headline outputs when the run keeps every draw by
    recomputation, the whole Dataset (``full_bytes``) with ``--keep all`` or a streamed subsample."""
    if keep == "draws":
        return draws * itemsize * len(STORED_OUTPUTS)
    return full_bytes


def _jsonable(x: Any) -> Any:
    if isinstance(x, float):
        return x if math.isfinite(x) else None
    if isinstance(x, dict):
        return {k: _jsonable(v) for k, v in x.items()}
    if isinstance(x, list | tuple):
        return [_jsonable(v) for v in x]
    if isinstance(x, np.generic):
        return _jsonable(x.item())
    return x


def dumps(obj: Any) -> str:
    """Strict JSON (non-finite numbers become null)."""
    return json.dumps(_jsonable(obj), indent=2, allow_nan=False, default=str) + "\n"


def summary_csv(summary: Mapping[str, Any]) -> str:
    buf = io.StringIO()
    stats = list(next(iter(summary["outputs"].values())).keys())
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(["output", "unit", *stats])
    for name, row in summary["outputs"].items():
        w.writerow([name, OUTPUTS[name].unit if name in OUTPUTS else "", *(csv_number(row[s]) for s in stats)])
    return buf.getvalue()


_LEFTOVER = re.compile(r"^\.(?P<name>.+)\.(?P<kind>partial|replaced)-(?P<pid>\d+)$")


def _alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def clean_leftovers(parent: Path) -> list[Path]:
    """Remove what killed runs left in ``parent``; return what was removed or restored.

    A killed run leaves ``.NAME.partial-PID`` (its unfinished temporary folder) and, if it was
    replacing a run with ``--force`` at the very moment it died, ``.NAME.replaced-PID`` (the
    complete previous run). Leftovers of processes still alive are left alone; a previous run
    whose replacement never landed is renamed back to ``NAME``.
    """
    done: list[Path] = []
    if not parent.is_dir():
        return done
    for p in sorted(parent.iterdir()):
        m = _LEFTOVER.match(p.name)
        if m is None or _alive(int(m["pid"])):
            continue
        target = parent / m["name"]
        if m["kind"] == "replaced" and not target.exists():
            os.replace(p, target)
        elif p.is_dir() and not p.is_symlink():
            shutil.rmtree(p, ignore_errors=True)
        else:  # a killed report's or export's half-written file
            p.unlink(missing_ok=True)
        done.append(p)
    return done


#: What mcroi itself writes into a run folder (``simulate``, ``compare``, ``report``, ``export``,
#: ``sensitivity``); ``--force`` replaces a folder only when it holds nothing else.
_RUN_ENTRY = re.compile(
    r"^(results\.nc|manifest\.json|summary\.json|summary\.csv|report\.html|plots|sensitivity(-[A-Za-z0-9_]+)?"
    r"|export(-[A-Za-z0-9_]+)?\.(csv|json|xlsx)|sensitivity\.nc|\..*\.(partial|tmp)-\d+)$"
)


def is_run_folder(path: Path) -> bool:
    """Whether ``path`` is a folder mcroi wrote: a real directory whose ``manifest.json`` is mcroi's."""
    path = Path(path)
    if path.is_symlink() or not path.is_dir():
        return False
    try:
        man = json.loads((path / "manifest.json").read_text())
    except (OSError, ValueError):
        return False
    return (
        isinstance(man, dict)
        and "contract_version" in man
        and isinstance(man.get("versions"), dict)
        and "mcroi" in man["versions"]
    )


def _refuse_replace(out: Path) -> None:
    """Raise unless ``out`` is a run folder mcroi wrote that holds nothing but mcroi's files."""
    try:
        here = Path.cwd().resolve()
        target = out.resolve()
    except OSError:
        here, target = Path("/"), out
    if target == here or target in here.parents:
        raise RunExistsError(f"{out}: --force would replace the current folder or one above it; choose a new --out")
    if not is_run_folder(out):
        what = "a file" if out.is_file() or out.is_symlink() else "a folder without an mcroi manifest.json"
        raise RunExistsError(
            f"{out}: is {what}, not an mcroi run folder; --force replaces only run folders, choose another --out"
        )
    foreign = sorted(p.name for p in out.iterdir() if not _RUN_ENTRY.match(p.name))
    if foreign:
        raise RunExistsError(
            f"{out}: run folder also holds {foreign[0]!r}"
            + (f" and {len(foreign) - 1} other file(s)" if len(foreign) > 1 else "")
            + " that mcroi did not write; move it out or choose another --out"
        )


#: Where a run folder may never go: the kernel's and the devices' virtual filesystems.
SPECIAL_ROOTS = (Path("/proc"), Path("/sys"), Path("/dev"))
NAME_MAX = 255


def check_destination(out: Path) -> None:
    """Refuse a destination no run can be written to, before any work is done (one line each).

    A path on a special filesystem, under a file, inside another run folder, or with a name
    longer than the filesystem allows.
    """
    try:
        resolved = out.resolve()
    except (OSError, RuntimeError) as e:
        raise RunExistsError(f"{out}: --out cannot be resolved ({e}); choose another --out") from None
    for root in SPECIAL_ROOTS:
        if resolved == root or root in resolved.parents:
            raise RunExistsError(f"{out}: --out is on the special filesystem {root}; choose a folder on a disk")
    for part in out.parts:
        if len(part.encode()) > NAME_MAX:
            raise RunExistsError(f"{out}: --out has a name of {len(part.encode())} bytes; at most {NAME_MAX}")
    for parent in resolved.parents:
        if parent.exists() and not parent.is_dir():
            raise RunExistsError(f"{out}: --out is under {parent}, which is a file; choose a folder")
        if is_run_folder(parent):
            raise RunExistsError(f"{out}: --out is inside the run folder {parent}; choose a folder outside it")


def prepare(out: Path, force: bool) -> None:
    """Clean leftovers of killed runs, then refuse an existing destination before any work is done.

    With ``force`` an existing destination is replaced only when it is a run folder mcroi wrote
    (recognised by its manifest) holding only mcroi's files: never a plain folder, a file, the
    current folder or one above it.
    """
    check_destination(Path(out))
    clean_leftovers(Path(out).parent)
    if not (out.exists() or out.is_symlink()):
        return
    if not force:
        raise RunExistsError(f"{out}: run folder exists; choose another --out or pass --force to replace it")
    _refuse_replace(out)


def write_run(
    out: Path,
    ds: xr.Dataset,
    manifest: Mapping[str, Any],
    summary: Mapping[str, Any],
    *,
    force: bool = False,
    extra: Callable[[Path], None] | None = None,
    csv_text: str | None = None,
) -> Path:
    """Write a complete run folder atomically and return its path.

    ``extra(tmpdir)`` may add files (plots) before the folder is renamed into place.
    ``csv_text`` is the text of ``summary.csv`` (default: the table of ``summary["outputs"]``).
    """
    out = Path(out)
    prepare(out, force)
    out.parent.mkdir(parents=True, exist_ok=True)
    check_space(ds, out)
    tmp = out.parent / f".{out.name}.partial-{os.getpid()}"
    if tmp.exists():
        shutil.rmtree(tmp)
    tmp.mkdir()
    try:
        ds.to_netcdf(tmp / "results.nc", engine="h5netcdf")
        (tmp / "manifest.json").write_text(dumps(manifest))
        (tmp / "summary.json").write_text(dumps(summary))
        (tmp / "summary.csv").write_text(summary_csv(summary) if csv_text is None else csv_text)
        if extra is not None:
            extra(tmp)
        # last: the manifest records the sha256 of every other file, so verify can prove them
        (tmp / "manifest.json").write_text(dumps({**manifest, "files": file_hashes(tmp)}))
        _fsync_tree(tmp)
        _land(tmp, out, force)
        _fsync_dir(out.parent)
    except OSError as e:
        shutil.rmtree(tmp, ignore_errors=True)
        if e.errno in _DISK_FULL:
            raise RunWriteError(
                f"{out}: the disk filled up while writing the run ({os.strerror(e.errno)}); nothing was written"
            ) from None
        raise
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return out


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def file_hashes(folder: Path) -> dict[str, str]:
    """``{relative path: sha256}`` of every file in ``folder`` but ``manifest.json`` (which holds them)."""
    return {
        p.relative_to(folder).as_posix(): sha256_file(p)
        for p in sorted(folder.rglob("*"))
        if p.is_file() and p.name != "manifest.json" and not p.name.startswith(".")
    }


def record_file(run: Path, path: Path) -> None:
    """After mcroi rewrote ``path`` inside the run folder ``run`` (its report): record its new sha256."""
    man_path = run / "manifest.json"
    man = json.loads(man_path.read_text())
    if not isinstance(man.get("files"), dict):
        return  # a run written before files were recorded: nothing to keep in step
    man["files"][path.relative_to(run).as_posix()] = sha256_file(path)
    tmp = man_path.with_name(f".manifest.json.partial-{os.getpid()}")
    try:
        tmp.write_text(dumps(man))
        tmp.replace(man_path)
    finally:
        tmp.unlink(missing_ok=True)


def _land(tmp: Path, out: Path, force: bool) -> None:
    """Rename the finished folder into place; never silently over another writer's run.

    Without ``force`` the rename is the check: renaming onto a folder that another process
    finished meanwhile fails (it is not empty), atomically, and this run is refused. With
    ``force`` the folder is checked again (it must still be an mcroi run folder) and swapped.
    """
    if force and (out.exists() or out.is_symlink()):
        _refuse_replace(out)
        old = out.parent / f".{out.name}.replaced-{os.getpid()}"
        os.replace(out, old)
        os.replace(tmp, out)
        shutil.rmtree(old, ignore_errors=True)
        return
    try:
        os.rename(tmp, out)
    except OSError as e:
        if e.errno in (errno.ENOTEMPTY, errno.EEXIST, errno.ENOTDIR, errno.EISDIR):
            raise RunExistsError(
                f"{out}: another run was written there while this one ran; this run was not written "
                "(choose another --out, or --force to replace it)"
            ) from None
        raise


def _fsync_tree(root: Path) -> None:
    for p in root.rglob("*"):
        if p.is_file():
            with open(p, "rb") as fh:
                os.fsync(fh.fileno())
        elif p.is_dir():
            _fsync_dir(p)
    _fsync_dir(root)


def _fsync_dir(path: Path) -> None:
    """Make a directory's entries (a rename) durable; a no-op where directories cannot be opened."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
