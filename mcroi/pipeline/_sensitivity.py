"""The sensitivity shell: compute the methods for one output (and per year), store, plot.

``sensitivity.nc`` layout (xarray at the edge; the math lives in :mod:`mcroi.sensitivity`):

- coords ``input`` (inputs with spread), ``method`` (``swing``, ``conditional``, ``rank_spearman``,
  ``rank_srrc``, ``sobol_s1``, ``sobol_st``: only those computed), ``bound`` (``lower``, ``upper``),
  ``year``.
- ``index(method, input)``: swing ``high - low``; conditional ``top-decile mean - bottom-decile mean``;
  Spearman; SRRC; S1; ST. ``index_ci(method, input, bound)``: its 95 % interval (NaN for swing).
- ``low_end``/``high_end(method, input)``: tornado bar ends in output units (the output with the
  input at its low / high end), ``low_end_ci``/``high_end_ci(method, input, bound)``; ``base(method)``.
- ``non_monotone(input)``: swing flag. ``r2``: rank-regression R^2.
- ``index_by_year(method, input, year)``, ``r2_by_year(year)``: the same per year of
  ``annual_cashflow_usd``.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jax.numpy as jnp
import numpy as np
import xarray as xr

from mcroi import analysis as sa
from mcroi import engine, report, runs
from mcroi.engine import OUTPUTS
from mcroi.priors import PriorSet, from_resolved, input_unit

PER_YEAR = "annual_cashflow_usd"
DEFAULT_SIMULATE_METHODS = ("swing", "conditional")
#: dataset method -> (method, measure), from the method registry
MEASURES = {ds_m: (m.name, meas) for m in sa.METHODS_REGISTRY.values() for ds_m, meas in m.measures.items()}


#: Draws one chart: ``draw(figure_function, *args, **kwargs)``.
Draw = Callable[..., Any]


def _draw_here(fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Any:
    return fn(*args, **kwargs)


@dataclass
class Computed:
    """Results of the methods on the stacked output ``[output, year 1, ..., year Y]`` (columns)."""

    results: dict[str, sa.Result]
    output: str
    units: str
    years: np.ndarray
    names: list[str]
    notes: list[str]
    attrs: dict[str, Any]


def stacked_fn(ps: PriorSet, output: str) -> sa.DrawFn | None:
    """The contract as one array per draw: [output, annual cashflow by year]."""
    if output == "irr_annual":
        return None  # the IRR needs the batch solver; handled by _stack_outputs
    base = sa.contract_fn(ps)
    assert base is not None

    def fn(d: Mapping[str, Any]) -> Any:  # one draw -> (1 + years,); n draws -> (n, 1 + years)
        out = base(d)
        return jnp.concatenate([jnp.expand_dims(getattr(out, output), -1), getattr(out, PER_YEAR)], axis=-1)

    return engine.Batched(fn, key=f"stacked:{output}")


def _stack_outputs(out: Any, output: str) -> np.ndarray:
    return np.column_stack([np.asarray(getattr(out, output)), np.asarray(getattr(out, PER_YEAR))])


def _draws(
    ps: PriorSet, fn: sa.DrawFn | None, output: str, draws: int, seed: int, x: np.ndarray | None, y: np.ndarray | None
) -> tuple[np.ndarray, np.ndarray]:
    """The Monte Carlo draws the draw-based methods use: those given, or ``draws`` new ones."""
    if x is not None and y is not None:
        return x, y
    if fn is None or engine.derived_names(ps):  # v2: a path or a default month comes from the generator
        arrays = engine.run(ps, draws, seed=seed)
        return arrays.inputs, np.column_stack([arrays.outputs[output], arrays.outputs[PER_YEAR]])
    x, y = sa.monte_carlo(fn, ps, draws, key=seed)
    return np.asarray(x), np.asarray(y)


def _varying_derived(ps: PriorSet, x: np.ndarray) -> list[str]:
    """(v2) The derived inputs (price path, default month) that vary among the draws ``x`` (stored order)."""
    stored = engine.stored_names(ps)
    out = []
    for name in engine.derived_names(ps):
        col = x[:, stored.index(name)]
        finite = col[np.isfinite(col)]
        if finite.size and (finite.min() < finite.max() or finite.size < col.size):
            out.append(name)
    return out


def _without_derived(r: sa.Result, derived: list[str]) -> sa.Result:
    """A design method's result with empty (NaN) rows for the derived inputs it cannot vary."""

    def pad(a: np.ndarray) -> np.ndarray:
        a = np.asarray(a)
        fill = False if a.dtype == bool else np.nan  # a flag (swing's non-monotone) is off
        return np.concatenate(
            [a, np.full((len(derived), *a.shape[1:]), fill, dtype=a.dtype if a.dtype == bool else float)]
        )

    note = (
        f"{r.method}: {', '.join(derived)} held (the median price path, no default): a path or a default "
        "month has no percentile to set in a design; rank and conditional rank them from the draws"
    )
    return dataclasses.replace(
        r,
        names=list(r.names) + derived,
        measures={k: pad(v) for k, v in r.measures.items()},
        intervals={k: pad(v) for k, v in r.intervals.items()},
        notes=[*r.notes, note],
    )


def _drop_infinite_means(
    chosen: list[sa.SensitivityMethod], y0: np.ndarray, output: str
) -> tuple[list[sa.SensitivityMethod], list[str]]:
    """Leave out the conditional means when the output is infinite in some draws (payback never).

    A bin mean over draws of which one never pays back is infinite, so every bar would be n/a. Rank
    methods keep those draws (never ranks as the largest value). Raises when nothing is left.
    """
    n_inf = int(np.isinf(y0).sum())
    if not n_inf or not any(m.name == "conditional" for m in chosen):
        return chosen, []
    why = (
        f"conditional: left out: {n_inf:,} of {y0.size:,} draws of {output} are infinite (never), so its bin "
        "means are infinite; rank keeps them as the largest value"
    )
    kept = [m for m in chosen if m.name != "conditional"]
    if not kept:
        raise ValueError(why.removeprefix("conditional: left out: ") + "; use --method rank")
    return kept, [why]


def compute_sensitivity(
    ps: PriorSet,
    methods: Iterable[str],
    output: str = "npv_usd",
    *,
    draws: int = 10_000,
    seed: int = 0,
    sobol_n: int = 4096,
    n_boot: int = 200,
    x: np.ndarray | None = None,
    y: np.ndarray | None = None,
    low: float = 0.1,
    high: float = 0.9,
    on_method: Callable[[str], None] | None = None,
    given: Mapping[str, sa.Result] | None = None,
) -> Computed:
    """Run the requested methods on the contract for ``output`` and each year of annual cash flow.

    ``on_method(name)`` is called as each method starts (progress for a long analysis).
    ``given`` holds estimates already made with these settings (``simulate`` computes the swing
    beside its other work, :func:`default_swing`); they are used as they are.

    ``x`` (n, inputs in ``engine.stored_names(ps)`` order) and ``y`` (n, 1 + years) are Monte Carlo draws to
    reuse (a run folder's); otherwise ``draws`` draws are simulated for conditional and rank.
    """
    methods = list(methods)
    names = sa.varying(ps)
    if not names:
        raise ValueError("every input is a constant: nothing to analyse")
    fn = stacked_fn(ps, output)
    chosen = [m for m in sa.METHODS_REGISTRY.values() if m.name in methods]  # the registry's order
    if fn is None and any(m.needs == "function" for m in chosen):
        raise ValueError("swing and sobol are not available for irr_annual (use conditional or rank)")
    xv = None
    cols: tuple[int, ...] | None = None
    skipped: list[str] = []
    derived: list[str] = []
    if any(m.needs == "draws" for m in chosen):
        x, y = _draws(ps, fn, output, draws, seed, x, y)
        stored = engine.stored_names(ps)
        xv = np.asarray(x)  # read in place: the methods take the columns they need
        derived = _varying_derived(ps, xv)
        cols = tuple(stored.index(k) for k in names + derived)
        chosen, skipped = _drop_infinite_means(chosen, np.asarray(y)[:, 0], output)
    elif x is not None:  # a design method beside given draws: the derived inputs they vary, held here
        derived = _varying_derived(ps, np.asarray(x))
    design = sa.Design(fn, ps, names + derived, xv, y, seed, n_boot, sobol_n, low, high, cols)
    on_design = sa.Design(fn, ps, names, None, y, seed, n_boot, sobol_n, low, high)
    results: dict[str, sa.Result] = {}
    for m in chosen:
        if on_method is not None:
            on_method(m.name)
        made = (given or {}).get(m.name)
        if m.needs == "function" and derived:
            results[m.name] = _without_derived(m.estimate(on_design) if made is None else made, derived)
        else:
            results[m.name] = m.estimate(design) if made is None else made
    names = names + derived
    notes: list[str] = list(skipped)
    for r in results.values():
        notes.extend(r.notes)
    if "rank" in results:
        r2 = np.atleast_1d(results["rank"].info["r2"])
        if np.isfinite(r2[0]) and r2[0] < sa.R2_WARN:
            notes = [n for n in notes if not n.startswith("rank:")]
            notes.append(
                f"rank: R^2 = {r2[0]:.2f} < {sa.R2_WARN} for {output}: interactions or non-monotone effects leave "
                "much of it unexplained; the rank tornado can mislead (prefer sobol)"
            )
        else:
            notes = [n for n in notes if not n.startswith("rank:")]
        low_years = [str(i + 1) for i, v in enumerate(r2[1:]) if np.isfinite(v) and v < sa.R2_WARN]
        if low_years:
            notes.append(f"rank: R^2 < {sa.R2_WARN} in year(s) {', '.join(low_years)} of {PER_YEAR}")
    if "swing" in results:
        flagged = [n for n, f in zip(names, results["swing"].measures["non_monotone"][:, 0], strict=True) if f]
        if flagged:
            notes.append(
                f"swing: non-monotone between P{low * 100:.0f} and P{high * 100:.0f} (bar hides a turning point): {', '.join(flagged)}"
            )
    years = np.arange(1, -(-ps.horizon_months // 12) + 1)
    units = OUTPUTS[output].unit if output in OUTPUTS else ""
    attrs = {
        "draws": int(np.asarray(x).shape[0]) if x is not None else 0,
        "seed": seed,
        "sobol_n": sobol_n if "sobol" in results else 0,
        "swing_low_percentile": low * 100,
        "swing_high_percentile": high * 100,
        "n_boot": n_boot,
    }
    return Computed(results, output, units, years, names, notes, attrs)


def _per_method(c: Computed, methods: list[str]) -> dict[str, np.ndarray]:
    """Each stored method's index, interval, low/high ends and base, as (method, input, ...) arrays."""
    k, ny, nm = len(c.names), len(c.years), len(methods)
    arr = {
        "index": np.full((nm, k), np.nan),
        "index_ci": np.full((nm, k, 2), np.nan),
        "low_end": np.full((nm, k), np.nan),
        "high_end": np.full((nm, k), np.nan),
        "low_ci": np.full((nm, k, 2), np.nan),
        "high_ci": np.full((nm, k, 2), np.nan),
        "base": np.full((nm,), np.nan),
        "by_year": np.full((nm, k, ny), np.nan),
    }
    for i, m in enumerate(methods):
        cli, meas = MEASURES[m]
        r = c.results[cli]
        v = r.measures["high"] - r.measures["low"] if meas == "high_minus_low" else r.measures[meas]
        arr["index"][i] = v[:, 0]
        arr["by_year"][i] = v[:, 1:]
        if meas in r.intervals:
            arr["index_ci"][i] = r.intervals[meas][:, 0]
        if sa.METHODS_REGISTRY[cli].in_output_units:
            arr["low_end"][i], arr["high_end"][i] = r.measures["low"][:, 0], r.measures["high"][:, 0]
            arr["base"][i] = np.asarray(r.base)[0]
            if "low" in r.intervals:
                arr["low_ci"][i], arr["high_ci"][i] = r.intervals["low"][:, 0], r.intervals["high"][:, 0]
        elif cli == "sobol":
            arr["base"][i] = 0.0
    return arr


def sensitivity_dataset(c: Computed, scenario: str, source: str) -> xr.Dataset:
    """The ``sensitivity.nc`` Dataset (layout in the module docstring)."""
    methods = [m for m, (cli, _) in MEASURES.items() if cli in c.results]
    a = _per_method(c, methods)
    index, index_ci, low_end, high_end = a["index"], a["index_ci"], a["low_end"], a["high_end"]
    low_ci, high_ci, base, by_year = a["low_ci"], a["high_ci"], a["base"], a["by_year"]
    data: dict[str, Any] = {
        "index": (("method", "input"), index, {"long_name": "sensitivity index of each method (see method)"}),
        "index_ci": (("method", "input", "bound"), index_ci, {"long_name": "95 % bootstrap interval of index"}),
        "low_end": (
            ("method", "input"),
            low_end,
            {"units": c.units, "long_name": "output with the input at its low end"},
        ),
        "high_end": (
            ("method", "input"),
            high_end,
            {"units": c.units, "long_name": "output with the input at its high end"},
        ),
        "low_end_ci": (
            ("method", "input", "bound"),
            low_ci,
            {"units": c.units, "long_name": "95 % interval of low_end"},
        ),
        "high_end_ci": (
            ("method", "input", "bound"),
            high_ci,
            {"units": c.units, "long_name": "95 % interval of high_end"},
        ),
        "base": (
            ("method",),
            base,
            {"units": c.units, "long_name": "tornado axis: output at medians (swing), mean (conditional)"},
        ),
        "index_by_year": (("method", "input", "year"), by_year, {"long_name": f"index per year of {PER_YEAR}"}),
    }
    if "swing" in c.results:
        data["non_monotone"] = (
            ("input",),
            c.results["swing"].measures["non_monotone"][:, 0].astype(np.int8),
            {"long_name": "1: swing output not monotone across P10, midpoints, median, P90"},
        )
    if "rank" in c.results:
        r2 = np.asarray(c.results["rank"].info["r2"])
        data["r2"] = ((), float(r2[0]), {"long_name": "R^2 of the rank regression (< 0.7: misleading)"})
        data["r2_by_year"] = (("year",), r2[1:], {"long_name": "R^2 of the rank regression per year"})
    coords = {
        "input": ("input", np.array(c.names, dtype=str)),
        "input_units": ("input", np.array([input_unit(n) for n in c.names], dtype=object)),
        "method": ("method", np.array(methods, dtype=str)),
        "bound": ("bound", np.array(["lower", "upper"], dtype=str)),
        "year": ("year", c.years),
    }
    ds = xr.Dataset(data, coords=coords)
    ds.attrs.update(
        {
            "scenario": scenario,
            "source": source,
            "output": c.output,
            "output_units": c.units,
            "notes": "\n".join(c.notes),
            **c.attrs,
        }
    )
    return ds


def _label(output: str, unit_label: str) -> str:
    long = OUTPUTS[output].long_name if output in OUTPUTS else output
    return f"{output} ({unit_label}): {long}"


def _tornado_in_units(
    c: Computed,
    r: sa.Result,
    m: sa.SensitivityMethod,
    paths: list[Path],
    title: str,
    sub: str,
    foot: str,
    draw: Draw,
) -> None:
    """A tornado of output values at each input's low and high end, around a base value."""
    lo, hi = r.measures["low"][:, 0], r.measures["high"][:, 0]
    b = float(np.asarray(r.base)[0])
    div, unit = report.scale_for(c.units, np.concatenate([lo, hi, [b]]))
    ci_lo = r.intervals["low"][:, 0] / div if "low" in r.intervals else None
    ci_hi = r.intervals["high"][:, 0] / div if "high" in r.intervals else None
    extra = (
        f"; base = output at medians = {b / div:,.2f}"
        if m.name == "swing"
        else f"; axis = mean output = {b / div:,.2f}"
    )
    draw(
        report.tornado,
        paths,
        c.names,
        lo / div,
        hi / div,
        base=b / div,
        title=title,
        subtitle=sub + extra,
        xlabel=_label(c.output, unit),
        low_ci=ci_lo,
        high_ci=ci_hi,
        flags=r.measures["non_monotone"][:, 0] if "non_monotone" in r.measures else None,
        footnote=foot,
    )


def _tornado_of_index(
    c: Computed,
    r: sa.Result,
    m: sa.SensitivityMethod,
    paths: list[Path],
    title: str,
    sub: str,
    foot: str,
    draw: Draw,
) -> None:
    """A tornado of an index from zero, with a second measure drawn as marks."""
    bars = r.measures[m.importance][:, 0]
    draw(
        report.tornado,
        paths,
        c.names,
        np.zeros_like(bars),
        bars,
        base=0.0,
        title=title,
        subtitle=sub + (f"; {m.subtitle(r)}" if m.subtitle is not None else ""),
        xlabel=m.xlabel.format(output=c.output),
        high_ci=r.intervals[m.importance][:, 0] if m.importance in r.intervals else None,
        marks=r.measures[m.marks][:, 0] if m.marks else None,
        mark_label=m.mark_label,
        legend=("", m.bar_label),
        footnote=foot,
    )


def _heatmap(c: Computed, ds: xr.Dataset, m: sa.SensitivityMethod, path: Path, scenario: str, draw: Draw) -> None:
    imp = np.abs(ds["index_by_year"].sel({"method": m.heatmap}).values) ** m.heatmap_power
    tot = imp.sum(axis=0, keepdims=True)
    with np.errstate(invalid="ignore", divide="ignore"):
        share = np.where(tot > 0, imp / np.where(tot > 0, tot, 1.0), np.nan)
    power = f" ({m.bar_label}^{m.heatmap_power})" if m.heatmap_power != 1 else ""
    draw(
        report.heatmap,
        path,
        c.names,
        list(c.years),
        share,
        title=f"{scenario}: what drives each year's cash flow ({m.name})",
        subtitle=f"share of each year's {m.name} importance in {PER_YEAR}" + power,
    )


def plot(
    c: Computed,
    ds: xr.Dataset,
    out_dir: Path,
    scenario: str,
    draw: Draw | None = None,
    methods: Iterable[str] | None = None,
) -> list[Path]:
    """tornado-<method>.png/.svg for each method (or those in ``methods``), heatmap-<method>.png per year.

    ``draw(figure_function, *args, **kwargs)`` draws each chart (default: here and now; ``simulate``
    has them drawn in a helper process, :class:`mcroi.report.Painter`)."""
    draw = draw or _draw_here
    only = None if methods is None else set(methods)
    written: list[Path] = []
    for name, r in c.results.items():
        if only is not None and name not in only:
            continue
        m = sa.METHODS_REGISTRY[name]
        foot = "\n".join(n for n in c.notes if n.startswith(name + ":"))
        paths = [out_dir / f"tornado-{name}.png", out_dir / f"tornado-{name}.svg"]
        sub = m.meaning.format(
            lo=f"{c.attrs['swing_low_percentile']:.0f}", hi=f"{c.attrs['swing_high_percentile']:.0f}"
        )
        if m.in_output_units:
            _tornado_in_units(c, r, m, paths, f"{scenario}: {name} tornado of {c.output}", sub, foot, draw)
        else:
            title = (
                f"{scenario}: Sobol' indices of {c.output}"
                if name == "sobol"
                else f"{scenario}: {name} tornado of {c.output}"
            )
            _tornado_of_index(c, r, m, paths, title, sub, foot, draw)
        written += paths
        _heatmap(c, ds, m, out_dir / f"heatmap-{name}.png", scenario, draw)
        written.append(out_dir / f"heatmap-{name}.png")
    return written


def write_sensitivity(
    c: Computed,
    out_dir: Path,
    scenario: str,
    source: str,
    plots: bool = True,
    plot_dir: Path | None = None,
    draw: Draw | None = None,
) -> xr.Dataset:
    """``sensitivity.nc`` into ``out_dir``; the charts into ``plot_dir`` (default: ``out_dir``),
    each drawn by ``draw`` (see :func:`plot`)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    ds = sensitivity_dataset(c, scenario, source)
    ds.to_netcdf(out_dir / "sensitivity.nc", engine="h5netcdf")
    if plots:
        plot(c, ds, plot_dir or out_dir, scenario, draw)
    return ds


def default_swing(ps: PriorSet) -> sa.Result | None:
    """The swing of NPV and each year's cash flow that :func:`write_default` draws (None when no
    input varies): a design of the priors alone, so ``simulate`` computes it beside the summary."""
    if not sa.varying(ps):
        return None
    return sa.METHODS_REGISTRY["swing"].estimate(
        sa.Design(stacked_fn(ps, "npv_usd"), ps, sa.varying(ps), None, None, 0, 200, 4096, 0.1, 0.9)
    )


#: What ``sensitivity.nc`` of a simulate run says its methods were computed from.
DEFAULT_SOURCE = "this run's draws (conditional) and priors (swing)"


def default_sensitivity(
    ps: PriorSet, arrays: Any, swing: sa.Result | None = None, methods: Iterable[str] = DEFAULT_SIMULATE_METHODS
) -> Computed | None:
    """The swing and conditional tornados of NPV and each year's cash flow that ``simulate`` adds
    to a run folder, the conditional from the run's own draws (None when no input varies).

    ``swing`` is :func:`default_swing` when the caller has computed it already. ``methods`` picks
    some of them: the swing alone, given, is the same result (notes included) as the swing of both,
    so ``simulate`` draws its charts while the conditional means are computed."""
    if not sa.varying(ps):
        return None
    y = np.column_stack([arrays.outputs["npv_usd"], arrays.outputs[PER_YEAR]])
    given = {"swing": swing} if swing is not None else None
    return compute_sensitivity(ps, methods, "npv_usd", x=arrays.inputs, y=y, n_boot=200, given=given)


def write_default(
    tmp: Path,
    ps: PriorSet,
    arrays: Any,
    plots: bool = True,
    swing: sa.Result | None = None,
    draw: Draw | None = None,
) -> None:
    """What ``simulate`` adds to a run folder (:func:`default_sensitivity`): ``sensitivity.nc`` and,
    in ``plots/``, the tornados and their per-year heat maps, each drawn by ``draw`` (see :func:`plot`)."""
    c = default_sensitivity(ps, arrays, swing)
    if c is not None:
        write_sensitivity(c, tmp, ps.name, DEFAULT_SOURCE, plots=plots, plot_dir=tmp / "plots", draw=draw)


def ranking_table(ds: xr.Dataset) -> tuple[list[str], list[list[str]]]:
    """Rows for the printed ranking: inputs ordered by the first method's |index|."""
    methods = [str(m) for m in ds["method"].values]
    first = ds["index"].sel({"method": methods[0]}).values
    order = np.argsort(-np.abs(np.nan_to_num(first)), kind="stable")
    header = ["#", "input", *methods]
    rows = []
    usd = ds.attrs.get("output_units") == "USD"
    for rank_i, i in enumerate(order, 1):
        cells = [str(rank_i), str(ds["input"].values[i])]
        for m in methods:
            v = float(ds["index"].sel({"method": m}).values[i])
            ci = ds["index_ci"].sel({"method": m}).values[i]
            money = (
                usd and MEASURES[m][0] in sa.METHODS_REGISTRY and sa.METHODS_REGISTRY[MEASURES[m][0]].in_output_units
            )
            f = (lambda z: f"{z / 1e6:,.1f}M") if money else (lambda z: f"{z:.3f}")
            cell = f(v) if np.isfinite(v) else "n/a"
            if np.all(np.isfinite(ci)):
                cell += f" [{f(ci[0])}, {f(ci[1])}]"
            cells.append(cell)
        rows.append(cells)
    return header, rows


def load_sensitivity_run(path: Path) -> tuple[PriorSet, np.ndarray, dict[str, np.ndarray], dict[str, Any]]:
    """A simulate run folder's priors (from its manifest), inputs (draws, n_inputs) and outputs.

    Raises
    ------
    mcroi.runs.RunFolderError
        When the folder is not a simulate run folder (a compare run has several priors).
    """
    folder = runs.read_run(path)
    if folder.kind != "simulate":
        raise runs.RunFolderError(
            f"{folder.path}: a compare run; sensitivity reads one scenario's draws: give a simulate run folder or a priors file"
        )
    man = folder.manifest
    ps = from_resolved(man["priors"], where=str(folder.path / "manifest.json"))
    ds = folder.dataset()
    order = [str(v) for v in ds["input"].values]
    x = ds["inputs"].transpose("draw", "input").values
    x = x[:, [order.index(n) for n in engine.stored_names(ps)]]
    outs = {str(k): ds[k].values for k in ds.data_vars if k != "inputs"}
    return ps, x, outs, man
