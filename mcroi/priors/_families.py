"""The distribution families: one :class:`Family` record each, collected in :data:`FAMILIES`.

A record says everything mcroi knows about a family: the parameter sets a priors file may give
it, how those become canonical numbers (with the one-line problem when they cannot), its support,
inverse CDF, CDF and docs line. The parser, :class:`mcroi.priors.Dist` and the samplers read only
this registry, so a new family is one record here (plus its tests and its row in
``docs/priors.md``).

Inverse CDFs are pure JAX functions of a uniform ``u`` (any shape, in (0, 1)); truncation,
correlation and the designs are applied around them by :mod:`mcroi.priors._dist`. The beta inverse
(beta and PERT) reads a per-distribution table built on the host with scipy, so the sampling
path stays on the device. Every function here takes the canonical parameters (a tuple of floats).
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
import scipy.special as sps
from jax.scipy.special import ndtri

from mcroi.priors._text import fmt, num

Array = jax.Array
Params = tuple[float, ...]

Z95 = 1.6448536269514722  # standard normal quantile at 0.95

#: Keys a distribution table may hold besides its parameters (unless its family says otherwise).
META = frozenset({"dist", "source", "lower", "upper"})

_OVERFLOW = "the numbers are too large to compute with (a derived parameter or the range overflows); rescale them"


# --------------------------------------------------------------------------- the record


@dataclass(frozen=True)
class Column:
    """A data file's column as the reader found it: its name in messages and its finite numbers."""

    where: str
    values: list[float]


#: How a family reads a data file: (file, column) -> the column, or the one-line problem.
ReadColumn = Callable[[str, str], Column | str]


def _no_files(file: str, column: str) -> str:
    return f"cannot read {file}: data files are read only when a priors file is loaded"


@dataclass(frozen=True)
class Written:
    """One input's table as the file wrote it, for a family's :attr:`Family.canonical` step."""

    params: Mapping[str, Any]  # the table without the family's meta keys, in file order
    lower: float = -math.inf
    upper: float = math.inf
    read_column: ReadColumn = _no_files


@dataclass(frozen=True)
class Canonical:
    """What a table resolves to: a canonical family, its numbers and (if not the table) its spec."""

    family: str
    params: Params
    spec: dict[str, Any] | None = None  # None: the table as written, with lower/upper


@dataclass(frozen=True)
class Family:
    """One distribution family.

    ``canonical`` maps a :class:`Written` table (one of ``param_sets``, already checked) to a
    :class:`Canonical` or to the one-line problem. Families users write that resolve to another
    one (``pert`` -> beta, the ``ci90`` shorthand -> normal/lognormal) have no ``support``,
    ``ppf`` or ``cdf`` of their own. ``ppf`` and ``cdf`` are of the untruncated family; ``ppf_z``
    is the inverse CDF at the normal score ``z = ndtri(u)`` where the family can read it directly
    (no ``ndtr``/``ndtri`` round trip, which loses the tails to rounding).
    """

    name: str
    doc: str  # the family's row in the table of docs/priors.md
    param_sets: tuple[frozenset[str], ...]
    canonical: Callable[[Written], Canonical | str]
    support: Callable[[Params], tuple[float, float]] | None = None
    ppf: Callable[[Params, Array], Array] | None = None
    cdf: Callable[[Params, float], float] | None = None
    ppf_z: Callable[[Params, Array], Array] | None = None
    #: lower/upper truncate it; False (constant, discrete): the reader refuses them and draws ignore them
    continuous: bool = True
    #: the table key that selects this family without ``dist =`` (``value``, ``ci90``), and its example
    key: str | None = None
    key_example: str = ""
    #: keys a table may hold besides the parameters
    meta: frozenset[str] = META
    #: "<this>, not <keys>" when a table holds other keys (a missing one is then for ``canonical``
    #: to report); None: the usual "x takes {a, b} or {c, d} (missing c)"
    unexpected: str | None = None
    #: the values a non-continuous family takes (each is checked against the input's domain)
    values: Callable[[Params], Params] | None = None
    #: short form when not the spec (constant: the value itself)
    describe: Callable[[Params], str] | None = None
    #: never draws the lower end of its support (a lognormal never draws 0)
    open_below: bool = False
    #: what to suggest when it can go below 0 on a non-negative input (normal: "lognormal")
    positive_alternative: str | None = None

    @property
    def written_with_dist(self) -> bool:
        """Whether a file names it as ``dist = "<name>"``."""
        return self.key is None

    @property
    def keys(self) -> frozenset[str]:
        """Every parameter of every accepted set."""
        return frozenset().union(*self.param_sets)


def _sets(*sets: str) -> tuple[frozenset[str], ...]:
    return tuple(frozenset(s.split()) for s in sets)


# --------------------------------------------------------------------------- shared checks


def _numbers(params: Mapping[str, Any]) -> dict[str, float] | str:
    """Every parameter as a finite float, or the problem with the first one that is not."""
    out: dict[str, float] = {}
    for k, v in params.items():
        x = num(v)
        if x is None:
            return f"{k} must be a finite number, got {fmt(v)}"
        out[k] = x
    return out


def _finite(family: str, params: Params, span: tuple[float, float] | None = None) -> Canonical | str:
    """The canonical result, unless a number (or the width of ``span``) overflowed."""
    if not all(math.isfinite(x) for x in params) or (span is not None and not math.isfinite(span[1] - span[0])):
        return _OVERFLOW
    return Canonical(family, params)


def _p5_p95(nums: Mapping[str, float]) -> str | None:
    if nums["p5"] >= nums["p95"]:
        return f"needs p5 < p95, got p5 = {fmt(nums['p5'])}, p95 = {fmt(nums['p95'])}"
    return None


def _min_max(lo: float, hi: float) -> str | None:
    return None if lo < hi else f"needs min < max, got min = {fmt(lo)}, max = {fmt(hi)}"


# --------------------------------------------------------------------------- constant


def _constant(t: Written) -> Canonical | str:
    v = num(t.params["value"])
    if v is None:
        return "value must be a finite number"
    return Canonical("constant", (v,), {"value": v})


def _constant_ppf(p: Params, u: Array) -> Array:
    return jnp.full_like(u, p[0])


# --------------------------------------------------------------------------- normal and lognormal


def _normal(t: Written) -> Canonical | str:
    nums = _numbers(t.params)
    if isinstance(nums, str):
        return nums
    if "sd" in nums:
        if nums["sd"] <= 0:
            return f"sd must be > 0, got {fmt(nums['sd'])}"
        mu, sigma = nums["mean"], nums["sd"]
    else:
        if problem := _p5_p95(nums):
            return problem
        mu = 0.5 * (nums["p5"] + nums["p95"])
        sigma = (nums["p95"] - nums["p5"]) / (2 * Z95)
    return _finite("normal", (mu, sigma))


def _lognormal(t: Written) -> Canonical | str:
    nums = _numbers(t.params)
    if isinstance(nums, str):
        return nums
    if "gsd" in nums:
        if nums["median"] <= 0:
            return f"median must be > 0, got {fmt(nums['median'])}"
        if nums["gsd"] <= 1:
            return f"gsd must be > 1, got {fmt(nums['gsd'])}"
        mu, sigma = math.log(nums["median"]), math.log(nums["gsd"])
    elif "sigma" in nums:
        if nums["sigma"] <= 0:
            return f"sigma must be > 0, got {fmt(nums['sigma'])}"
        mu, sigma = nums["mu"], nums["sigma"]
    else:
        if nums["p5"] <= 0:
            return f"a lognormal needs p5 > 0, got {fmt(nums['p5'])}; use normal for values that can be <= 0"
        if problem := _p5_p95(nums):
            return problem
        lo, hi = math.log(nums["p5"]), math.log(nums["p95"])
        mu, sigma = 0.5 * (lo + hi), (hi - lo) / (2 * Z95)
    return _finite("lognormal", (mu, sigma))


def _ci90(t: Written) -> Canonical | str:
    """``{ ci90 = [p5, p95] }``: a lognormal with that 90 % interval when p5 > 0, else a normal."""
    ci = t.params["ci90"]
    if not (isinstance(ci, list) and len(ci) == 2 and all(num(c) is not None for c in ci)):
        return "ci90 must be two finite numbers [p5, p95]"
    a, b = float(ci[0]), float(ci[1])
    if a >= b:
        return f"ci90 needs p5 < p95, got [{fmt(a)}, {fmt(b)}]; swap them"
    name = "lognormal" if a > 0 else "normal"
    resolved = FAMILIES[name].canonical(Written({"p5": a, "p95": b}, t.lower, t.upper, t.read_column))
    if isinstance(resolved, str):
        return resolved
    return Canonical(resolved.family, resolved.params, {"dist": name, "p5": a, "p95": b})


def _normal_ppf(p: Params, u: Array) -> Array:
    return p[0] + p[1] * ndtri(u)


def _normal_ppf_z(p: Params, z: Array) -> Array:
    return p[0] + p[1] * z


def _normal_cdf(p: Params, x: float) -> float:
    return float(sps.ndtr((x - p[0]) / p[1]))


def _lognormal_ppf(p: Params, u: Array) -> Array:
    return jnp.exp(p[0] + p[1] * ndtri(u))


def _lognormal_ppf_z(p: Params, z: Array) -> Array:
    return jnp.exp(p[0] + p[1] * z)


def _lognormal_cdf(p: Params, x: float) -> float:
    return 0.0 if x <= 0 else float(sps.ndtr((math.log(x) - p[0]) / p[1]))


# --------------------------------------------------------------------------- uniform and triangular


def _uniform(t: Written) -> Canonical | str:
    nums = _numbers(t.params)
    if isinstance(nums, str):
        return nums
    a, b = nums["min"], nums["max"]
    if problem := _min_max(a, b):
        return problem
    return _finite("uniform", (a, b), (a, b))


def _uniform_ppf(p: Params, u: Array) -> Array:
    return p[0] + (p[1] - p[0]) * u


def _uniform_cdf(p: Params, x: float) -> float:
    return min(1.0, max(0.0, (x - p[0]) / (p[1] - p[0])))


def _min_mode_max(t: Written) -> tuple[dict[str, float], float, float, float] | str:
    """The numbers of a min/mode/max table (triangular, PERT), checked."""
    nums = _numbers(t.params)
    if isinstance(nums, str):
        return nums
    a, c, b = nums["min"], nums["mode"], nums["max"]
    if problem := _min_max(a, b):
        return problem
    if not a <= c <= b:
        return f"mode {fmt(c)} is outside [min, max] = [{fmt(a)}, {fmt(b)}]"
    return nums, a, c, b


def _triangular(t: Written) -> Canonical | str:
    checked = _min_mode_max(t)
    if isinstance(checked, str):
        return checked
    _, a, c, b = checked
    return _finite("triangular", (a, c, b), (a, b))


def _triangular_ppf(p: Params, u: Array) -> Array:
    a, c, b = p[0], p[1], p[2]
    fc = (c - a) / (b - a)
    left = a + jnp.sqrt(u * (b - a) * (c - a))
    right = b - jnp.sqrt((1 - u) * (b - a) * (b - c))
    return jnp.where(u < fc, left, right)


def _triangular_cdf(p: Params, x: float) -> float:
    a, c, b = p[0], p[1], p[2]
    if x <= a:
        return 0.0
    if x >= b:
        return 1.0
    if x <= c:
        return (x - a) ** 2 / ((b - a) * (c - a))
    return 1 - (b - x) ** 2 / ((b - a) * (b - c))


# --------------------------------------------------------------------------- beta and PERT

#: Knots of the beta quantile table in normal-score space z = ndtri(u); covers every uniform
#: that 53 random bits can produce (|z| <= 8.3).
_Z_GRID = np.linspace(-8.5, 8.5, 16385)


@functools.lru_cache(maxsize=256)
def _beta_table(a: float, b: float) -> tuple[np.ndarray, np.ndarray]:
    """Beta(a, b) quantiles and their z-derivatives at ``_Z_GRID`` (host side, scipy).

    JAX has no inverse incomplete beta, and iterating on ``betainc`` costs seconds per million
    draws; instead the quantile function is tabulated once per (a, b) by
    ``scipy.special.betaincinv`` and read by cubic Hermite interpolation in z, where it is smooth.
    Agreement with scipy.stats.beta.ppf is ~1e-10 absolute (tested).
    """
    u = sps.ndtr(_Z_GRID)
    x = sps.betaincinv(a, b, u)
    with np.errstate(divide="ignore", over="ignore", invalid="ignore"):
        log_pdf = (a - 1) * np.log(x) + (b - 1) * np.log1p(-x) - sps.betaln(a, b)
        dxdz = np.exp(-0.5 * _Z_GRID**2 - 0.5 * np.log(2 * np.pi) - log_pdf)
    fd = np.gradient(x, _Z_GRID)
    dxdz = np.where(np.isfinite(dxdz) & (x > 0) & (x < 1), dxdz, fd)
    return x, dxdz


def _beta_unit_ppf_z(a: float, b: float, z: Array) -> Array:
    """Inverse regularized incomplete beta at the normal score ``z = ndtri(u)`` (the table's own coordinate)."""
    xs, ds = _beta_table(float(a), float(b))
    dtype = z.dtype
    h = float(_Z_GRID[1] - _Z_GRID[0])
    z0, z1 = float(_Z_GRID[0]), float(_Z_GRID[-1])
    pos = (jnp.clip(z, z0, z1) - z0) / h
    k = jnp.clip(jnp.floor(pos).astype(jnp.int32), 0, _Z_GRID.size - 2)
    t = pos - k.astype(pos.dtype)
    x0, x1 = jnp.asarray(xs, dtype)[k], jnp.asarray(xs, dtype)[k + 1]
    d0, d1 = jnp.asarray(ds, dtype)[k] * h, jnp.asarray(ds, dtype)[k + 1] * h
    t2, t3 = t * t, t * t * t
    x = (2 * t3 - 3 * t2 + 1) * x0 + (t3 - 2 * t2 + t) * d0 + (-2 * t3 + 3 * t2) * x1 + (t3 - t2) * d1
    return jnp.clip(x, 0.0, 1.0).astype(dtype)


def _beta(t: Written) -> Canonical | str:
    nums = _numbers(t.params)
    if isinstance(nums, str):
        return nums
    lo, hi = nums.get("min", 0.0), nums.get("max", 1.0)
    if problem := _min_max(lo, hi):
        return problem
    if "alpha" in nums:
        alpha, beta = nums["alpha"], nums["beta"]
        if alpha <= 0 or beta <= 0:
            return f"alpha and beta must be > 0, got alpha = {fmt(alpha)}, beta = {fmt(beta)}"
    else:
        shape = _beta_shape(nums["mean"], nums["sd"], lo, hi)
        if isinstance(shape, str):
            return shape
        alpha, beta = shape
    if problem := _shape_too_large(alpha, beta):
        return problem
    return _finite("beta", (alpha, beta, lo, hi), (lo, hi))


#: Beta shapes above this are a normal to within 1e-3 of its sd, and the inverse-CDF table
#: cannot be built for them (alpha = 1e20 never returned): refused, with the fix.
MAX_BETA_SHAPE = 1e6


def _shape_too_large(alpha: float, beta: float) -> str | None:
    if max(alpha, beta) > MAX_BETA_SHAPE:
        return (
            f"alpha = {fmt(alpha)}, beta = {fmt(beta)}: shapes above {fmt(MAX_BETA_SHAPE)} cannot be sampled; "
            'such a beta is a normal: use { dist = "normal", mean = ..., sd = ... }'
        )
    return None


def _beta_shape(mean: float, sd: float, lo: float, hi: float) -> tuple[float, float] | str:
    """(alpha, beta) of the beta on [lo, hi] with this mean and sd (method of moments)."""
    m = (mean - lo) / (hi - lo)
    s = sd / (hi - lo)
    if not 0 < m < 1:
        return f"mean {fmt(mean)} must lie strictly inside [{fmt(lo)}, {fmt(hi)}]"
    if s <= 0:
        return f"sd must be > 0, got {fmt(sd)}"
    if not 0 < s * s < math.inf:
        return f"sd {fmt(sd)} is too small or too large relative to [min, max] to compute with"
    nu = m * (1 - m) / (s * s) - 1
    if nu <= 0:
        return (
            f"sd {fmt(sd)} is too large for a beta with mean {fmt(mean)}; "
            f"it must be below {fmt(math.sqrt(m * (1 - m)) * (hi - lo))}"
        )
    return m * nu, (1 - m) * nu


def _pert(t: Written) -> Canonical | str:
    """PERT(min, mode, max, lambda = 4): the beta with alpha = 1 + lambda (c - a)/(b - a) on [a, b]."""
    checked = _min_mode_max(t)
    if isinstance(checked, str):
        return checked
    nums, a, c, b = checked
    lam = nums.get("lambda", 4.0)
    if lam <= 0:
        return f"lambda must be > 0, got {fmt(lam)}"
    alpha = 1 + lam * (c - a) / (b - a)
    beta = 1 + lam * (b - c) / (b - a)
    if problem := _shape_too_large(alpha, beta):
        return f"lambda = {fmt(lam)} gives {problem}"
    return _finite("beta", (alpha, beta, a, b), (a, b))


def _beta_ppf(p: Params, u: Array) -> Array:
    return p[2] + (p[3] - p[2]) * _beta_unit_ppf_z(p[0], p[1], ndtri(u))


def _beta_ppf_z(p: Params, z: Array) -> Array:
    return p[2] + (p[3] - p[2]) * _beta_unit_ppf_z(p[0], p[1], z)


def _beta_cdf(p: Params, x: float) -> float:
    z = (x - p[2]) / (p[3] - p[2])
    return 0.0 if z <= 0 else 1.0 if z >= 1 else float(sps.betainc(p[0], p[1], z))


# --------------------------------------------------------------------------- discrete


def _discrete(t: Written) -> Canonical | str:
    """Values, then weights normalised to sum 1 (equal when not given)."""
    vals, wts = t.params.get("values"), t.params.get("weights")
    if not (isinstance(vals, list) and vals and all(num(x) is not None for x in vals)):
        return "discrete values must be a non-empty list of finite numbers"
    if wts is None:
        wts = [1.0] * len(vals)
    if not (isinstance(wts, list) and len(wts) == len(vals) and all(num(x) is not None for x in wts)):
        return f"discrete weights must be {len(vals)} finite numbers, one per value"
    total = float(sum(float(w) for w in wts))  # overflows to inf, which is refused below
    if any(w < 0 for w in wts) or not 0 < total < math.inf:
        return "discrete weights must be >= 0 with a positive, finite sum"
    return Canonical("discrete", tuple(float(x) for x in vals) + tuple(float(w) / total for w in wts))


def _discrete_values(p: Params) -> Params:
    return p[: len(p) // 2]


def _discrete_ppf(p: Params, u: Array) -> Array:
    k = len(p) // 2
    values = jnp.asarray(p[:k], u.dtype)
    cum = jnp.cumsum(jnp.asarray(p[k:], u.dtype))
    idx = jnp.searchsorted(cum, u, side="right")
    return values[jnp.clip(idx, 0, k - 1)]


def _discrete_support(p: Params) -> tuple[float, float]:
    vals = _discrete_values(p)
    return min(vals), max(vals)


# --------------------------------------------------------------------------- empirical


def _empirical(t: Written) -> Canonical | str:
    """``{ dist = "empirical", file = "x.csv", column = "c" }``: the column's numbers, sorted.

    The path is relative to the priors file that names it (the reader's ``read_column`` knows
    where that is); sampling is by the inverse of the data's piecewise-linear CDF.
    """
    data_file, column = t.params.get("file"), t.params.get("column")
    if not (isinstance(data_file, str) and data_file and isinstance(column, str) and column):
        return 'empirical needs file = "data.csv" (relative to this priors file) and column = "name"'
    read = t.read_column(data_file, column)
    if isinstance(read, str):
        return read
    values = list(read.values)
    if len(values) < 2 or min(values) == max(values):
        return f"{read.where} column {column!r} needs at least two distinct numbers, has {len(values)} values"
    values.sort()
    if max(values[0], t.lower) >= min(values[-1], t.upper):
        return (
            f"the truncation [{fmt(t.lower)}, {fmt(t.upper)}] leaves no data inside "
            f"[{fmt(values[0])}, {fmt(values[-1])}]"
        )
    spec: dict[str, Any] = {"dist": "empirical", "file": data_file, "column": column, "n": len(values)}
    if math.isfinite(t.lower):
        spec["lower"] = t.lower
    if math.isfinite(t.upper):
        spec["upper"] = t.upper
    return Canonical("empirical", tuple(values), spec)


def empirical_positions(n: int) -> np.ndarray:
    """Hazen plotting positions ``(i - 0.5) / n``, i = 1..n: the CDF assigned to the sorted data."""
    return (np.arange(1, n + 1) - 0.5) / n


def _empirical_ppf(data: Params, u: Array) -> Array:
    """Inverse of the data's piecewise-linear CDF.

    The k-th smallest of n values sits at probability ``(k - 0.5) / n`` (Hazen); in between, the
    quantile is linear in ``u``; below the first and above the last position it is clamped to the
    smallest and largest value. So draws never leave the observed range, the median of the draws
    is the sample median, and with many values this converges to the data's distribution.
    """
    xs = jnp.asarray(np.asarray(data, dtype=float), u.dtype)
    ps = jnp.asarray(empirical_positions(len(data)), u.dtype)
    return jnp.interp(u, ps, xs)


def _empirical_cdf(p: Params, x: float) -> float:
    """The CDF whose inverse :func:`_empirical_ppf` is: 0 below the data, 1 above it."""
    if x < p[0]:
        return 0.0
    if x >= p[-1]:
        return 1.0
    ps = empirical_positions(len(p))
    xs = np.asarray(p)
    hi = int(np.searchsorted(xs, x, side="right"))  # first value > x (ties: last position)
    lo = hi - 1
    if xs[hi] == xs[lo]:
        return float(ps[lo])
    return float(ps[lo] + (ps[hi] - ps[lo]) * (x - xs[lo]) / (xs[hi] - xs[lo]))


# --------------------------------------------------------------------------- the registry


def _first_last(p: Params) -> tuple[float, float]:
    return p[0], p[-1]


#: Every family, by name. The order is the order of the "use one of ..." list in messages.
FAMILIES: dict[str, Family] = {
    f.name: f
    for f in [
        Family(
            "constant",
            '| `{ value = 2.5, source = "..." }` | a constant with its source |',
            _sets("value"),
            _constant,
            support=lambda p: (p[0], p[0]),
            ppf=_constant_ppf,
            ppf_z=_constant_ppf,
            continuous=False,
            key="value",
            key_example="value = ...",
            meta=frozenset({"source"}),
            unexpected="a constant takes only value and source",
            describe=lambda p: fmt(p[0]),
        ),
        Family(
            "normal",
            '| `{ dist = "normal", mean = m, sd = s }` or `{ dist = "normal", p5 = a, p95 = b }` | normal |',
            _sets("mean sd", "p5 p95"),
            _normal,
            support=lambda p: (-math.inf, math.inf),
            ppf=_normal_ppf,
            cdf=_normal_cdf,
            ppf_z=_normal_ppf_z,
            positive_alternative="lognormal",
        ),
        Family(
            "lognormal",
            '| `{ dist = "lognormal", median = m, gsd = g }`, `{ ..., mu = m, sigma = s }` or '
            "`{ ..., p5 = a, p95 = b }` | lognormal (`gsd` > 1 is the geometric sd; `mu`, `sigma` of the log) |",
            _sets("median gsd", "mu sigma", "p5 p95"),
            _lognormal,
            support=lambda p: (0.0, math.inf),
            ppf=_lognormal_ppf,
            cdf=_lognormal_cdf,
            ppf_z=_lognormal_ppf_z,
            open_below=True,
        ),
        Family(
            "uniform",
            '| `{ dist = "uniform", min = a, max = b }` | uniform |',
            _sets("min max"),
            _uniform,
            support=_first_last,
            ppf=_uniform_ppf,
            cdf=_uniform_cdf,
        ),
        Family(
            "triangular",
            '| `{ dist = "triangular", min = a, mode = c, max = b }` | triangular |',
            _sets("min mode max"),
            _triangular,
            support=_first_last,
            ppf=_triangular_ppf,
            cdf=_triangular_cdf,
        ),
        Family(
            "pert",
            '| `{ dist = "pert", min = a, mode = c, max = b, lambda = 4 }` | PERT: beta with '
            "alpha = 1 + lambda (c - a)/(b - a), beta = 1 + lambda (b - c)/(b - a) on [a, b] |",
            _sets("min mode max", "min mode max lambda"),
            _pert,
        ),
        Family(
            "beta",
            '| `{ dist = "beta", alpha = a, beta = b }` or `{ dist = "beta", mean = m, sd = s }`, '
            "optionally `min`, `max` | beta on [0, 1] or on [min, max] |",
            _sets("alpha beta", "alpha beta min max", "mean sd", "mean sd min max"),
            _beta,
            support=lambda p: (p[2], p[3]),
            ppf=_beta_ppf,
            cdf=_beta_cdf,
            ppf_z=_beta_ppf_z,
        ),
        Family(
            "discrete",
            '| `{ dist = "discrete", values = [...], weights = [...] }` | discrete (weights default to equal) |',
            _sets("values", "values weights"),
            _discrete,
            support=_discrete_support,
            ppf=_discrete_ppf,
            continuous=False,
            values=_discrete_values,
        ),
        Family(
            "empirical",
            '| `{ dist = "empirical", file = "x.csv", column = "c" }` | the data\'s own distribution '
            "(inverse CDF of the sorted data; path relative to the priors file) |",
            _sets("file column"),
            _empirical,
            support=_first_last,
            ppf=_empirical_ppf,
            cdf=_empirical_cdf,
            unexpected="empirical takes file, column (and source, lower, upper)",
        ),
        Family(
            "ci90",
            "| `{ ci90 = [a, b] }` | shorthand: 90 % interval, lognormal when a > 0, else normal |",
            _sets("ci90"),
            _ci90,
            key="ci90",
            key_example="ci90 = [p5, p95]",
            meta=frozenset({"source", "lower", "upper"}),
            unexpected="ci90 takes no other parameters",
        ),
    ]
}
