"""The Python API: ``simulate`` a scenario into a Dataset, optionally writing a run folder."""

from __future__ import annotations

import datetime as _dt
import platform
import sys
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import xarray as xr

from mcroi import analysis, engine, priors, report, runs
from mcroi.engine import SCALAR_OUTPUTS
from mcroi.pipeline._sensitivity import (
    DEFAULT_SOURCE,
    Computed,
    default_sensitivity,
    default_swing,
    sensitivity_dataset,
    write_sensitivity,
)
from mcroi.pipeline._sensitivity import plot as plot_sensitivity
from mcroi.priors import CONTRACT_VERSION, PriorSet

#: From this many draws on, a run folder's charts are drawn in a helper process while the run's
#: own statistics and report are computed (:class:`mcroi.report.Painter`); below it, the helper's
#: start (about a second of imports) costs more than the overlap saves.
PLOT_HELPER_DRAWS = 250_000

#: What a run keeps: every draw (the headline outputs stored, the rest recomputed when read),
#: every draw stored (``all``), or a streamed summary with a 10,000-draw subsample.
KEEP = ("draws", "all", "summary")


def load_priors(source: str | Path | PriorSet | None) -> PriorSet:
    """A PriorSet from a PriorSet, a path, a library name, or None (the default scenario)."""
    if isinstance(source, PriorSet):
        return source
    if source is None:
        return priors.load(priors.default_path())
    return priors.load(priors.resolve_path(source))


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
    on_phase: Callable[[str], None] | None = None,
    command: str | None = None,
    on_written: Callable[[Path], None] | None = None,
    keep: str = "draws",
    until_mcse: float | None = None,
    max_draws: int | None = None,
    devices: int | None = None,
    distributed: bool = False,
    max_nonfinite: float = engine.DEFAULT_MAX_FRACTION,
    covenant: float = analysis.DEFAULT_COVENANT,
    plot_helper: bool | None = None,
) -> xr.Dataset | None:
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
    keep
        ``"draws"`` keeps every draw: ``results.nc`` stores the headline outputs
        (:data:`mcroi.runs.STORED_OUTPUTS`) and the sha256 of every other per-draw variable,
        which :func:`mcroi.runs.read_run` recomputes bit for bit from the seed (about 64 bytes a
        draw instead of about 900). ``"all"`` stores every variable of every draw (readable on
        any backend without recomputation). ``"summary"`` streams them into exact moments and
        probabilities and a quantile sketch (docs/scaling.md) and keeps the inputs and outputs of
        the first :data:`mcroi.engine.SUBSAMPLE` draws only (``results.nc`` then holds those).
    until_mcse, max_draws
        Stop at the first chunk where the MCSEs of NPV's mean, P5, P50, P95 (relative to NPV's
        standard deviation) and of P(NPV < 0) are below ``until_mcse`` (e.g. 0.005), drawing at
        most ``max_draws`` (default ``draws``). The achieved errors go into the manifest.
    on_phase
        Called with the name of each phase after the draws (writing results.nc, plotting, the
        tornados, the report, saving), so a long write shows progress.
    devices
        Local devices the draws are sharded over (None: all).
    distributed
        ``jax.distributed`` is initialized: each process evaluates its own disjoint range of draw
        indices, process 0 merges the streamed summaries and writes the run (implies
        ``keep="summary"``); other processes return None.
    max_nonfinite
        Share of draws that may carry a NaN/inf beyond the contract's documented cases before
        the run is refused (:class:`mcroi.guards.NumericGuardError`); counts always go to the
        summary and manifest (``numeric``). A run that would not fit in memory is refused before
        sampling (:class:`mcroi.guards.MemoryGuardError`).
    covenant
        The minimum DSCR of the loan: ``summary["capital"]`` counts P(min DSCR < covenant); the
        manifest records it (docs/capital-structure.md).

    Returns
    -------
    xarray.Dataset
        Per-draw outputs on ``draw``, ``annual_*`` on (draw, year), ``inputs`` on (draw, input);
        ``attrs["summary"]`` and ``attrs["manifest"]`` hold JSON text.
    """
    t0 = time.perf_counter()
    ps = load_priors(priors)
    covenant = analysis.check_covenant(covenant)
    if keep not in KEEP:
        raise ValueError(f"keep must be one of {', '.join(KEEP)}, got {keep!r}")
    if out is not None:
        runs.prepare(Path(out), force)
    engine_keep = "summary" if keep == "summary" else "draws"
    plan = _plan(ps, draws, chunk_size, precision, engine_keep, until_mcse, max_draws, distributed)
    if out is not None:  # a disk that cannot take results.nc is refused before the draws
        itemsize = np.dtype(precision).itemsize
        runs.check_space(runs.stored_bytes(plan.cap, itemsize, keep, int(plan.memory["stored_bytes"])), Path(out))
    t_priors = time.perf_counter() - t0
    # The swing of the folder's tornados needs the priors only. Tracing it is Python work for one
    # core: it starts once the first chunk has run and goes on while this thread waits for the
    # draws (then guards, summarizes and hashes them), instead of after them.
    background = ThreadPoolExecutor(1, thread_name_prefix="mcroi-swing")
    ahead: list[Future[Any]] = []
    painter: report.Painter | None = None

    def progress_and_swing(done: int, total: int, last: Any) -> None:
        if not ahead:
            ahead.append(background.submit(_swing_ahead, ps, plots))
        if progress is not None:
            progress(done, total, last)

    try:
        if out is not None:  # the helper loads its modules while the first chunk compiles or loads
            helper = plan.cap >= PLOT_HELPER_DRAWS if plot_helper is None else plot_helper
            painter = report.Painter(helper and plots and plan.nproc == 1)
        arrays = engine.run(
            ps,
            max(plan.cap, 1),
            seed=seed,
            chunk_size=chunk_size,
            precision=precision,
            progress=progress_and_swing if out is not None and plan.nproc == 1 else progress,
            keep=plan.keep,
            until_mcse=until_mcse,
            start=plan.start,
            devices=devices,
        )
        swing = ahead[0] if ahead else None
        # a streamed run was guarded chunk by chunk over every draw; a kept run is guarded here
        numeric = arrays.numeric or engine.check_numeric(
            arrays.names, arrays.inputs, arrays.outputs, max_fraction=max_nonfinite
        )
        numeric.max_fraction = max_nonfinite
        engine.enforce_numeric(numeric, ps.files[-1] if ps.files else ps.name)
        if plan.nproc > 1 and not _merge_streams(arrays):
            return None
        phase = on_phase or (lambda name: None)
        charts = None
        if out is not None:  # first, so that the painter draws while the summary is computed
            assert painter is not None
            phase("ranking the inputs (tornados)")
            charts = _charts(ps, arrays, plots, painter, None if swing is None else swing.result())
        t1 = time.perf_counter()
        summary = _summary(ps, arrays, plan.keep, numeric)
        summary["capital"] = analysis.capital_summary(arrays.outputs, covenant, _capital_basis(arrays, plan.keep))
        t_summary = time.perf_counter() - t1
        settings = {"seed": seed, "precision": precision, "chunk_size": chunk_size, "until_mcse": until_mcse}
        manifest = _manifest(ps, arrays, plan, settings, numeric, command)
        manifest["covenant"] = covenant
        if plan.nproc == 1:
            manifest["keep"] = keep
        ds = runs.to_dataset(ps, arrays, _dataset_attrs(manifest))
        file_ds = ds
        if manifest["keep"] == "draws":  # every draw, the recomputable ones recomputed when read
            file_ds, manifest["storage"] = runs.compact(ds, runs.made_on(manifest))
        else:
            manifest["storage"] = {"mode": "stored" if manifest["keep"] == "all" else "subsample"}
        timings = {"priors_s": t_priors, **arrays.timings, "summary_s": t_summary}
        if out is not None:
            manifest["timings_s"] = timings
            phase("writing results.nc")
            assert painter is not None and charts is not None
            extras = _run_extras(ps, ds, Path(out), plots, phase, painter, charts)
            runs.write_run(Path(out), file_ds, manifest, summary, force=force, extra=extras)
            if on_written is not None:
                on_written(Path(out))
        manifest["timings_s"] = {**timings, "total_s": time.perf_counter() - t0}
        ds.attrs["summary"] = runs.dumps(summary)
        ds.attrs["manifest"] = runs.dumps(manifest)
        return ds
    finally:
        if painter is not None:
            painter.abandon()  # a no-op once the run folder is written
        background.shutdown(wait=True, cancel_futures=True)


@dataclass(frozen=True)
class _Plan:
    """What this process draws: ``cap`` draws from index ``start``, kept as ``keep``."""

    cap: int
    start: int
    keep: str
    nproc: int
    memory: dict[str, Any]


def _plan(
    ps: PriorSet,
    draws: int,
    chunk_size: int,
    precision: str,
    keep: str,
    until_mcse: float | None,
    max_draws: int | None,
    distributed: bool,
) -> _Plan:
    """Size the run and refuse it before sampling when it would not fit in memory."""
    cap = (max_draws or draws) if until_mcse is not None else draws
    # streaming keeps O(chunk + subsample) in memory, not O(draws)
    stored = min(cap, engine.SUBSAMPLE) if keep == "summary" or distributed else cap
    memory = engine.check_memory(stored, len(ps.names), ps.horizon_months, precision, chunk_size, total=cap)
    if not distributed:
        return _Plan(cap, 0, keep, 1, memory)
    import jax

    if until_mcse is not None:
        raise ValueError("until_mcse is not supported with distributed runs; give a fixed number of draws")
    pid, nproc = jax.process_index(), jax.process_count()
    start, stop = engine.process_range(cap, pid, nproc, align=-(-chunk_size // engine.TILE) * engine.TILE)
    return _Plan(stop - start, start, "summary", nproc, memory)


def _merge_streams(arrays: engine.RunArrays) -> bool:
    """Gather every process's streamed summaries on process 0; False on the other processes."""
    assert arrays.stream is not None
    parts = engine.gather_to_zero(arrays.stream.to_array().tobytes(), "stream")
    if parts is None:
        return False
    merged = engine.RunStream(arrays.stream.names, arrays.stream.horizon_months)
    for b in parts:
        merged.merge(engine.RunStream.from_array(merged.names, merged.horizon_months, np.frombuffer(b, dtype=float)))
    arrays.stream = merged
    arrays.draws = merged.draws
    return True


def _summary(ps: PriorSet, arrays: engine.RunArrays, keep: str, numeric: engine.NumericReport) -> dict[str, Any]:
    if arrays.stream is not None and keep == "summary":
        summary = analysis.summarize_stream(arrays.stream)
    else:
        summary = analysis.summarize(arrays.outputs, list(SCALAR_OUTPUTS), ps.horizon_months)
    summary = analysis.finish_summary(summary, arrays.names, arrays.inputs)
    return {"scenario": ps.name, **summary, "numeric": numeric.to_json()}


def _capital_basis(arrays: engine.RunArrays, keep: str) -> str:
    """Which draws the capital block counts: a streamed run keeps only its first draws."""
    if keep == "summary":
        return f"the first {int(arrays.inputs.shape[0]):,} draws, the kept subsample of a streamed run"
    return "all draws"


def _manifest(
    ps: PriorSet,
    arrays: engine.RunArrays,
    plan: _Plan,
    settings: dict[str, Any],
    numeric: engine.NumericReport,
    command: str | None,
) -> dict[str, Any]:
    """What the run records: settings, versions, devices, the resolved priors and their hash."""
    draws, seed, precision = arrays.draws, settings["seed"], settings["precision"]
    manifest: dict[str, Any] = {
        "command": command or f"mcroi.simulate(draws={draws}, seed={seed}, precision={precision!r})",
        "seed": seed,
        "draws": draws,
        "precision": precision,
        "chunk_size": settings["chunk_size"],
        "keep": plan.keep,
        "devices_used": arrays.devices,
        "processes": plan.nproc,
        "contract_version": CONTRACT_VERSION,
        "versions": versions(),
        **backend_info(),
        "scenario": ps.name,
        "priors_files": list(ps.files),
        "priors_sha256": ps.sha256(),
        "priors": ps.resolved(),
        "utc": _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds"),
        "numeric": numeric.to_json(),
        "memory_estimate": plan.memory,
    }
    if plan.keep == "summary":
        assert arrays.stream is not None
        manifest["streaming"] = {
            **engine.summary_dict(arrays.stream),
            "subsample_draws": int(arrays.inputs.shape[0]),
            "subsample": "results.nc holds the inputs and outputs of draws 0 .. subsample_draws - 1 only",
        }
    if settings["until_mcse"] is not None:
        manifest["convergence"] = {
            "until_mcse": settings["until_mcse"],
            "max_draws": plan.cap,
            "converged": bool(arrays.converged),
            "draws": draws,
            "achieved_mcse": arrays.errors,
            "meaning": "MCSE of NPV mean, P5, P50, P95 relative to NPV sd; absolute MCSE of P(NPV < 0)",
        }
    return manifest


def _dataset_attrs(manifest: dict[str, Any]) -> dict[str, Any]:
    keys = ("seed", "draws", "keep", "precision", "contract_version", "priors_sha256")
    return {**{k: manifest[k] for k in keys}, "mcroi_version": manifest["versions"]["mcroi"]}


def _swing_ahead(ps: PriorSet, plots: bool) -> Any:
    """The default swing (:func:`mcroi.pipeline.default_swing`), with matplotlib loaded for the plots."""
    if plots:
        report.pyplot()
    return default_swing(ps)


@dataclass(frozen=True)
class _Charts:
    """The default tornados' numbers (None when no input varies); the folder's charts are with
    the painter, each a job of :func:`mcroi.report.render` (its files)."""

    sensitivity: Computed | None


def _charts(ps: PriorSet, arrays: engine.RunArrays, plots: bool, painter: report.Painter, swing: Any) -> _Charts:
    """Compute the default tornados (conditional from the draws; ``swing`` when already computed)
    and hand every chart of the folder to ``painter``: with a helper process, they are drawn
    while this thread summarizes the draws and writes the report (the distribution plot and,
    when the swing is ready, its charts first, while the conditional means are computed)."""

    def draw(fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> None:
        painter.submit(report.render, fn, *args, **kwargs)

    drawn: list[str] = []
    if plots:  # keep="summary": the subsample
        npv, roi = arrays.outputs["npv_usd"], arrays.outputs["roi_multiple"]
        draw(report.distribution_plot, npv, roi, PLOTS / "distribution.png", ps.name)
        early = None if swing is None else default_sensitivity(ps, arrays, swing, ["swing"])
        if early is not None:  # the same charts as the swing of both methods (tested)
            plot_sensitivity(early, sensitivity_dataset(early, ps.name, DEFAULT_SOURCE), PLOTS, ps.name, draw)
            drawn = list(early.results)
    c = default_sensitivity(ps, arrays, swing)
    if plots and c is not None:
        ds = sensitivity_dataset(c, ps.name, DEFAULT_SOURCE)
        plot_sensitivity(c, ds, PLOTS, ps.name, draw, [m for m in c.results if m not in drawn])
    return _Charts(c)


#: Where a run folder's charts go (relative: :func:`mcroi.report.render` draws them before the folder exists).
PLOTS = Path("plots")


def _run_extras(
    ps: PriorSet,
    ds: xr.Dataset,
    out: Path,
    plots: bool,
    phase: Callable[[str], None],
    painter: report.Painter,
    charts: _Charts,
) -> Callable[[Path], None]:
    """What a run folder holds besides the data: ``sensitivity.nc``, the charts (:func:`_charts`),
    the report, which waits for the charts only to embed the tornados."""

    def extra(tmp: Path) -> None:
        landed: list[bool] = []

        def figures_ready() -> None:
            if not landed:  # the painter holds only the charts: wait() gives their files, in order
                for files in painter.wait():  # (a chart lost with a dead helper drawn here)
                    report.land(files, tmp)
                landed.append(True)

        try:
            if charts.sensitivity is not None:
                write_sensitivity(charts.sensitivity, tmp, ps.name, DEFAULT_SOURCE, plots=False)
            if plots:
                phase("writing the report")
                report.write_html(tmp, tmp / "report.html", name=out.name, dataset=ds, figures_ready=figures_ready)
            figures_ready()
            painter.close()  # every chart on disk before the manifest records its sha256
        except BaseException:
            painter.abandon()  # nothing may write into the folder once it is removed
            raise
        phase("saving the run folder")

    return extra


def command_line() -> str:
    import shlex

    return "mcroi " + " ".join(shlex.quote(a) for a in sys.argv[1:])
