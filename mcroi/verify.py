"""Verification core: rebuild a run's priors from its manifest and recompute chosen draws.

A draw depends only on (seed, input name, draw index) and the resolved priors, so any subset of
draws can be recomputed on its own: the uniforms of the chosen indices go through the same
copula, inverse CDFs and contract as in :func:`mcroi.engine.run`, and in float64 on one backend
the result is bit-identical to what the run stored. No file access here (see ``cli_verify``).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from mcroi import engine
from mcroi.priors import Correlation, Dist, PriorsError, PriorSet
from mcroi.sampling import canonicalize_key, copula_factor, name_keys, transform, uniforms

#: Draws recomputed per compiled batch (working memory is O(batch)).
VERIFY_BATCH = 2048
#: ``irr_annual`` tolerance, relative to ``1 + |irr|``: the IRR solve stops when its step in the
#: monthly log-rate is below 1e-12, and which draws share a batch changes how its unconverged lanes
#: iterate; 12 months turn 1e-12 into ~1.2e-11 on ``1 + irr``. 1e-10 leaves a margin.
IRR_TOL = 1e-10


def irr_close(stored: np.ndarray, recomputed: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(bit-identical, within IRR_TOL) masks for two ``irr_annual`` arrays."""
    a, b = np.asarray(stored), np.asarray(recomputed)
    same = same_bits(a, b)
    with np.errstate(invalid="ignore"):
        near = np.isfinite(a) & np.isfinite(b) & (np.abs(a - b) <= IRR_TOL * (1 + np.abs(a)))
    return same, same | near


def priors_from_resolved(resolved: Mapping[str, Any], files: Sequence[str] = (), where: str = "manifest.json") -> PriorSet:
    """Rebuild a :class:`PriorSet` from :meth:`PriorSet.resolved` (the manifest's ``priors``).

    The result hashes to the same :meth:`PriorSet.sha256` as the original when nothing was
    changed, which is how a run sent without its priors files can still be checked.

    Raises
    ------
    PriorsError
        When the stored priors are malformed (one line naming ``where`` and the key).
    """
    try:
        inputs: dict[str, Dist] = {}
        for name, d in resolved["inputs"].items():
            inputs[name] = Dist(
                family=str(d["family"]),
                params=tuple(float(x) for x in d["params"]),
                lower=float(d.get("lower", -math.inf)),
                upper=float(d.get("upper", math.inf)),
                source=d.get("source"),
                spec=dict(d.get("spec", {})),
                file=where,
            )
        curve = resolved.get("throughput.curve")
        return PriorSet(
            name=str(resolved["name"]),
            description=str(resolved.get("description", "")),
            inputs=inputs,
            horizon_months=int(resolved["finance.horizon_months"]),
            curve=tuple((float(x), float(y)) for x, y in curve) if curve else None,
            curve_source=resolved.get("curve_source"),
            correlations=tuple(Correlation(str(a), str(b), float(r)) for a, b, r in resolved.get("correlations", [])),
            files=tuple(files),
        )
    except (KeyError, TypeError, ValueError, AttributeError) as e:
        raise PriorsError([f"{where}: priors = {e!s:.80}: the stored resolved priors are malformed"]) from None


def select_indices(draws: int, first: int = 1000, n_random: int = 1000, rng_seed: int | None = None) -> tuple[np.ndarray, int]:
    """The draws to check: ``0 .. first-1`` plus ``n_random`` distinct others at random.

    Returns the sorted indices (int64) and the seed that chose them (print it to repeat a check).
    """
    if rng_seed is None:
        rng_seed = int(np.random.SeedSequence().entropy % 2**63)  # type: ignore[operator]
    head = np.arange(min(first, draws), dtype=np.int64)
    rest = draws - head.size
    k = min(n_random, rest)
    rng = np.random.default_rng(rng_seed)
    tail = head.size + rng.choice(rest, size=k, replace=False).astype(np.int64) if k else np.zeros(0, np.int64)
    return np.sort(np.concatenate([head, tail])), rng_seed


def recompute(
    priors: PriorSet,
    seed: int,
    index: np.ndarray,
    precision: str = "float64",
    batch: int = VERIFY_BATCH,
) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """Inputs (k, n_inputs) and outputs (k, ...) of the draws at absolute indices ``index`` (k,).

    Uses the engine's own pieces (``name_keys``, ``uniforms``, ``transform``,
    ``engine.batch_function``) on an index array; batches are padded to one shape so the function
    compiles once (per scenario, seed and precision, in this process).
    """
    index = np.asarray(index, dtype=np.int64)
    k = index.size
    with jax.enable_x64(True):
        draws = _draws_fn(priors, seed, precision)
        size = batch
        xs: list[np.ndarray] = []
        outs: list[dict[str, np.ndarray]] = []
        for start in range(0, k, size):
            part = index[start : start + size]
            m = part.size
            padded = np.concatenate([part, np.zeros(size - m, np.int64)])
            x, out = draws(jnp.asarray(padded))
            xs.append(np.asarray(x)[:m])
            outs.append({name: np.asarray(v)[:m] for name, v in out.items()})
    if not outs:
        return np.zeros((0, len(priors.names))), {}
    return np.concatenate(xs), {name: np.concatenate([o[name] for o in outs]) for name in outs[0]}


_FNS: dict[tuple[str, int, str], Any] = {}


def _draws_fn(priors: PriorSet, seed: int, precision: str) -> Any:
    """The jitted ``idx -> (inputs (k, n_inputs), outputs)``; cached so that one scenario compiles once."""
    cache_key = (priors.sha256(), int(seed), precision)
    if cache_key in _FNS:
        return _FNS[cache_key]
    dtype = engine.PRECISIONS[precision]
    keys = name_keys(canonicalize_key(seed), priors.names)
    factor = copula_factor(priors)
    chol = None if factor is None else jnp.asarray(factor)
    fn = engine.batch_function(priors)

    @jax.jit
    def draws(idx: jax.Array) -> tuple[jax.Array, dict[str, jax.Array]]:
        inp = transform(priors, uniforms(keys, idx, dtype), chol)
        return jnp.stack([inp[n] for n in priors.names], axis=1), fn(inp)._asdict()

    if len(_FNS) > 8:
        _FNS.clear()
    _FNS[cache_key] = draws
    return draws


@dataclass
class Mismatch:
    """One variable whose recomputed values differ from the stored ones."""

    variable: str
    n_different: int
    n_checked: int
    first_draw: int
    stored: float
    recomputed: float
    detail: str = ""


@dataclass
class Comparison:
    """Result of a bit-for-bit comparison over the checked draws."""

    n_draws: int
    variables: list[str] = field(default_factory=list)
    mismatches: list[Mismatch] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.mismatches


def same_bits(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Elementwise: identical bit patterns, or both NaN (any payload). Shapes must match."""
    a, b = np.asarray(a), np.asarray(b)
    if a.dtype != b.dtype:
        return np.zeros(a.shape, dtype=bool)
    ia = a.view(np.dtype(f"u{a.dtype.itemsize}"))
    ib = b.view(np.dtype(f"u{b.dtype.itemsize}"))
    return (ia == ib) | (np.isnan(a) & np.isnan(b))


def compare(
    index: np.ndarray,
    names: Sequence[str],
    stored_inputs: np.ndarray,
    stored_outputs: Mapping[str, np.ndarray],
    inputs: np.ndarray,
    outputs: Mapping[str, np.ndarray],
) -> Comparison:
    """Compare stored and recomputed draws bit for bit, per input and per output."""
    res = Comparison(n_draws=int(np.asarray(index).size))

    def one(var: str, s: np.ndarray, r: np.ndarray) -> None:
        res.variables.append(var)
        if s.shape != r.shape:
            res.mismatches.append(Mismatch(var, res.n_draws, res.n_draws, -1, math.nan, math.nan, f"shape {s.shape} vs {r.shape}"))
            return
        if s.dtype != r.dtype:
            res.mismatches.append(Mismatch(var, res.n_draws, res.n_draws, -1, math.nan, math.nan, f"dtype {s.dtype} vs {r.dtype}"))
            return
        eq = same_bits(s, r)
        if eq.all():
            return
        bad_rows = ~eq.reshape(eq.shape[0], -1).all(axis=1)
        row = int(np.flatnonzero(bad_rows)[0])
        col = int(np.flatnonzero(~eq.reshape(eq.shape[0], -1)[row])[0])
        sv = float(s.reshape(s.shape[0], -1)[row, col])
        rv = float(r.reshape(r.shape[0], -1)[row, col])
        res.mismatches.append(Mismatch(var, int(bad_rows.sum()), res.n_draws, int(np.asarray(index)[row]), sv, rv))

    for j, name in enumerate(names):
        one(f"inputs[{name}]", np.asarray(stored_inputs)[:, j], np.asarray(inputs)[:, j])
    for name, r in outputs.items():
        if name not in stored_outputs:
            res.mismatches.append(Mismatch(name, res.n_draws, res.n_draws, -1, math.nan, math.nan, "missing from results.nc"))
            continue
        one(name, np.asarray(stored_outputs[name]), np.asarray(r))
    return res
