"""Tornado charts and the per-year driver heat map (matplotlib, Agg backend).

Every chart is drawn from plain arrays (the ones stored in ``sensitivity.nc``), so a test can check
the data behind a figure without reading pixels: :func:`tornado` returns the bars it drew.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from mcroi.report._figures import plain_style, pyplot

BLUE, RED, GREY = "#4C72B0", "#C44E52", "#8C8C8C"


@dataclass(frozen=True)
class Bars:
    """What a tornado drew, top bar first: labels, bar starts and ends (axis units)."""

    labels: list[str]
    left: np.ndarray
    right: np.ndarray


def scale_for(units: str, values: np.ndarray) -> tuple[float, str]:
    """A divisor and an axis unit label: USD is shown in millions when large."""
    finite = np.abs(values[np.isfinite(values)])
    big = float(finite.max()) if finite.size else 0.0
    if units == "USD" and big >= 1e6:
        return 1e6, "USD million"
    if units == "USD" and big >= 1e3:
        return 1e3, "USD thousand"
    return 1.0, units


def _plt():  # type: ignore[no-untyped-def]
    return pyplot()


@plain_style()
def tornado(
    paths: Sequence[Path],
    names: Sequence[str],
    low: np.ndarray,
    high: np.ndarray,
    *,
    base: float,
    title: str,
    subtitle: str,
    xlabel: str,
    low_ci: np.ndarray | None = None,
    high_ci: np.ndarray | None = None,
    marks: np.ndarray | None = None,
    mark_label: str = "",
    legend: tuple[str, str] = ("input at its low value", "input at its high value"),
    flags: np.ndarray | None = None,
    flag_text: str = "non-monotone",
    footnote: str = "",
    max_bars: int = 20,
) -> Bars:
    """A tornado: one horizontal bar per input from ``base`` to ``low`` and from ``base`` to ``high``.

    Parameters
    ----------
    names : k input labels
    low, high : (k,) bar ends in axis units (the output with the input low / high; for index
        charts ``low`` is ``base`` and ``high`` the index)
    base : the axis through the bars (swing: output at medians; conditional: mean output)
    low_ci, high_ci : (k, 2) 95 % intervals drawn as whiskers at each bar end
    marks : (k,) optional second value drawn as a black diamond (e.g. Spearman, or S1 inside ST)
    flags : (k,) bool; flagged bars get ``flag_text`` after their label

    Returns
    -------
    Bars, sorted widest first (the order drawn top to bottom).
    """
    plt = _plt()
    low, high = np.asarray(low, float), np.asarray(high, float)
    width = np.abs(high - low)
    width = np.where(np.isfinite(width), width, -1)
    # an input the method did not vary (both ends NaN: a price path in a design) gets no bar
    shown = ~(np.isnan(low) & np.isnan(high))
    order = np.array([i for i in np.argsort(-width, kind="stable") if shown[i]][:max_bars], dtype=int)
    k = len(order)
    fig, ax = plt.subplots(figsize=(10, 1.2 + 0.42 * max(k, 3)), constrained_layout=True)
    ys = np.arange(k)[::-1]
    labels = [names[i] + (f"  [{flag_text}]" if flags is not None and bool(flags[i]) else "") for i in order.tolist()]
    # One call per layer, not per bar (a tornado of 20 inputs drew 600 artists; a third of
    # simulate's plotting time). Each bar's longer end is drawn first, so a shorter one on the
    # same side stays visible on top of it.
    lo_o, hi_o = low[order], high[order]
    low_first = np.abs(lo_o - base) >= np.abs(hi_o - base)
    first, second = np.where(low_first, lo_o, hi_o), np.where(low_first, hi_o, lo_o)
    for ends, col in ((first, np.where(low_first, RED, BLUE)), (second, np.where(low_first, BLUE, RED))):
        ax.barh(ys, ends - base, left=base, color=col.tolist(), alpha=0.85, height=0.62)
    whiskers = [(ci[order], ys) for ci in (low_ci, high_ci) if ci is not None]
    if whiskers:
        cis = np.concatenate([w[0] for w in whiskers])
        at = np.concatenate([w[1] for w in whiskers])
        ok = np.all(np.isfinite(cis), axis=1)
        if ok.any():
            c = cis[ok]
            ax.errorbar(
                (c[:, 0] + c[:, 1]) / 2,
                at[ok],
                xerr=(c[:, 1] - c[:, 0]) / 2,
                fmt="none",
                ecolor="black",
                elinewidth=1.2,
                capsize=3,
            )
    if marks is not None:
        mk = np.asarray(marks, float)[order]
        ok = np.isfinite(mk)
        if ok.any():
            ax.plot(mk[ok], ys[ok], marker="D", color="black", ms=5, ls="none")
    ax.set_yticks(ys, labels)
    ax.axvline(base, color="black", lw=1.2)
    ax.set_xlabel(xlabel)
    ax.grid(axis="x", alpha=0.3)
    handles = [plt.Rectangle((0, 0), 1, 1, color=RED, alpha=0.85), plt.Rectangle((0, 0), 1, 1, color=BLUE, alpha=0.85)]
    texts = list(legend)
    if np.all(low == base):  # an index chart: one bar per input
        handles, texts = handles[1:], texts[1:]
    if marks is not None:
        handles.append(plt.Line2D([], [], marker="D", color="black", ls="none"))
        texts.append(mark_label)
    if low_ci is not None or high_ci is not None:
        handles.append(plt.Line2D([], [], color="black", lw=1.2))
        texts.append("95 % interval")
    ax.legend(handles, texts, loc="lower right", fontsize=8, framealpha=0.9)
    ax.set_title(subtitle, fontsize=9, color="#444444")
    fig.suptitle(title, fontsize=12)
    if footnote:
        fig.text(0.01, 0.005, footnote, fontsize=7.5, color="#444444", ha="left", va="bottom", wrap=True)
        fig.get_layout_engine().set(rect=(0, 0.04, 1, 0.96))
    for p in paths:
        p.parent.mkdir(parents=True, exist_ok=True)
        fig.savefig(p, dpi=110, metadata={"Date": None} if p.suffix == ".svg" else None)  # no clock in the file
    plt.close(fig)
    return Bars(labels, low[order], high[order])


@plain_style()
def heatmap(
    path: Path,
    names: Sequence[str],
    years: Sequence[int],
    share: np.ndarray,
    *,
    title: str,
    subtitle: str,
) -> Path:
    """Per-year drivers: ``share`` (k, years) is each input's share of that year's importance (columns sum to 1)."""
    plt = _plt()
    share = np.asarray(share, float)
    rows = np.isfinite(share).any(axis=1) | ~np.isfinite(share).any()  # drop inputs the method did not vary
    names, share = [n for n, r in zip(names, rows, strict=True) if r], share[rows]
    order = np.argsort(-np.nan_to_num(share).mean(axis=1), kind="stable")
    fig, ax = plt.subplots(figsize=(2.5 + 1.0 * len(years), 1.4 + 0.36 * len(names)), constrained_layout=True)
    im = ax.imshow(
        share[order], aspect="auto", cmap="viridis", vmin=0, vmax=max(float(np.nanmax(share, initial=0.0)), 1e-12)
    )
    for r, i in enumerate(order):
        for c in range(len(years)):
            v = share[i, c]
            if np.isfinite(v):
                ax.text(
                    c,
                    r,
                    f"{v:.0%}",
                    ha="center",
                    va="center",
                    fontsize=7.5,
                    color="white" if v < 0.5 * np.nanmax(share) else "black",
                )
    ax.set_yticks(range(len(names)), [names[i] for i in order])
    ax.set_xticks(range(len(years)), [f"year {y}" for y in years])
    fig.colorbar(im, ax=ax, label="share of the year's importance")
    ax.set_title(subtitle, fontsize=9, color="#444444")
    fig.suptitle(title, fontsize=12)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path
