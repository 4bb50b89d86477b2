"""Every family against its scipy.stats twin: ppf at many points (jitted and not), KS on draws."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest
import scipy.stats as st

from mcroi import engine, priors
from tests.helpers import ANY_SIGN, FAMILY_IDS, NONNEG, U, family_dist, parse_one
from tests.helpers import FAMILY_CASES as CASES

K, X = NONNEG, ANY_SIGN  # an input >= 0, and one that may be negative (the discount rate)


@pytest.mark.parametrize("jit", [False, True], ids=["eager", "jit"])
@pytest.mark.parametrize(("label", "raw", "ppf", "key"), CASES, ids=FAMILY_IDS)
def test_ppf_matches_scipy(label, raw, ppf, key, jit):
    d = family_dist(raw, key)
    f = (lambda u: priors.ppf(d, u)) if not jit else jax.jit(lambda u: priors.ppf(d, u))
    got = np.asarray(f(jnp.asarray(U)))
    want = ppf(U)
    scale = max(1.0, float(np.nanmax(np.abs(want))))
    np.testing.assert_allclose(got, want, rtol=1e-8, atol=1e-9 * scale)


@pytest.mark.parametrize(("label", "raw", "ppf", "key"), CASES[::3], ids=[c[0] for c in CASES[::3]])
def test_ppf_float32(label, raw, ppf, key):
    d = family_dist(raw, key)
    got = np.asarray(priors.ppf(d, jnp.asarray(U[:-2], jnp.float32)))
    assert got.dtype == np.float32
    np.testing.assert_allclose(got, ppf(U[:-2]), rtol=2e-4, atol=1e-5)


def test_discrete_matches_scipy_rv_discrete():
    d = parse_one({"dist": "discrete", "values": [36, 48, 60], "weights": [1, 2, 1]}, "finance.useful_life_months")
    got = np.asarray(priors.ppf(d, jnp.asarray(U)))
    want = st.rv_discrete(values=([36, 48, 60], [0.25, 0.5, 0.25])).ppf(U)
    np.testing.assert_array_equal(got, want)


def test_ci90_shorthand_hits_its_p5_and_p95():
    for raw, key in (({"ci90": [2.0, 6.0]}, K), ({"ci90": [-0.05, 0.15]}, X)):
        d = family_dist(raw, key)
        p5, p95 = np.asarray(priors.ppf(d, jnp.asarray([0.05, 0.95])))
        np.testing.assert_allclose([p5, p95], raw["ci90"], rtol=1e-12, atol=1e-14)


# Goodness of fit of sampled draws. With 18 independent KS tests at alpha = 1e-3, the chance
# that a correct implementation fails this test is below 2 %... per run of the whole set it is
# 1 - (1 - 1e-3)^18 ~ 1.8 %; the seed is fixed, so the outcome is deterministic.
@pytest.mark.parametrize(("label", "raw", "ppf", "key"), CASES[:-2], ids=[c[0] for c in CASES[:-2]])
def test_sampled_draws_pass_ks(label, raw, ppf, key):
    d = family_dist(raw, key)
    ps = priors.PriorSet("t", "", {key: d})
    draws = np.asarray(engine.sample(ps, 0, jnp.arange(20000))[key])
    family = {k: v for k, v in raw.items()}
    # the scipy twin as a cdf, from its ppf by a monotone inverse on a fine grid
    grid_u = np.linspace(1e-7, 1 - 1e-7, 200001)
    grid_x = ppf(grid_u)
    cdf = lambda x: np.interp(x, grid_x, grid_u)  # noqa: E731
    assert family  # the case has parameters
    res = st.kstest(draws, cdf)
    assert res.pvalue > 1e-3, (label, res)
