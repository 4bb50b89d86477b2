"""Static figures of a run (matplotlib, Agg backend)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from mcroi._numbers import money
from mcroi.report._figures import plain_style, pyplot

MARKS = (10, 50, 90)


@plain_style()
def distribution(npv_usd: np.ndarray, roi_multiple: np.ndarray, path: Path, title: str) -> Path:
    """NPV and ROI-multiple histograms with P10/P50/P90 marked; writes ``path`` (PNG)."""
    plt = pyplot()
    fig, axes = plt.subplots(1, 2, figsize=(12, 4.6), constrained_layout=True)
    panels = [
        (axes[0], np.asarray(npv_usd, float) / 1e6, "NPV (USD million)", lambda v: money(v * 1e6)),
        (axes[1], np.asarray(roi_multiple, float), "ROI multiple (token revenue / capex, x)", lambda v: f"{v:.2f}x"),
    ]
    for ax, x, label, fmt in panels:
        x = x[np.isfinite(x)]
        if x.size == 0:
            ax.text(
                0.5,
                0.5,
                "no finite values\n(e.g. no capex: ROI undefined)",
                ha="center",
                va="center",
                transform=ax.transAxes,
            )
            ax.set_xlabel(label)
            continue
        lo, hi, *ps = np.quantile(x, [0.002, 0.995, *(m / 100 for m in MARKS)])  # one selection pass
        if hi <= lo:
            lo, hi = lo - 0.5, hi + 0.5
        # one filled outline, not 120 bars: the same picture, one artist to draw instead of 120
        dens, edges = np.histogram(x, bins=120, range=(lo, hi), density=True)
        ax.stairs(dens, edges, fill=True, color="#4C72B0", alpha=0.85)
        for p, v, ls, y in zip(MARKS, ps, (":", "-", ":"), (0.97, 0.84, 0.71), strict=True):
            ax.axvline(v, color="#C44E52", ls=ls, lw=1.6)
            ax.annotate(
                f"P{p} {fmt(v)}",
                (v, y),
                xycoords=("data", "axes fraction"),
                xytext=(4, 0),
                textcoords="offset points",
                va="top",
                fontsize=9,
                color="#C44E52",
                bbox={"boxstyle": "round,pad=0.15", "fc": "white", "ec": "none", "alpha": 0.85},
            )
        ax.set_xlabel(label)
        ax.set_ylabel("density")
        ax.grid(alpha=0.25)
    if np.isfinite(npv_usd).any():
        axes[0].axvline(0, color="black", lw=0.8)
        p_loss = float(np.mean(np.asarray(npv_usd) < 0))
        axes[0].set_title(f"NPV distribution; P(NPV < 0) = {p_loss:.1%}")
    axes[1].set_title("ROI multiple distribution")
    fig.suptitle(f"{title}: {np.asarray(npv_usd).size:,} draws", fontsize=12)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path
