"""The market check: what the cluster earns per GPU-hour against what the market pays to rent that GPU.

A buyer could rent the same GPU for ``market.gpu_hour_usd`` an hour instead of buying it, and a seller
could rent it out for that instead of selling tokens. A case whose year-1 token revenue per GPU-hour is
several times the rent assumes something the rental market does not see: scarce capacity, contracted
demand, a premium model. The check states the ratio with its percentiles and flags it when the median
is above :data:`FLAG_RATIO`; it neither changes nor rejects the case.

Built from the run's summary (so it works alike for ``keep="draws"`` and streamed runs) and the rent's
draws (the kept draws; the rent is an input, usually a constant or a narrow range).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np

from mcroi.analysis._summaries import headline_means, quantile

#: The median revenue-to-rent ratio above which the check flags the case (issue 14: "far above 1").
FLAG_RATIO = 2.0
RENT_INPUT = "market.gpu_hour_usd"
MEANING = (
    "token revenue of the first 12 operating months per GPU-hour, against what the market pays to rent "
    "that GPU for an hour (market.gpu_hour_usd); a buyer could rent the GPU for the rent, so a ratio far "
    "above 1 needs a reason: scarce capacity, contracted demand, a premium model"
)


def _stats(d: Mapping[str, Any] | None) -> dict[str, float] | None:
    if not d:
        return None
    out = {k: _num(d.get(k)) for k in ("p10", "p50", "p90", "mcse_p50")}
    out["n_nan"] = _num(d.get("n_nan"))
    return None if math.isnan(out["p50"]) else out


def _num(v: Any) -> float:
    return math.nan if v is None else float(v)


def rent_stats(names: list[str], inputs: np.ndarray) -> dict[str, float] | None:
    """P10 / P50 / P90 of the rent's draws; None when the priors do not give a rent."""
    if RENT_INPUT not in names or not inputs.size:
        return None
    x = np.asarray(inputs[:, names.index(RENT_INPUT)], dtype=float)
    x = x[np.isfinite(x)]
    if not x.size:
        return None
    q = quantile(x, [0.1, 0.5, 0.9])
    return {"p10": float(q[0]), "p50": float(q[1]), "p90": float(q[2])}


def market_check(outputs: Mapping[str, Mapping[str, Any]], rent: dict[str, float] | None) -> dict[str, Any] | None:
    """The market check of one scenario from its summary's ``outputs`` and :func:`rent_stats`.

    Returns None for a run without ``revenue_per_gpu_hour_usd`` (one written before contract v2).
    ``flagged`` is None when no rent is given: the revenue is then compared with nothing.
    """
    revenue = _stats(outputs.get("revenue_per_gpu_hour_usd"))
    if revenue is None and "revenue_per_gpu_hour_usd" not in outputs:
        return None
    ratio = _stats(outputs.get("revenue_to_rent_ratio")) if rent is not None else None
    flagged = None if ratio is None else bool(ratio["p50"] > FLAG_RATIO)
    return {
        "meaning": MEANING,
        "revenue_per_gpu_hour_usd": revenue,
        "market_gpu_hour_usd": rent,
        "revenue_to_rent_ratio": ratio,
        "flag_ratio": FLAG_RATIO,
        "flagged": flagged,
    }


def finish_summary(summary: dict[str, Any], names: list[str], inputs: np.ndarray) -> dict[str, Any]:
    """A run's summary as summary.json holds it: with its market check, and no mean that is no headline.

    One function for every writer and for ``mcroi verify``, so a summary recomputed from the stored
    draws matches the written one bit for bit.
    """
    out = dict(summary)
    out["market_check"] = market_check(summary["outputs"], rent_stats(names, inputs))
    out["outputs"] = headline_means(summary["outputs"])
    return out
