"""Goal seek on a statistic, on common random numbers: the shift of one input that meets a target.

``evaluate(shift)`` gives an output's draws with the input moved by ``shift`` (the same draws
every time: :func:`mcroi.engine.shifted_outputs`), so the statistic is a deterministic function of
the shift and a root finder applies. An equality target on a continuous statistic (a mean, a
quantile) is solved by Brent's method; an inequality target (``P(NPV < 0) <= 10 %``) by bisection
on whether the target holds, which finds the edge of the feasible set even where a probability of
n draws is flat.

Monte Carlo error of the answer (delta method): ``SE(shift) = SE(statistic) / |slope|``, the
statistic's SE at the answer (binomial for a probability, the order-statistic interval for a
quantile, ``sd / sqrt(n)`` for a mean) over the statistic's slope in the shift, measured by a
central difference wide enough to rise above the statistic's own noise.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from mcroi.analysis._stress import StressError, Target
from mcroi.analysis._summaries import quantile_mcse

#: Bracket expansions (doubling) before a target is declared unreachable.
MAX_DOUBLINGS = 30
#: A scale search stops at factors exp(+-30): a target out of that range is unreachable.
MAX_LOG_FACTOR = 30.0
#: Bisection steps of an inequality target (the bracket shrinks 2^-32: far below the MC error).
BISECTIONS = 32


@dataclass(frozen=True)
class GoalResult:
    """The shift that meets the target, what it means for the input, and its Monte Carlo error.

    ``shift`` is added to the input (mode ``add``) or multiplies it (``scale``); ``value`` is the
    input's reference value after the shift (its value if constant, else its median) and
    ``base_value`` before; ``slope`` is d statistic / d value at the answer. ``se_shift`` and ``se_value`` are their Monte Carlo SEs (delta method).
    ``feasible`` says on which side of ``value`` the target holds (``at most``, ``at least`` or
    ``exactly`` for an equality target).
    """

    input: str
    mode: str
    target: str
    shift: float
    value: float
    base_value: float
    statistic: float
    base_statistic: float
    se_statistic: float
    slope: float
    se_shift: float
    se_value: float
    feasible: str
    evaluations: int


def statistic_se(target: Target, y: np.ndarray) -> float:
    """Monte Carlo SE of ``target``'s statistic over iid draws ``y``."""
    y = np.asarray(y, dtype=float)
    n = y.size
    if target.kind == "prob":
        p = target.statistic(y)
        return math.sqrt(max(p * (1 - p), 1.0 / n) / n)
    if target.kind == "quantile":
        return quantile_mcse(y[~np.isnan(y)], target.level)
    fin = y[np.isfinite(y)]
    return float(fin.std(ddof=1) / math.sqrt(fin.size)) if fin.size > 1 else math.nan


class _Counted:
    """The statistic as a function of the shift, counting evaluations."""

    def __init__(self, evaluate: Callable[[float], np.ndarray], target: Target) -> None:
        self.evaluate, self.target, self.calls = evaluate, target, 0

    def __call__(self, s: float) -> float:
        self.calls += 1
        return self.target.statistic(self.evaluate(s))

    def side(self, s: float) -> float:
        """Signed distance to the target (equality), or +-1 for whether the inequality fails/holds."""
        v = self(s)
        if self.target.rel == "=":
            return v - self.target.value
        holds = v <= self.target.value if self.target.rel == "<=" else v >= self.target.value
        return -1.0 if holds else 1.0


def _bracket(h: _Counted, neutral: float, step: float, limit: float) -> tuple[float, float, float]:
    """A bracket ``(a, b)`` around a sign change of ``h.side`` within ``+-limit``, and the side at ``neutral``."""
    f0 = h.side(neutral)
    if f0 == 0:
        return neutral, neutral, f0
    for k in range(MAX_DOUBLINGS):
        if step * 2.0**k > limit:
            break
        for sgn in (1.0, -1.0):
            s = neutral + sgn * step * 2.0**k
            if np.sign(h.side(s)) != np.sign(f0):
                prev = neutral + sgn * step * 2.0 ** (k - 1) if k else neutral
                return min(prev, s), max(prev, s), f0
    reach = f"+-{min(limit, step * 2.0 ** (MAX_DOUBLINGS - 1)):.3g}" + (" in log scale" if limit < math.inf else "")
    if h.target.rel != "=" and f0 < 0:
        reason = f"holds for every shift of the input within {reach}: it has no edge to seek"
    else:
        reason = f"unreachable: no shift of the input within {reach} meets it"
    raise StressError("target", h.target.label(), reason)


def _root(h: _Counted, a: float, b: float, scale: float) -> float:
    if a == b:
        return a
    if h.target.rel == "=" and h.target.kind != "prob":
        from scipy.optimize import brentq

        return float(brentq(h.side, a, b, xtol=1e-12 * max(scale, abs(a), abs(b)), rtol=1e-12, maxiter=200))
    fa = np.sign(h.side(a))
    for _ in range(BISECTIONS):
        m = 0.5 * (a + b)
        if np.sign(h.side(m)) == fa:
            a = m
        else:
            b = m
    # the edge of the feasible set: the end of the bracket where the target holds
    return a if fa < 0 else b


def _slope(h: _Counted, s: float, se: float, step: float) -> float:
    """d statistic / d shift at ``s`` by a central difference that rises above ~4 SE of noise."""
    width = step * 1e-3
    diff = 0.0
    for _ in range(30):
        diff = h(s + width) - h(s - width)
        if abs(diff) >= 4 * se and diff != 0:
            break
        width *= 2
    return diff / (2 * width)


def goal_seek(
    evaluate: Callable[[float], np.ndarray],
    target: Target,
    *,
    input_name: str,
    x: np.ndarray,
    mode: str = "add",
    step: float | None = None,
) -> GoalResult:
    """The shift of input ``input_name`` (its stored draws ``x``) at which ``target`` is met.

    Parameters
    ----------
    evaluate
        ``evaluate(shift)`` -> the target's output draws (n,) with the input shifted, always the
        same draws (common random numbers).
    mode
        ``add``: the input becomes ``x + shift``; ``scale``: ``x * shift``.
    step
        First step of the bracket search (default: the input's SD, else 10 % of its size, else 1;
        0.1 for ``scale``).

    Raises :class:`StressError` when no shift within the search range meets the target.
    """
    x = np.asarray(x, dtype=float)
    base_value = float(np.median(x))
    # search in t: the shift is t (add) or the factor exp(t) (scale: a factor never turns negative)
    move = (lambda t: t) if mode == "add" else math.exp
    if step is None:
        sd = float(np.std(x))
        step = 0.1 if mode == "scale" else (sd if sd > 0 else (0.1 * abs(base_value) or 1.0))
    h = _Counted(lambda t: evaluate(move(t)), target)
    a, b, _ = _bracket(h, 0.0, step, math.inf if mode == "add" else MAX_LOG_FACTOR)
    t = _root(h, a, b, step)
    y = np.asarray(h.evaluate(t), dtype=float)
    stat, se = target.statistic(y), statistic_se(target, y)
    slope_t = _slope(h, t, se, step)
    above = h.side(t + step * 1e-2) < 0 if target.rel != "=" else False
    shift = move(t)
    # d value / d t: 1 (add), base * exp(t) (scale)
    dvalue = 1.0 if mode == "add" else base_value * shift
    se_t = abs(se / slope_t) if slope_t != 0 else math.inf
    feasible = "exactly" if target.rel == "=" else ("at least" if above else "at most")
    return GoalResult(
        input=input_name,
        mode=mode,
        target=target.label(),
        shift=float(shift),
        value=base_value + shift if mode == "add" else base_value * shift,
        base_value=base_value,
        statistic=stat,
        base_statistic=h(0.0),
        se_statistic=se,
        slope=slope_t / dvalue if dvalue != 0 else math.nan,
        se_shift=se_t if mode == "add" else shift * se_t,
        se_value=abs(dvalue) * se_t,
        feasible=feasible,
        evaluations=h.calls,
    )
