"""The Python API: ``simulate`` a scenario into a Dataset, optionally writing a run folder."""

from __future__ import annotations

import datetime as _dt
import platform
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import xarray as xr

from mcroi import engine, guards, priors as _priors, store, summarize
from mcroi.model import SCALAR_OUTPUTS
from mcroi.priors import PriorSet
from mcroi.schema import CONTRACT_VERSION


def load_priors(source: str | Path | PriorSet | None) -> PriorSet:
    """A PriorSet from a PriorSet, a path, a library name, or None (the default scenario)."""
    if isinstance(source, PriorSet):
        return source
    if source is None:
        return _priors.load(_priors.default_path())
    return _priors.load(_priors.resolve_path(source))


def versions() -> dict[str, str]:
    import h5netcdf
    import jax
    import jaxlib
    import scipy

    from mcroi import __version__

    return {
        "mcroi": __version__,
        "python": platform.python_version(),
        "jax": jax.__version__,
        "jaxlib": jaxlib.__version__,
        "numpy": np.__version__,
        "scipy": scipy.__version__,
        "xarray": xr.__version__,
        "h5netcdf": h5netcdf.__version__,
    }


def backend_info() -> dict[str, Any]:
    import jax

    return {"backend": jax.default_backend(), "devices": [str(d) for d in jax.devices()]}


def default_run_dir(prior_set: PriorSet, root: Path = Path("runs")) -> Path:
    stamp = _dt.datetime.now(_dt.UTC).strftime("%Y%m%dT%H%M%SZ")
    safe = "".join(c if c.isalnum() or c in "-_." else "-" for c in prior_set.name)[:80] or "run"
    return root / f"{safe}-{stamp}"


def simulate(
    priors: str | Path | PriorSet | None = None,
    *,
    draws: int = 100_000,
    seed: int = 0,
    chunk_size: int = engine.DEFAULT_CHUNK,
    precision: str = "float64",
    out: str | Path | None = None,
    force: bool = False,
    plots: bool = True,
    progress: engine.ProgressFn | None = None,
    command: str | None = None,
    on_written: Callable[[Path], None] | None = None,
    max_nonfinite: float = guards.DEFAULT_MAX_FRACTION,
) -> xr.Dataset:
    """Run the Monte Carlo and return the run Dataset.

    Parameters
    ----------
    priors
        A priors file, a library name (``"default"``), a :class:`PriorSet`, or None for the
        default scenario.
    draws, seed, chunk_size, precision
        Number of draws; the seed (draw ``i`` of input ``x`` depends only on seed, ``x`` and
        ``i``); draws evaluated per compiled step; ``"float64"`` or ``"float32"``.
    out
        When given, also write a run folder there (refused if it exists, unless ``force``).
    max_nonfinite
        Share of draws that may carry a NaN/inf beyond the contract's documented cases before
        the run is refused (:class:`mcroi.guards.NumericGuardError`); counts always go to the
        summary and manifest (``numeric``). A run that would not fit in memory is refused before
        sampling (:class:`mcroi.guards.MemoryGuardError`).

    Returns
    -------
    xarray.Dataset
        Per-draw outputs on ``draw``, ``annual_*`` on (draw, year), ``inputs`` on (draw, input);
        ``attrs["summary"]`` and ``attrs["manifest"]`` hold JSON text.
    """
    t0 = time.perf_counter()
    ps = load_priors(priors)
    if out is not None:
        store.prepare(Path(out), force)
    memory = guards.check_memory(draws, len(ps.names), ps.horizon_months, precision, chunk_size)
    t_priors = time.perf_counter() - t0
    arrays = engine.run(ps, draws, seed=seed, chunk_size=chunk_size, precision=precision, progress=progress)
    numeric = guards.check_numeric(arrays.names, arrays.inputs, arrays.outputs, max_fraction=max_nonfinite)
    guards.enforce_numeric(numeric, ps.files[-1] if ps.files else ps.name)
    t1 = time.perf_counter()
    summary = summarize.summarize(arrays.outputs, list(SCALAR_OUTPUTS), ps.horizon_months)
    summary = {"scenario": ps.name, **summary, "numeric": numeric.to_json()}
    t_summary = time.perf_counter() - t1
    manifest: dict[str, Any] = {
        "command": command or f"mcroi.simulate(draws={draws}, seed={seed}, precision={precision!r})",
        "seed": seed,
        "draws": draws,
        "precision": precision,
        "chunk_size": chunk_size,
        "contract_version": CONTRACT_VERSION,
        "versions": versions(),
        **backend_info(),
        "scenario": ps.name,
        "priors_files": list(ps.files),
        "priors_sha256": ps.sha256(),
        "priors": ps.resolved(),
        "utc": _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds"),
        "numeric": numeric.to_json(),
        "memory_estimate": memory,
    }
    attrs = {
        "seed": seed,
        "draws": draws,
        "precision": precision,
        "contract_version": CONTRACT_VERSION,
        "priors_sha256": manifest["priors_sha256"],
        "mcroi_version": manifest["versions"]["mcroi"],
    }
    ds = store.to_dataset(ps, arrays, attrs)
    timings = {"priors_s": t_priors, **arrays.timings, "summary_s": t_summary}
    if out is not None:
        def extra(tmp: Path) -> None:
            if plots:
                from mcroi.report import plots as _plots

                _plots.distribution(arrays.outputs["npv_usd"], arrays.outputs["roi_multiple"], tmp / "plots" / "distribution.png", ps.name)

        manifest["timings_s"] = timings
        store.write_run(Path(out), ds, manifest, summary, force=force, extra=extra)
        if on_written is not None:
            on_written(Path(out))
    manifest["timings_s"] = {**timings, "total_s": time.perf_counter() - t0}
    ds.attrs["summary"] = store.dumps(summary)
    ds.attrs["manifest"] = store.dumps(manifest)
    return ds


def command_line() -> str:
    import shlex

    return "mcroi " + " ".join(shlex.quote(a) for a in sys.argv[1:])
