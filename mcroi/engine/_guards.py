"""Guards around a run: undocumented NaN/inf in the outputs, and memory before sampling.

Numeric guard
    The contract documents exactly where an output may be non-finite: ``irr_annual`` is NaN
    where the cashflow never changes sign, ``roi_multiple`` and ``net_roi`` are NaN without
    capex, ``payback_months`` is ``+inf`` where it never pays back, ``cost_per_mtok_usd`` is
    ``+inf`` and ``breakeven_price_usd_per_mtok`` NaN where no token is sold (or the tax takes
    all of a price change). Every other NaN or infinity, in an output or a sampled input, is
    *unexpected*: it is counted per variable, reported in the summary and the manifest, and
    above ``max_fraction`` of the draws the run is refused with the inputs that drive it.

Memory guard
    A run that keeps every draw holds ``draws x (inputs + scalar outputs + annual outputs x
    years)`` numbers; before sampling that is compared with the memory available now.

This module imports no JAX at import time (the CLI maps its errors without loading the engine).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from mcroi.engine._devices import available_memory
from mcroi.engine._outputs import ANNUAL_OUTPUTS, OUTPUTS, SCALAR_OUTPUTS
from mcroi.engine._threads import thread_map as _thread_map

#: Default share of draws allowed to carry an unexpected NaN/inf before a run is refused.
DEFAULT_MAX_FRACTION = 1e-3
#: Share of the available memory a run may plan to use.
MEMORY_HEADROOM = 0.8
#: Per-draw working numbers of one chunk (monthly line items over the horizon, roughly).
_WORK_ITEMS_PER_MONTH = 16


class NumericGuardError(Exception):
    """Too many draws with undocumented NaN or infinite values; ``lines`` holds the message."""

    def __init__(self, lines: list[str]):
        self.lines = list(lines)
        super().__init__("\n".join(self.lines))


class MemoryGuardError(Exception):
    """The run would not fit in the memory available now."""


# --------------------------------------------------------------------------- numeric guard


@dataclass
class NumericReport:
    """Counts of non-finite values per variable, over ``draws`` draws.

    ``documented`` counts the contract's documented NaN/inf (never a problem); ``unexpected``
    counts draws with any other NaN/inf per variable (``inputs`` for the sampled inputs).
    ``bad_draws`` is the number of draws with at least one unexpected value.
    """

    draws: int
    documented: dict[str, int] = field(default_factory=dict)
    unexpected: dict[str, int] = field(default_factory=dict)
    bad_draws: int = 0
    first_bad_draws: list[int] = field(default_factory=list)
    inputs_involved: list[str] = field(default_factory=list)
    max_fraction: float = DEFAULT_MAX_FRACTION

    @property
    def fraction(self) -> float:
        return self.bad_draws / self.draws if self.draws else 0.0

    @property
    def ok(self) -> bool:
        return self.fraction <= self.max_fraction

    def to_json(self) -> dict[str, Any]:
        return {
            "draws": self.draws,
            "documented_nonfinite": dict(self.documented),
            "unexpected_nonfinite": dict(self.unexpected),
            "unexpected_draws": self.bad_draws,
            "unexpected_fraction": self.fraction,
            "max_fraction": self.max_fraction,
            "first_unexpected_draws": list(self.first_bad_draws),
            "inputs_involved": list(self.inputs_involved),
        }


def merge_numeric(total: NumericReport | None, part: NumericReport, offset: int, limit: int = 5) -> NumericReport:
    """``total`` with the report of one more chunk added; ``offset`` is the chunk's first draw index."""
    if total is None:
        total = NumericReport(draws=0, max_fraction=part.max_fraction)
    total.draws += part.draws
    for mine, theirs in ((total.documented, part.documented), (total.unexpected, part.unexpected)):
        for k, v in theirs.items():
            mine[k] = mine.get(k, 0) + v
    total.bad_draws += part.bad_draws
    room = limit - len(total.first_bad_draws)
    total.first_bad_draws += [offset + i for i in part.first_bad_draws[: max(room, 0)]]
    total.inputs_involved += [n for n in part.inputs_involved if n not in total.inputs_involved]
    total.inputs_involved = total.inputs_involved[:limit]
    return total


#: (v2) Non-finite values the contract documents for the inputs kept after the priors' inputs:
#: a customer that never defaults (+inf), a path of a cluster that never operates (NaN) or whose
#: price a jump of size 1 takes to 0 (-inf).
DERIVED_NONFINITE: dict[str, Callable[[np.ndarray], np.ndarray]] = {
    "contract.default_month": np.isposinf,
    "price.path": lambda c: np.isnan(c) | np.isneginf(c),
}


def _bad_inputs(names: Sequence[str], inputs: np.ndarray, draws: int) -> np.ndarray:
    """Draws with an input that is NaN or infinite beyond the documented cases."""
    if not inputs.size:
        return np.zeros(draws, dtype=bool)
    bad = np.zeros(draws, dtype=bool)
    finite = np.isfinite(inputs)  # one contiguous pass; then only the columns with a non-finite value
    for j in (int(i) for i in np.flatnonzero(~finite.all(axis=0))):
        wrong = ~finite[:, j]
        if names[j] in DERIVED_NONFINITE:
            wrong &= ~DERIVED_NONFINITE[names[j]](inputs[:, j])
        bad |= wrong
    return bad


def check_numeric(
    names: Sequence[str],
    inputs: np.ndarray,
    outputs: Mapping[str, np.ndarray],
    *,
    max_fraction: float = DEFAULT_MAX_FRACTION,
    limit_listed: int = 5,
) -> NumericReport:
    """Count documented and unexpected non-finite values.

    Parameters
    ----------
    names
        Input names, the columns of ``inputs``.
    inputs
        Sampled inputs, shape (draws, n_inputs).
    outputs
        Scalar outputs (draws,) and annual outputs (draws, years), as the engine returns them.
    max_fraction
        The share of draws with unexpected values that a run may carry.
    """
    inputs = np.asarray(inputs)
    draws = inputs.shape[0]
    tax = inputs[:, list(names).index("finance.tax_rate")] if "finance.tax_rate" in names else None
    rep = NumericReport(draws=draws, max_fraction=max_fraction)
    bad = _bad_inputs(names, inputs, draws)
    if bad.any():
        rep.unexpected["inputs"] = int(bad.sum())

    def one(name: str) -> tuple[int, np.ndarray]:
        """Draws of output ``name``: how many are documented non-finite, which are wrong."""
        x = np.asarray(outputs[name])
        nonfinite = ~np.isfinite(x)
        if not nonfinite.any():
            return 0, np.zeros(draws, dtype=bool)
        if x.ndim > 1:  # per year: a draw is documented when each of its non-finite years is
            columns = {k: np.asarray(v)[:, None] if np.ndim(v) == 1 else v for k, v in outputs.items()}
            ok = ~np.isfinite(x) <= OUTPUTS[name].nonfinite(x, columns, None if tax is None else tax[:, None])
            nonfinite = nonfinite.reshape(draws, -1).any(axis=1)
            documented = nonfinite & ok.reshape(draws, -1).all(axis=1)
        else:
            documented = nonfinite & OUTPUTS[name].nonfinite(x, outputs, tax)
        return int(documented.sum()), nonfinite & ~documented

    names_out = [n for n in (*SCALAR_OUTPUTS, *ANNUAL_OUTPUTS) if n in outputs]
    for name, (n_documented, wrong) in zip(names_out, _thread_map(one, names_out), strict=True):
        if n_documented:
            rep.documented[name] = n_documented
        if wrong.any():
            rep.unexpected[name] = int(wrong.sum())
            bad |= wrong
    rep.bad_draws = int(bad.sum())
    if rep.bad_draws:
        rep.first_bad_draws = [int(i) for i in np.flatnonzero(bad)[:limit_listed]]
        rep.inputs_involved = inputs_involved(names, inputs, bad, limit=limit_listed)
    return rep


def inputs_involved(
    names: Sequence[str], inputs: np.ndarray, bad: np.ndarray, *, limit: int = 5, z_min: float = 4.0
) -> list[str]:
    """The inputs whose values set the bad draws apart, strongest first, with a short note.

    An input that is itself non-finite in a bad draw comes first. Otherwise an input is named when
    the mean rank of its bad draws lies more than ``z_min`` standard errors from the middle (the
    bad draws sit in one of its tails).
    """
    k = int(bad.sum())
    n = inputs.shape[0]
    scored: list[tuple[float, str]] = []
    for j, name in enumerate(names):
        col = inputs[:, j]
        sub = col[bad]
        if not np.isfinite(sub).all():
            scored.append((math.inf, f"{name} (non-finite sampled values)"))
            continue
        if k == n or np.all(col == col[0]):
            continue
        ranks = (np.argsort(np.argsort(col, kind="stable"), kind="stable") + 0.5) / n
        z = (float(ranks[bad].mean()) - 0.5) / math.sqrt(1.0 / (12.0 * k))
        if abs(z) >= z_min:
            tail = "upper" if z > 0 else "lower"
            scored.append((abs(z), f"{name} ({tail} tail: {float(sub.min()):.4g} .. {float(sub.max()):.4g})"))
    scored.sort(key=lambda t: -t[0])
    return [s for _, s in scored[:limit]]


def numeric_error_line(report: NumericReport, file: str) -> str:
    """One line for a refused run: file, the outputs and counts, the inputs that drive them."""
    counts = ", ".join(f"{k} ({v} draws)" for k, v in report.unexpected.items())
    if report.inputs_involved:
        who = "inputs involved: " + "; ".join(report.inputs_involved)
    elif report.bad_draws == report.draws:
        who = "every draw is affected, so the constants of the scenario are the cause"
    else:
        who = "no single input's range sets these draws apart"
    return (
        f"{file}: outputs = {counts}: {report.fraction:.3%} of draws are NaN or infinite beyond the contract's "
        f"documented cases (limit {report.max_fraction:.3%}; first draws {report.first_bad_draws}); {who}; "
        "narrow or rescale those priors"
    )


def enforce_numeric(report: NumericReport, file: str) -> None:
    """Raise :class:`NumericGuardError` when the report is above its threshold."""
    if not report.ok:
        raise NumericGuardError([numeric_error_line(report, file)])


# --------------------------------------------------------------------------- memory guard


def itemsize(precision: str) -> int:
    return 4 if precision == "float32" else 8


def run_memory(
    draws: int, n_inputs: int, horizon_months: int, precision: str, chunk: int, total: int | None = None
) -> tuple[int, int]:
    """(stored, working) bytes of a run that stores ``draws`` draws out of ``total`` (default all).

    stored = draws x (inputs + scalar outputs + annual outputs x years) x itemsize + the draw
    coordinate; working = one chunk's monthly line items (an estimate). A streamed run stores a
    subsample but still evaluates chunks of up to ``chunk`` of its ``total`` draws.
    """

    years = -(-horizon_months // 12)
    per_draw = (n_inputs + len(SCALAR_OUTPUTS) + len(ANNUAL_OUTPUTS) * years) * itemsize(precision) + 8
    work = min(chunk, max(draws, total or 0)) * _work_per_draw(horizon_months, precision)
    return draws * per_draw, work


def _work_per_draw(horizon_months: int, precision: str) -> int:
    return (horizon_months + 1) * _WORK_ITEMS_PER_MONTH * itemsize(precision)


def _gib(b: float) -> str:
    return f"{b / 2**30:.3g} GiB"


def check_memory(
    draws: int,
    n_inputs: int,
    horizon_months: int,
    precision: str,
    chunk: int,
    *,
    total: int | None = None,
    available: int | None = None,
    headroom: float = MEMORY_HEADROOM,
) -> dict[str, Any]:
    """Refuse a run that would not fit; return the estimate (for the manifest).

    Raises
    ------
    MemoryGuardError
        When ``stored + working > headroom * available``; the message suggests ``--keep summary``
        or the largest number of draws that fits.
    """
    stored, work = run_memory(draws, n_inputs, horizon_months, precision, chunk, total)
    avail = available_memory() if available is None else available
    est = {"stored_bytes": stored, "working_bytes": work, "available_bytes": avail}
    if avail is None or stored + work <= headroom * avail:
        return est
    if work > headroom * avail:  # the chunk alone does not fit: no number of draws helps
        fit_chunk = max(int((headroom * avail - stored) // _work_per_draw(horizon_months, precision)), 1)
        raise MemoryGuardError(
            f"--chunk-size = {chunk}: one chunk needs about {_gib(work)} of working memory but {_gib(avail)} "
            f"is available; give --chunk-size {fit_chunk:,} or less (memory is O(chunk))"
        )
    per_draw = stored / draws
    fit = max(int((headroom * avail - work) // per_draw), 0)
    raise MemoryGuardError(
        f"--draws = {draws}: keeping every draw needs about {_gib(stored + work)} of memory "
        f"({_gib(stored)} of per-draw results, {precision}) but {_gib(avail)} is available; "
        f"use --keep summary to stream the summary without storing draws, or at most {fit:,} draws"
    )
