"""Figures of a compare run (matplotlib, Agg backend; the forest plot through arviz-plots)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import xarray as xr

from mcroi.report._figures import pyplot

#: Forest-plot panels: variable, scale, axis label.
FOREST = (
    ("npv_usd", 1e-6, "NPV (USD million)"),
    ("irr_annual", 100.0, "IRR (% per year)"),
    ("cost_per_mtok_usd", 1.0, "cost per million output tokens (USD)"),
)
COLORS = ("#4C72B0", "#DD8452", "#55A868", "#C44E52", "#8172B3", "#937860", "#DA8BC3", "#8C8C8C")


def _plt():  # type: ignore[no-untyped-def]
    return pyplot()


def npv_ecdf(ds: xr.Dataset, path: Path) -> Path:
    """Overlaid empirical CDFs of NPV, one line per platform, with the median marked."""
    plt = _plt()
    fig, ax = plt.subplots(figsize=(9, 5.2), constrained_layout=True)
    for i, p in enumerate(ds.platform.values):
        x = np.sort(ds.npv_usd.sel(platform=p).values / 1e6)
        x = x[np.isfinite(x)]
        if x.size == 0:
            continue
        y = np.arange(1, x.size + 1) / x.size
        c = COLORS[i % len(COLORS)]
        ax.step(x, y, where="post", color=c, lw=1.8, label=f"{p} (P50 {np.median(x):,.1f}M)")
        ax.plot([np.median(x)], [0.5], "o", color=c, ms=5)
    finite = ds.npv_usd.values[np.isfinite(ds.npv_usd.values)] / 1e6
    if finite.size:  # the far tails (0.1 % each side) would squeeze the body of the curves
        lo, hi = np.quantile(finite, [0.001, 0.999])
        pad = 0.03 * max(hi - lo, 1e-9)
        ax.set_xlim(lo - pad, hi + pad)
    ax.axvline(0, color="black", lw=0.8)
    ax.axhline(0.5, color="grey", lw=0.6, ls=":")
    ax.set_xlabel("NPV (USD million)")
    ax.set_ylabel("P(NPV <= x)")
    ax.set_ylim(0, 1)
    ax.grid(alpha=0.25)
    ax.legend(loc="lower right", frameon=False)
    ax.set_title(f"NPV distribution per platform (common draws, n = {ds.sizes['draw']:,}); further right is better")
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def forest(ds: xr.Dataset, path: Path, variables: Sequence[tuple[str, float, str]] = FOREST) -> Path:
    """Forest plot (arviz-plots ``plot_forest``): median, 50% and 90% intervals per platform.

    One panel per variable, each with its own x axis. Intervals are equal-tailed and computed
    here over non-NaN draws (IRR is NaN where the cashflow never changes sign), then handed to
    ``plot_forest`` as precomputed statistics.
    """
    plt = _plt()
    from arviz_base import from_dict
    from arviz_plots import plot_forest

    names = [v for v, _, _ in variables]
    platforms = [str(p) for p in ds.platform.values]
    data = {
        v: (ds[v].values * scale)[None, :, :].transpose(0, 2, 1) for v, scale, _ in variables
    }  # (chain, draw, platform)
    dt = from_dict({"posterior": data}, dims={v: ["platform"] for v in names}, coords={"platform": platforms})

    def interval(prob: float) -> xr.Dataset:
        lo, hi = (1 - prob) / 2, (1 + prob) / 2
        out = {}
        for v in names:
            q = np.array([_nanquantile(data[v][0, :, j], [lo, hi]) for j in range(len(platforms))])
            out[v] = xr.DataArray(
                q, dims=("platform", "ci_bound"), coords={"platform": platforms, "ci_bound": ["lower", "upper"]}
            )
        return xr.Dataset(out)

    point = xr.Dataset(
        {
            v: xr.DataArray(
                [_nanquantile(data[v][0, :, j], [0.5])[0] for j in range(len(platforms))],
                dims="platform",
                coords={"platform": platforms},
            )
            for v in names
        }
    )
    height = 1.2 + len(names) * (0.55 * len(platforms) + 0.5)
    pc = plot_forest(
        dt,
        var_names=names,
        combined=True,
        labels=["platform"],
        rows=["__variable__"],
        stats={"twig": interval(0.9), "trunk": interval(0.5), "point_estimate": point},
        visuals={"ticklabels": False},
        figure_kwargs={"sharey": "row", "figsize": (9, height), "width_ratios": [1, 4]},
        aes={"color": ["platform"]},
        color=[COLORS[i % len(COLORS)] for i in range(len(platforms))],  # the colours of the ECDF plot
    )
    fig = None
    for v, _, label in variables:
        ax = pc.get_target(v, {"column": "forest"})
        ax.set_title(label, fontsize=10, loc="left")
        ax.grid(axis="x", alpha=0.25)
        lab = pc.get_target(v, {"column": "labels"})
        lab.set_xticks([])
        lab.spines["bottom"].set_visible(False)
        fig = ax.figure
        if v == "npv_usd":
            ax.axvline(0, color="black", lw=0.8)
    assert fig is not None
    fig.subplots_adjust(hspace=0.45, top=1 - 0.9 / height, bottom=0.5 / height)
    fig.suptitle("Per platform: median (dot), 50% (thick) and 90% (thin) intervals", fontsize=11)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def _nanquantile(x: np.ndarray, q: Sequence[float]) -> np.ndarray:
    x = x[np.isfinite(x)]
    if x.size == 0:
        return np.full(len(q), np.nan)
    return np.quantile(x, q)


def paired_difference(ds: xr.Dataset, baseline: str, path: Path) -> Path:
    """Histogram of the paired NPV difference (platform - baseline) for every other platform."""
    plt = _plt()
    others = [p for p in ds.platform.values if p != baseline]
    fig, axes = plt.subplots(
        len(others), 1, figsize=(9, 1.0 + 3.0 * len(others)), constrained_layout=True, squeeze=False
    )
    base = ds.npv_usd.sel(platform=baseline).values
    for ax, p in zip(axes[:, 0], others, strict=True):
        d = (ds.npv_usd.sel(platform=p).values - base) / 1e6
        d = d[np.isfinite(d)]
        c = COLORS[list(ds.platform.values).index(p) % len(COLORS)]
        lo, hi = np.quantile(d, [0.001, 0.999]) if d.size else (0.0, 0.0)
        if hi <= lo:
            lo, hi = lo - 0.5, hi + 0.5
        ax.hist(d, bins=100, range=(lo, hi), color=c, alpha=0.85, density=True)
        p5, p50, p95 = np.quantile(d, [0.05, 0.5, 0.95]) if d.size else (np.nan,) * 3
        for v, ls, name in ((p5, ":", "P5"), (p50, "-", "P50"), (p95, ":", "P95")):
            ax.axvline(v, color="#333333", ls=ls, lw=1.3)
            ax.annotate(
                f"{name}\n{v:,.1f}M",
                (v, 1.0),
                xycoords=("data", "axes fraction"),
                xytext=(3, -4),
                textcoords="offset points",
                va="top",
                fontsize=8,
            )
        ax.axvline(0, color="black", lw=0.8)
        ax.set_title(f"{p} - {baseline}: P({p} NPV > {baseline} NPV) = {np.mean(d > 0):.1%}", fontsize=10, loc="left")
        ax.set_xlabel("paired NPV difference, same draw (USD million)")
        ax.set_ylabel("density")
        ax.grid(alpha=0.25)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def all_plots(ds: xr.Dataset, baseline: str, folder: Path) -> list[Path]:
    """The three compare figures into ``folder``."""
    return [
        npv_ecdf(ds, folder / "npv_ecdf.png"),
        forest(ds, folder / "forest.png"),
        paired_difference(ds, baseline, folder / "npv_difference.png"),
    ]
