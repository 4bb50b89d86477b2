"""The sensitivity-method registry: one record per method, read by the CLI, the tables, the charts and the report.

A method is an estimator in :mod:`mcroi.analysis._sensitivity` plus one :class:`SensitivityMethod`
here: what it needs (the contract as a function, or Monte Carlo draws), how it is stored in
``sensitivity.nc`` (its measures), how its tornado is drawn (bars in the output's units from a
base value, or an index from zero with marks) and what it means in one line.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from mcroi.analysis import _sensitivity as sa


@dataclass(frozen=True)
class Design:
    """What a method may use: the contract as a function of one draw, the scenario, Monte Carlo draws.

    ``x`` (n, k) holds the varying inputs ``names`` of the draws (or, with ``cols``, holds them
    in its columns ``cols``), ``y`` (n, 1 + years) the output and each year's cash flow; ``fn``
    is None where the output has no per-draw function (the IRR).
    """

    fn: sa.DrawFn | None
    priors: Any
    names: list[str]
    x: np.ndarray | None
    y: np.ndarray | None
    key: int
    n_boot: int
    sobol_n: int
    low: float
    high: float
    cols: tuple[int, ...] | None = None

    def inputs(self) -> np.ndarray:
        """The draws of the inputs ``names``, (n, k)."""
        assert self.x is not None
        return self.x if self.cols is None else self.x[:, list(self.cols)]


@dataclass(frozen=True)
class SensitivityMethod:
    """One sensitivity method.

    Attributes
    ----------
    name
        The method's name on the command line and in file names (``tornado-<name>.png``).
    meaning
        One line under its tornado (``{lo}``/``{hi}`` are the swing percentiles).
    caption
        One sentence under its chart in the report, written for a committee.
    needs
        ``function`` (re-evaluates the contract on a design) or ``draws`` (uses Monte Carlo draws).
    estimate
        ``estimate(design) -> Result``.
    importance
        The measure that orders the inputs (its absolute value).
    measures
        ``{dataset method name: measure}`` stored in ``sensitivity.nc``; ``high_minus_low`` is
        the difference of the ``high`` and ``low`` measures.
    heatmap
        The dataset method whose per-year index fills the per-year heat map.
    in_output_units
        The tornado's bars are output values at each input's low and high end (a swing), not an
        index from zero.
    marks, mark_label, bar_label, xlabel
        For an index tornado: the measure drawn as marks beside the bars, the legend's words for
        marks and bars, and the x axis label (``{output}`` is the output's name).
    subtitle
        Extra words for the tornado's subtitle from the result (e.g. the rank regression's R^2).
    heatmap_power
        The per-year importance is ``|index| ** heatmap_power`` (2 for SRRC: shares of R^2).
    """

    name: str
    meaning: str
    caption: str
    needs: str
    estimate: Callable[[Design], sa.Result]
    importance: str
    measures: Mapping[str, str]
    heatmap: str
    in_output_units: bool = False
    marks: str | None = None
    mark_label: str = ""
    bar_label: str = ""
    xlabel: str = ""
    subtitle: Callable[[sa.Result], str] | None = None
    heatmap_power: int = 1


def _swing(d: Design) -> sa.Result:
    assert d.fn is not None
    return sa.swing(d.fn, d.priors, low=d.low, high=d.high)


def _conditional(d: Design) -> sa.Result:
    assert d.x is not None and d.y is not None
    return sa.conditional_from_draws(
        d.x, d.y, d.names, key=d.key, n_boot=d.n_boot, first_column_ci=True, columns=d.cols
    )


def _rank(d: Design) -> sa.Result:
    assert d.x is not None and d.y is not None
    return sa.rank_from_draws(d.inputs(), d.y, d.names, key=d.key, n_boot=min(d.n_boot, 100))


def _sobol(d: Design) -> sa.Result:
    assert d.fn is not None
    return sa.sobol(d.fn, d.priors, d.sobol_n, key=d.key, n_boot=min(d.n_boot, 100))


METHODS_REGISTRY: dict[str, SensitivityMethod] = {
    m.name: m
    for m in (
        SensitivityMethod(
            "swing",
            "one at a time: each input moved to its P{lo} and P{hi}, all others at their median",
            "One input at a time moved from its P10 to its P90 with every other input at its median; "
            "the bar is the change in NPV.",
            "function",
            _swing,
            "width",
            {"swing": "high_minus_low"},
            "swing",
            in_output_units=True,
        ),
        SensitivityMethod(
            "conditional",
            "mean output when the input is in its bottom vs top decile of the Monte Carlo draws",
            "Mean NPV among the draws where the input is in its lowest and highest deciles; "
            "uses the run's own draws, correlations included.",
            "draws",
            _conditional,
            "effect",
            {"conditional": "effect"},
            "conditional",
            in_output_units=True,
        ),
        SensitivityMethod(
            "rank",
            "standardized rank-regression coefficients (SRRC) and Spearman correlations of the draws",
            "Standardized rank-regression coefficients of NPV on every input: the share of NPV's ranking "
            "each input explains, with the others held fixed.",
            "draws",
            _rank,
            "srrc",
            {"rank_spearman": "spearman", "rank_srrc": "srrc"},
            "rank_srrc",
            marks="spearman",
            mark_label="Spearman correlation",
            bar_label="SRRC",
            xlabel="standardized rank-regression coefficient with {output} (-1 .. 1, unitless)",
            subtitle=lambda r: (
                f"R^2 = {float(np.asarray(r.info['r2'])[0]):.2f}"
                + (" (< 0.7: misleading)" if float(np.asarray(r.info["r2"])[0]) < sa.R2_WARN else "")
            ),
            heatmap_power=2,
        ),
        SensitivityMethod(
            "sobol",
            "variance shares: first-order S1 (alone) and total ST (with interactions), Saltelli design",
            "Sobol' indices: the share of NPV's variance due to each input alone (first order) and with "
            "its interactions (total).",
            "function",
            _sobol,
            "st",
            {"sobol_s1": "s1", "sobol_st": "st"},
            "sobol_st",
            marks="s1",
            mark_label="first-order S1 (bar: total ST)",
            bar_label="total ST",
            xlabel="share of the variance of {output} (0 .. 1, unitless)",
            subtitle=lambda r: f"sum S1 = {np.nansum(r.measures['s1'][:, 0]):.2f}, n = {r.info['n']:,}",
        ),
    )
}

#: The methods' names, in the registry's order.
METHODS: tuple[str, ...] = tuple(METHODS_REGISTRY)
