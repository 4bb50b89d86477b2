"""Streaming summaries: a mergeable quantile sketch plus exact moments and probabilities (NumPy only).

A run with ``keep="summary"`` never holds per-draw arrays. Each scalar output feeds an
:class:`OutputStream`: a log-spaced histogram (the DDSketch idea, dense bins) for quantiles,
Chan's pairwise update for the mean and variance, and plain counts for NaN/inf. Two streams of
disjoint draws merge exactly (counts add), so chunks, devices and processes can be combined in
any order and give the same result.

Error bound
-----------
Bin ``i`` covers magnitudes ``(gamma^(i-1), gamma^i]`` with ``gamma = (1 + alpha) / (1 - alpha)``
and reports ``2 gamma^i / (gamma + 1)``, which is within relative error ``alpha`` of every value
in the bin. A streamed quantile is the same interpolation of order statistics that
``numpy.quantile`` (method ``linear``) performs, on these representatives, so::

    |q_stream - q_exact| <= alpha * max(|x_(k)|, |x_(k+1)|) + min_abs

where ``x_(k), x_(k+1)`` are the two order statistics that ``q_exact`` interpolates. Default
``alpha = 1e-3`` (0.1 %), ``min_abs = 1e-9`` (smaller magnitudes count as 0). Magnitudes above
``max_abs = 1e24`` fall in the top bin (their count is reported as ``n_overflow``; the bound does
not hold for quantiles that land there). When infinities are present the quantile is the
``inverted_cdf`` order statistic, as in :func:`mcroi.analysis.describe`.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from mcroi.engine._outputs import irr_for_summaries

ALPHA = 1e-3
MIN_ABS = 1e-9
MAX_ABS = 1e24


@dataclass
class QuantileSketch:
    """Log-spaced histogram of magnitudes, one half per sign, plus zero and ±inf buckets.

    ``counts`` is laid out in value order: ``[-inf, negative bins (largest magnitude first), 0,
    positive bins (smallest first), +inf]``, so a cumulative sum gives ranks directly.
    """

    alpha: float = ALPHA
    min_abs: float = MIN_ABS
    max_abs: float = MAX_ABS
    #: one count per slot, ``2 * nb + 3`` of them (set from the parameters)
    counts: np.ndarray = field(init=False)
    n_overflow: int = 0

    def __post_init__(self) -> None:
        self.gamma = (1 + self.alpha) / (1 - self.alpha)
        self._lg = math.log(self.gamma)
        self.i_min = math.floor(math.log(self.min_abs) / self._lg)
        self.i_max = math.ceil(math.log(self.max_abs) / self._lg)
        self.nb = self.i_max - self.i_min + 1
        self.counts = np.zeros(2 * self.nb + 3, dtype=np.int64)
        rep = 2 * self.gamma ** np.arange(self.i_min, self.i_max + 1, dtype=float) / (self.gamma + 1)
        self.rep = np.concatenate([[-np.inf], -rep[::-1], [0.0], rep, [np.inf]])

    @property
    def n(self) -> int:
        return int(self.counts.sum())

    def slots(self, x: Any, xp: Any = np) -> Any:
        """The slot of :attr:`counts` that each non-NaN value of ``x`` falls in (same shape, int64).

        The one binning of the sketch: :meth:`add` bins with NumPy and the engine bins each chunk
        on its device with ``xp=jax.numpy`` (then adds the counts with
        :meth:`RunStream.add_stats`), so the two cannot drift apart.
        """
        a = xp.abs(x)
        with np.errstate(divide="ignore", invalid="ignore"):
            i = xp.ceil(xp.log(xp.maximum(a, self.min_abs)) / self._lg).astype(xp.int64)
        b = xp.clip(i, self.i_min, self.i_max) - self.i_min  # 0 .. nb - 1
        zero = self.nb + 1
        slot = xp.where(x > 0, zero + 1 + b, zero - 1 - b)
        slot = xp.where(a < self.min_abs, zero, slot)
        slot = xp.where(x == xp.inf, 2 * self.nb + 2, slot)
        return xp.where(x == -xp.inf, 0, slot)

    def add(self, x: np.ndarray) -> None:
        """Add non-NaN values ``x`` (any shape)."""
        x = np.asarray(x, dtype=float).ravel()
        x = x[~np.isnan(x)]
        if x.size:
            self.n_overflow += int(np.count_nonzero(np.isfinite(x) & (np.abs(x) > self.max_abs)))
            self.counts += np.bincount(self.slots(x), minlength=self.counts.size)

    def merge(self, other: QuantileSketch) -> None:
        if (other.alpha, other.min_abs, other.max_abs) != (self.alpha, self.min_abs, self.max_abs):
            raise ValueError("cannot merge sketches with different parameters")
        self.counts += other.counts
        self.n_overflow += other.n_overflow

    def _order_stat(self, cum: np.ndarray, k: np.ndarray) -> np.ndarray:
        return self.rep[np.searchsorted(cum, k, side="right")]

    def quantile(self, q: np.ndarray | float) -> np.ndarray:
        """Quantiles like ``numpy.quantile`` (``linear``; ``inverted_cdf`` when infinities are present)."""
        q = np.asarray(q, dtype=float)
        n = self.n
        if n == 0:
            return np.full(q.shape, np.nan)
        cum = np.cumsum(self.counts)
        if self.counts[0] or self.counts[-1]:
            k = np.clip(np.ceil(n * q).astype(np.int64) - 1, 0, n - 1)
            return self._order_stat(cum, k)
        h = q * (n - 1)
        k = np.floor(h).astype(np.int64)
        lo = self._order_stat(cum, k)
        hi = self._order_stat(cum, np.minimum(k + 1, n - 1))
        with np.errstate(invalid="ignore"):
            return np.where(hi == lo, lo, lo + (h - k) * (hi - lo))

    def tail_mean(self, threshold: float) -> float:
        """Mean of values ``<= threshold`` (bins whose representative is <= threshold)."""
        sel = (self.rep <= threshold) & (self.counts > 0)
        c, r = self.counts[sel], self.rep[sel]
        if c.sum() == 0:
            return math.nan
        if np.isinf(r[0]):
            return float(r[0])
        return float((r * c).sum() / c.sum())


@dataclass
class Moments:
    """Count, mean and sum of squared deviations of finite values; merged with Chan's formula."""

    n: int = 0
    mean: float = 0.0
    m2: float = 0.0

    def add(self, x: np.ndarray) -> None:
        x = np.asarray(x, dtype=float).ravel()
        x = x[np.isfinite(x)]
        if x.size:
            m = float(x.mean())
            self.merge(Moments(int(x.size), m, float(((x - m) ** 2).sum())))

    def merge(self, o: Moments) -> None:
        if o.n == 0:
            return
        n = self.n + o.n
        d = o.mean - self.mean
        self.mean += d * o.n / n
        self.m2 += o.m2 + d * d * self.n * o.n / n
        self.n = n

    @property
    def sd(self) -> float:
        return math.sqrt(self.m2 / (self.n - 1)) if self.n > 1 else (0.0 if self.n == 1 else math.nan)


@dataclass
class OutputStream:
    """Everything :func:`mcroi.analysis.describe` reports, accumulated chunk by chunk."""

    n: int = 0
    n_nan: int = 0
    n_inf: int = 0
    moments: Moments = field(default_factory=Moments)
    sketch: QuantileSketch = field(default_factory=QuantileSketch)

    def add(self, x: np.ndarray) -> None:
        x = np.asarray(x, dtype=float).ravel()
        self.n += x.size
        self.n_nan += int(np.isnan(x).sum())
        self.n_inf += int(np.isinf(x).sum())
        self.moments.add(x)
        self.sketch.add(x)

    def merge(self, o: OutputStream) -> None:
        self.n += o.n
        self.n_nan += o.n_nan
        self.n_inf += o.n_inf
        self.moments.merge(o.moments)
        self.sketch.merge(o.sketch)

    def quantile_mcse(self, p: float) -> float:
        """Delta-method MCSE of the ``p`` quantile (as :func:`mcroi.analysis.quantile_mcse`)."""
        n = self.sketch.n
        if n < 2:
            return math.nan
        s = math.sqrt(p * (1 - p) / n)
        # With many draws p +- s can fall in one bin of the sketch (which returns a bin's
        # representative value), giving 0. Widen the window by 4x until the two quantiles are
        # several bins apart, and scale back: the density is then estimated over a wider range.
        k = 1.0
        while True:
            lo, hi = self.sketch.quantile(np.array([max(p - k * s, 0.0), min(p + k * s, 1.0)]))
            if not (math.isfinite(lo) and math.isfinite(hi)):
                return math.nan
            resolved = hi - lo > 8 * self.sketch.alpha * max(abs(lo), abs(hi))
            if resolved or k >= 4**6 or p - k * s <= 0 or p + k * s >= 1:
                return 0.5 * float(hi - lo) / k
            k *= 4


@dataclass
class Counter:
    """An exact probability: ``hits`` out of ``n``."""

    hits: int = 0
    n: int = 0

    def add(self, mask: np.ndarray, valid: np.ndarray | None = None) -> None:
        mask = np.asarray(mask, dtype=bool)
        if valid is not None:
            mask = mask[valid]
        self.hits += int(mask.sum())
        self.n += int(mask.size)

    def merge(self, o: Counter) -> None:
        self.hits += o.hits
        self.n += o.n

    def result(self) -> dict[str, float]:
        if self.n == 0:
            return {"p": math.nan, "mcse": math.nan}
        p = self.hits / self.n
        return {"p": p, "mcse": math.sqrt(p * (1 - p) / self.n)}


@dataclass
class RunStream:
    """Streaming summary of a whole run: one :class:`OutputStream` per scalar output plus risk counters."""

    names: tuple[str, ...]
    horizon_months: int
    outputs: dict[str, OutputStream] = field(default_factory=dict)
    p_npv_negative: Counter = field(default_factory=Counter)
    p_no_payback: Counter = field(default_factory=Counter)
    p_roi_below_1: Counter = field(default_factory=Counter)

    def __post_init__(self) -> None:
        for k in self.names:
            self.outputs.setdefault(k, OutputStream())

    @property
    def draws(self) -> int:
        return self.outputs[self.names[0]].n if self.names else 0

    def add(self, chunk: Mapping[str, np.ndarray]) -> None:
        """Add one chunk of scalar outputs (each (n,))."""
        for k in self.names:
            if k == "irr_annual" and "net_roi" in chunk:
                self.outputs[k].add(irr_for_summaries(np.asarray(chunk[k], float), np.asarray(chunk["net_roi"])))
            else:
                self.outputs[k].add(chunk[k])
        npv = np.asarray(chunk["npv_usd"], dtype=float)
        self.p_npv_negative.add(npv < 0)
        self.p_no_payback.add(~(np.asarray(chunk["payback_months"]) <= self.horizon_months))
        roi = np.asarray(chunk["roi_multiple"], dtype=float)
        self.p_roi_below_1.add(roi < 1, ~np.isnan(roi))

    def add_stats(self, stats: Mapping[str, np.ndarray]) -> None:
        """Add one chunk's statistics as reduced on the device (the engine's ``_runner._chunk_stats``)."""
        for k in self.names:
            a = stats[k]
            s = self.outputs[k]
            s.n += int(a[0])
            s.n_nan += int(a[1])
            s.n_inf += int(a[2])
            s.moments.merge(Moments(int(a[3]), float(a[4]), float(a[5])))
            s.sketch.n_overflow += int(a[6])
            s.sketch.counts += np.rint(a[7:]).astype(np.int64)
        r = stats["_risk"]
        for i, c in enumerate((self.p_npv_negative, self.p_no_payback, self.p_roi_below_1)):
            c.merge(Counter(int(r[2 * i]), int(r[2 * i + 1])))

    def merge(self, o: RunStream) -> None:
        for k in self.names:
            self.outputs[k].merge(o.outputs[k])
        self.p_npv_negative.merge(o.p_npv_negative)
        self.p_no_payback.merge(o.p_no_payback)
        self.p_roi_below_1.merge(o.p_roi_below_1)

    # -- serialization (for merging across processes) -------------------------------------
    def to_array(self) -> np.ndarray:
        """Flatten into one float64 vector (counts are exact below 2^53)."""
        parts: list[np.ndarray] = []
        for k in self.names:
            s = self.outputs[k]
            parts.append(
                np.array([s.n, s.n_nan, s.n_inf, s.moments.n, s.moments.mean, s.moments.m2, s.sketch.n_overflow], float)
            )
            parts.append(s.sketch.counts.astype(float))
        for c in (self.p_npv_negative, self.p_no_payback, self.p_roi_below_1):
            parts.append(np.array([c.hits, c.n], float))
        return np.concatenate(parts)

    @classmethod
    def from_array(cls, names: tuple[str, ...], horizon_months: int, a: np.ndarray) -> RunStream:
        rs = cls(tuple(names), horizon_months)
        pos = 0
        for k in rs.names:
            s = rs.outputs[k]
            head = a[pos : pos + 7]
            pos += 7
            s.n, s.n_nan, s.n_inf = int(head[0]), int(head[1]), int(head[2])
            s.moments = Moments(int(head[3]), float(head[4]), float(head[5]))
            s.sketch.n_overflow = int(head[6])
            m = s.sketch.counts.size
            s.sketch.counts = np.rint(a[pos : pos + m]).astype(np.int64)
            pos += m
        for c in (rs.p_npv_negative, rs.p_no_payback, rs.p_roi_below_1):
            c.hits, c.n = int(a[pos]), int(a[pos + 1])
            pos += 2
        return rs


def describe_stream(
    s: OutputStream, percentiles: tuple[int, ...], mcse_percentiles: tuple[int, ...]
) -> dict[str, float]:
    """The same keys as :func:`mcroi.analysis.describe`, from a stream."""
    out: dict[str, float] = {"n": float(s.n), "n_nan": float(s.n_nan), "n_inf": float(s.n_inf)}
    m = s.moments
    if m.n:
        out["mean"] = m.mean
        out["sd"] = m.sd
        out["mcse_mean"] = m.sd / math.sqrt(m.n)
    else:
        out["mean"] = out["sd"] = out["mcse_mean"] = math.nan
    qs = s.sketch.quantile(np.array(percentiles) / 100)
    for p, v in zip(percentiles, qs, strict=True):
        out[f"p{p}"] = float(v)
    for p in mcse_percentiles:
        out[f"mcse_p{p}"] = s.quantile_mcse(p / 100)
    return out


def npv_errors(rs: RunStream) -> dict[str, float]:
    """Monte Carlo standard errors used by convergence stopping.

    Mean, P5, P50 and P95 of NPV relative to the NPV standard deviation (its spread), and the
    absolute MCSE of P(NPV < 0).
    """
    s = rs.outputs["npv_usd"]
    sd = s.moments.sd
    spread = sd if sd and math.isfinite(sd) and sd > 0 else math.nan
    out = {"mean": s.moments.sd / math.sqrt(max(s.moments.n, 1)) / spread}
    for p in (5, 50, 95):
        out[f"p{p}"] = s.quantile_mcse(p / 100) / spread
    out["p_npv_negative"] = rs.p_npv_negative.result()["mcse"]
    return out


def summary_dict(rs: RunStream) -> dict[str, Any]:
    """Parameters of the sketch, for the manifest."""
    sk = QuantileSketch()
    return {
        "quantiles": "log-spaced histogram (mergeable)",
        "relative_error_bound": sk.alpha,
        "zero_threshold_abs": sk.min_abs,
        "max_abs": sk.max_abs,
        "n_overflow": {k: rs.outputs[k].sketch.n_overflow for k in rs.names},
        "moments_and_probabilities": "exact (merged counts and Chan's pairwise mean/variance)",
    }
