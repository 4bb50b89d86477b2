"""One input's resolved distribution (:class:`Dist`) and its draws: ``ppf``, ``ppf_z``, ``cdf``.

``ppf(dist, u)`` maps uniforms in (0, 1) to draws; truncation rescales the uniform into
``[cdf(lower), cdf(upper)]`` first, so truncated, copula-correlated, Latin-hypercube and Sobol
designs all go through the same code. What each family does is in its record in
:data:`mcroi.priors._families.FAMILIES`; nothing here names a family.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import jax
import jax.numpy as jnp

from mcroi.priors._families import FAMILIES, Family
from mcroi.priors._text import fmt

Array = jax.Array


@dataclass(frozen=True)
class Dist:
    """One input's resolved distribution.

    ``family`` is canonical: constant, normal, lognormal, uniform, triangular, beta, discrete,
    empirical (pert resolves to beta; ``spec`` keeps what the file said). ``params`` are canonical
    numbers: constant (value), normal/lognormal (mu, sigma), uniform (min, max), triangular
    (min, mode, max), beta (alpha, beta, min, max), discrete (values..., then weights...),
    empirical (the data, sorted).
    """

    family: str
    params: tuple[float, ...]
    lower: float = -math.inf
    upper: float = math.inf
    source: str | None = None
    spec: Mapping[str, Any] = field(default_factory=dict)
    file: str = ""

    @property
    def is_constant(self) -> bool:
        return self.family == "constant"

    @property
    def truncated(self) -> bool:
        return math.isfinite(self.lower) or math.isfinite(self.upper)

    def support(self) -> tuple[float, float]:
        """[lower, upper] of the values it can take (truncation included)."""
        fam = FAMILIES.get(self.family)
        if fam is None or fam.support is None:
            raise ValueError(self.family)
        lo, hi = fam.support(self.params)
        if not fam.continuous:
            return lo, hi
        return max(lo, self.lower), min(hi, self.upper)

    def describe(self) -> str:
        """Short human form, e.g. ``lognormal(median=2, gsd=1.5)``."""
        fam = FAMILIES.get(self.family)
        if fam is not None and fam.describe is not None:
            return fam.describe(self.params)
        name = str(self.spec.get("dist", self.family))
        args = ", ".join(f"{k}={fmt(v)}" for k, v in self.spec.items() if k not in ("dist", "source"))
        return f"{name}({args})"

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"family": self.family, "params": list(self.params)}
        if math.isfinite(self.lower):
            out["lower"] = self.lower
        if math.isfinite(self.upper):
            out["upper"] = self.upper
        out["spec"] = dict(self.spec)
        out["source"] = self.source
        return out


def _bounded(dist: Dist, fam: Family | None) -> bool:
    """Whether lower/upper apply to the draws (they never do to a non-continuous family)."""
    return dist.truncated and (fam is None or fam.continuous)


def cdf(dist: Dist, x: float) -> float:
    """CDF of the untruncated family at a host scalar (used for truncation bounds)."""
    if math.isinf(x):
        return 0.0 if x < 0 else 1.0
    fam = FAMILIES.get(dist.family)
    if fam is None or fam.cdf is None:
        raise ValueError(f"cdf is not defined for {dist.family}")
    return fam.cdf(dist.params, x)


def _untruncated_ppf(dist: Dist, u: Array) -> Array:
    fam = FAMILIES.get(dist.family)
    if fam is None or fam.ppf is None:
        raise ValueError(f"unknown family {dist.family}")
    return fam.ppf(dist.params, u)


def ppf(dist: Dist, u: Array) -> Array:
    """Map uniforms ``u`` (any shape, in (0, 1)) to draws of ``dist``, same shape and dtype."""
    if _bounded(dist, FAMILIES.get(dist.family)):
        lo, hi = cdf(dist, dist.lower), cdf(dist, dist.upper)
        u = lo + (hi - lo) * u
        x = _untruncated_ppf(dist, u)
        return jnp.clip(x, dist.lower, dist.upper)
    return _untruncated_ppf(dist, u)


def ppf_z(dist: Dist, z: Array) -> Array:
    """:func:`ppf` at the normal score ``z`` of the uniform (``u = ndtr(z)``), as the copula needs.

    Families with their own ``ppf_z`` (normal, lognormal, beta/PERT) read ``z`` directly when not
    truncated (no ``ndtr``/``ndtri`` round trip, which loses the tails to rounding); the others go
    through ``u = ndtr(z)``.
    """
    fam = FAMILIES.get(dist.family)
    if fam is not None and fam.ppf_z is not None and not _bounded(dist, fam):
        return fam.ppf_z(dist.params, z)
    u = jnp.clip(jax.scipy.special.ndtr(z), jnp.finfo(z.dtype).tiny, 1 - jnp.finfo(z.dtype).epsneg)
    return ppf(dist, u)
