"""Uniforms keyed by (seed, input name, draw index), and their map to input values.

The uniform of input ``x`` at draw ``i`` is one Threefry-2x32 hash of the counter ``i`` under the
key ``fold_in(key(seed), crc32(x))``. It depends on nothing else, so chunk size, device count and
the presence of other inputs never change a draw, and two scenarios that share an input name
share its draws exactly (common random numbers).
"""

from __future__ import annotations

import zlib
from collections.abc import Sequence

import jax
import jax.numpy as jnp
import numpy as np
from jax.extend.random import threefry_2x32
from jax.typing import DTypeLike

from mcroi.engine._devices import OptionError
from mcroi.priors import PriorSet, correlation_matrix, ppf, ppf_z

Array = jax.Array


#: The largest seed: the generator's key is a 64-bit integer.
MAX_SEED = 2**63 - 1


def canonicalize_key(seed: int | Array) -> Array:
    """An int seed (0 .. 2^63 - 1) or a typed/raw PRNG key -> a typed key."""
    if isinstance(seed, int | np.integer):
        if not 0 <= int(seed) <= MAX_SEED:
            raise OptionError(f"seed = {int(seed)}: give a whole number from 0 to {MAX_SEED:,} (2^63 - 1)")
        return jax.random.key(int(seed))
    seed = jnp.asarray(seed) if not isinstance(seed, jax.Array) else seed
    if jnp.issubdtype(seed.dtype, jax.dtypes.prng_key):
        return seed
    return jax.random.wrap_key_data(seed)


def name_keys(root: Array, names: Sequence[str]) -> Array:
    """Raw uint32 key pairs, shape (len(names), 2): ``fold_in(root, crc32(name))``."""
    if not names:
        return jnp.zeros((0, 2), jnp.uint32)
    keys = [jax.random.key_data(jax.random.fold_in(root, zlib.crc32(n.encode()) & 0x7FFFFFFF)) for n in names]
    return jnp.stack(keys).astype(jnp.uint32)


#: The largest uniform below 1 in each precision (the top bin's centre rounds up to 1 otherwise).
ONE_BELOW_64 = float(np.nextafter(1.0, 0.0))
ONE_BELOW_32 = np.float32(np.nextafter(np.float32(1.0), np.float32(0.0)))


def uniforms(keys: Array, index: Array, dtype: DTypeLike) -> Array:
    """Uniforms in the open interval (0, 1), shape (len(keys), len(index)).

    ``index`` holds absolute draw indices (int64 where x64 is on). float64 uses 53 random bits,
    float32 uses 24; both are centred in their bins, so 0 never occurs. The top bin's centre,
    ``1 - 2^-25`` in float32 (and ``1 - 2^-54`` in float64), is not representable and rounds to 1,
    where an inverse CDF is infinite: it is held to the largest number below 1 (one draw in 2^24
    in float32; every other draw is unchanged).
    """
    index = jnp.asarray(index)
    if index.dtype.itemsize == 8:
        hi = (index >> 32).astype(jnp.uint32)
    else:
        hi = jnp.zeros(index.shape, jnp.uint32)
    lo = index.astype(jnp.uint32)
    n = index.shape[0]
    counts = jnp.concatenate([hi, lo])

    def one(k: Array) -> Array:
        out = threefry_2x32(k, counts)
        w0, w1 = out[:n], out[n:]
        if jnp.dtype(dtype) == jnp.float64:
            bits = (w0.astype(jnp.uint64) << 21) | (w1 >> 11).astype(jnp.uint64)
            u = (bits.astype(jnp.float64) + 0.5) * (2.0**-53)
            return jnp.minimum(u, ONE_BELOW_64)
        u32 = ((w0 >> 8).astype(jnp.float32) + 0.5) * jnp.float32(2.0**-24)
        return jnp.minimum(u32, ONE_BELOW_32)

    return jax.vmap(one)(keys)


def correlated_block(copula: np.ndarray) -> np.ndarray:
    """Indices of the inputs that a lower Cholesky factor actually mixes (rows/columns off the identity)."""
    off = np.asarray(copula) - np.diag(np.diag(copula))
    return np.flatnonzero((off != 0).any(axis=0) | (off != 0).any(axis=1))


def transform(priors: PriorSet, u: Array, copula: Array | np.ndarray | None = None) -> dict[str, Array]:
    """Map uniforms (n_inputs, n) to a dict of input arrays in contract order.

    ``copula``, when given, is the lower Cholesky factor of the Gaussian-copula correlation matrix
    over the inputs (identity where uncorrelated). The correlated inputs' uniforms go to normal
    scores ``z = ndtri(u)``, are mixed by the factor, and then map to each marginal through its
    inverse CDF in normal-score space (:func:`mcroi.priors.ppf_z`), so every marginal stays
    exact; uncorrelated inputs are not touched.
    """
    zs: dict[int, Array] = {}
    if copula is not None:
        factor = np.asarray(copula)
        block = correlated_block(factor)
        if block.size:
            z = jax.scipy.special.ndtri(jnp.stack([u[i] for i in block]))
            mixed = jnp.asarray(factor[np.ix_(block, block)], u.dtype) @ z
            zs = {int(i): mixed[j] for j, i in enumerate(block)}
    return {name: ppf_z(d, zs[i]) if i in zs else ppf(d, u[i]) for i, (name, d) in enumerate(priors.inputs.items())}


def sample(priors: PriorSet, seed: int | Array, index: Array, dtype: DTypeLike = jnp.float64) -> dict[str, Array]:
    """Input values at the given absolute draw indices (host convenience; the engine inlines this)."""
    keys = name_keys(canonicalize_key(seed), priors.names)
    return transform(priors, uniforms(keys, index, dtype), copula_factor(priors))


def copula_factor(priors: PriorSet) -> np.ndarray | None:
    """Cholesky factor of the Pearson correlation of the Gaussian copula, or None if uncorrelated.

    Spearman ``rho_s`` maps to the normal-scores Pearson ``2 sin(pi rho_s / 6)``. A matrix that is
    not positive definite is repaired to the nearest correlation matrix (Higham 2002).
    """
    if not priors.correlations:
        return None
    corr = correlation_matrix(priors)
    return np.linalg.cholesky(corr)


# ----------------------------------------------------------------------------- contract v2
#: (v2) Random quantities of a draw that no prior gives, kept with the inputs: the contract
#: customer's default month and the price path (ranked as one input, the mean of its log).
DEFAULT_MONTH = "contract.default_month"
PRICE_PATH = "price.path"


def has_price_path(priors: PriorSet) -> bool:
    """Whether the scenario's price moves on a path (a volatility or jumps are given)."""
    return "price.volatility_annual" in priors.inputs or "price.jumps_per_year" in priors.inputs


def derived_names(priors: PriorSet) -> list[str]:
    """(v2) The random quantities kept with the inputs after them: ``contract.default_month`` where a
    default rate is given, ``price.path`` where the price moves on a path."""
    out = []
    if "contract.default_per_year" in priors.inputs:
        out.append(DEFAULT_MONTH)
    if has_price_path(priors):
        out.append(PRICE_PATH)
    return out


def stored_names(priors: PriorSet) -> list[str]:
    """The ``input`` coordinate of a run: the priors' inputs, then :func:`derived_names`."""
    return list(priors.names) + derived_names(priors)


def path_keys(root: Array, horizon: int, price_path: bool = True) -> Array:
    """(v2) Raw key pairs of the per-draw random numbers that are not inputs, shape (k, 2):
    ``contract.default`` (one), then ``price.path.z`` and ``price.path.w`` for months 1..H.

    The key of month ``m`` is ``fold_in(fold_in(root, crc32(name)), m)``; the counter is the draw
    index, as for every input. Adding months or inputs changes no other number.
    """
    keys = [name_keys(root, ["contract.default"])]
    if price_path:
        months = jnp.arange(1, horizon + 1, dtype=jnp.uint32)
        for name in ("price.path.z", "price.path.w"):
            base = jax.random.fold_in(root, zlib.crc32(name.encode()) & 0x7FFFFFFF)
            keys.append(jax.vmap(lambda m, b=base: jax.random.key_data(jax.random.fold_in(b, m)))(months))
    return jnp.concatenate(keys).astype(jnp.uint32)


def add_path_draws(priors: PriorSet, inp: dict[str, Array], keys: Array, index: Array, dtype: DTypeLike) -> None:
    """(v2) Put a tile's default months and price-path shocks into ``inp`` (keys from :func:`path_keys`).

    ``contract.default_month = b + ceil(-12 ln(w_c) / default_per_year)`` (+inf at a rate of 0);
    ``price.path.z`` (H, n) standard normal and ``price.path.w`` (H, n) uniform, for the model.
    """
    if "contract.default_per_year" in priors.inputs:
        w_c = uniforms(keys[:1], index, dtype)[0]
        rate = inp["contract.default_per_year"]
        b = jnp.floor(inp["schedule.build_months"]) if "schedule.build_months" in inp else 0.0
        months = jnp.ceil(-12 * jnp.log(w_c) / jnp.where(rate > 0, rate, 1.0))
        inp[DEFAULT_MONTH] = jnp.where(rate > 0, b + months, jnp.inf)
    if has_price_path(priors):
        inp.update(path_shocks(keys[1:], index, dtype))


def path_shocks(keys: Array, index: Array, dtype: DTypeLike) -> dict[str, Array]:
    """(v2) The price path's ``z`` (standard normal) and ``w`` (uniform), (H, n) each, of draws ``index``
    from the last ``2 H`` keys of :func:`path_keys`."""
    h = keys.shape[0] // 2
    u = uniforms(keys, index, dtype)
    return {"price.path.z": jax.scipy.special.ndtri(u[:h]), "price.path.w": u[h:]}


def run_keys(priors: PriorSet, seed: int | Array) -> Array:
    """Every key pair a run's step needs: the inputs' (:func:`name_keys`), then (v2) :func:`path_keys`."""
    root = canonicalize_key(seed)
    keys = name_keys(root, priors.names)
    if derived_names(priors):  # v2: a default month or a price path
        keys = jnp.concatenate([keys, path_keys(root, priors.horizon_months, has_price_path(priors))])
    return keys
