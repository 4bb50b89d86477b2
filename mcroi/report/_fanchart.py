"""Monthly cumulative cash of a run, re-evaluated from its stored per-draw inputs.

A run stores each draw's sampled inputs but not its months (that would be draws x months of
data). The fan chart re-evaluates the contract's monthly cashflow (:func:`mcroi.engine.monthly`,
vmapped and jitted) for a fixed subsample of draws, the first ``n`` in draw order, so the
chart is reproducible and its Monte Carlo error is stated next to it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

import numpy as np

from mcroi.analysis import quantile_mcse
from mcroi.engine import cumulative_cash as cumulative_cash

#: Draws re-evaluated for the fan chart (the first ones, in draw order).
FAN_DRAWS = 10_000
FAN_PERCENTILES = (10, 50, 90)


class Fan(NamedTuple):
    """Monthly quantiles of cumulative cash (USD), months 0..H on the last axis."""

    months: np.ndarray  # (H + 1,)
    percentiles: tuple[int, ...]  # e.g. (10, 50, 90)
    quantiles: np.ndarray  # (len(percentiles), H + 1), USD
    mcse: np.ndarray  # (len(percentiles), H + 1), USD: Monte Carlo standard error of each quantile
    draws: int  # draws the quantiles are computed from


def fan(cum: np.ndarray, percentiles: Sequence[int] = FAN_PERCENTILES) -> Fan:
    """Per-month quantiles of cumulative cash ``cum`` (n, H + 1) and their Monte Carlo errors."""
    cum = np.asarray(cum, dtype=float)
    ps = tuple(int(p) for p in percentiles)
    q = np.quantile(cum, np.array(ps) / 100, axis=0)
    se = np.array([[quantile_mcse(cum[:, j], p / 100) for j in range(cum.shape[1])] for p in ps])
    return Fan(np.arange(cum.shape[1]), ps, q, se, cum.shape[0])


def payback_cdf(payback_months: np.ndarray, horizon: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """P(paid back by month m) for m = 0..H, and its binomial standard error.

    ``payback_months`` holds each draw's payback month (``inf``: never within H).
    """
    pb = np.asarray(payback_months, dtype=float)
    m = np.arange(horizon + 1)
    p = np.searchsorted(np.sort(pb), m, side="right") / max(pb.size, 1)
    se = np.sqrt(p * (1 - p) / max(pb.size, 1))
    return m, p, se
