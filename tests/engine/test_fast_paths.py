"""The shortcuts the engine takes for speed, each against the slow form it replaces.

Geometric sequences instead of per-month powers, the batch's months-major equations, inverse
CDFs read in normal-score space under a copula, the IRR's duration start and error bound,
host-side bootstrap counts, the cached design step, fetching a chunk shard by shard, and
streaming statistics binned on the device.
"""

from __future__ import annotations

import dataclasses
from types import SimpleNamespace

import jax
import jax.numpy as jnp
import numpy as np
import numpy_financial as npf
import pytest

from mcroi import analysis, engine, pipeline
from mcroi.priors import Dist
from tests.helpers import default_priors

PATH_INPUTS = ("price.volatility_annual", "price.jumps_per_year", "price.jump_size")


@pytest.mark.parametrize("log_base", [0.0, -0.11552453009332421, -0.0578, 0.00797, -0.7, -np.inf])
@pytest.mark.parametrize("horizon", [1, 11, 12, 13, 60, 97])
def test_powers_equal_direct_powers(log_base, horizon):
    k = np.arange(horizon + 1)
    with np.errstate(invalid="ignore"):
        want = np.where(k == 0, 1.0, np.exp(log_base * k))
    got = np.asarray(engine.powers(jnp.asarray(log_base), horizon))
    np.testing.assert_allclose(got, want, rtol=1e-14, atol=0)


def test_contract_factors_equal_the_contract_formulas():
    m = np.arange(1, 61)
    for decline in (0.0, 0.3, 0.85, 1.0):
        want = (1 - decline) ** ((m - 1) / 12)
        np.testing.assert_allclose(
            np.asarray(engine.price_factors(jnp.asarray(decline), 60)), want, rtol=1e-14, atol=1e-300
        )
    for rate in (-0.5, 0.0, 0.1, 2.0):
        want = (1 + rate) ** (-np.arange(61) / 12)
        np.testing.assert_allclose(np.asarray(engine.discount_factors(jnp.asarray(rate), 60)), want, rtol=1e-14)


# ppf_z == ppf(Phi(z)) for every family: tests/priors/test_distributions.py::test_ppf_z_is_ppf_of_phi (from the registry)


def test_copula_leaves_uncorrelated_inputs_untouched():
    """Only the inputs a correlation names go through the copula; the others keep their uniform."""

    ps = default_priors()
    assert ps.correlations
    factor = engine.copula_factor(ps)
    block = {ps.names[i] for i in engine.correlated_block(factor)}
    assert block == {n for c in ps.correlations for n in (c.a, c.b)}
    u = jnp.asarray(np.random.default_rng(0).uniform(size=(len(ps.names), 512)))
    with_c = engine.transform(ps, u, factor)
    without = engine.transform(ps, u, None)
    same = {n: np.array_equal(np.asarray(with_c[n]), np.asarray(without[n])) for n in ps.names}
    assert all(same[n] for n in ps.names if n not in block)
    # the second input of each pair is mixed (the first keeps its own normal score)
    assert not all(same[n] for n in block)


@pytest.fixture(scope="module")
def per_draw() -> SimpleNamespace:
    """The default scenario's first 1500 draws (seed 5) through the one-draw equations, vmapped
    eagerly (not jitted: the reference form), with their monthly cashflows and IRRs."""
    ps = default_priors()
    knots = np.asarray(ps.curve, float) if ps.curve else None
    h = ps.horizon_months
    inp = engine.sample(ps, 5, jnp.arange(1500, dtype=jnp.int64))
    one, cf = jax.vmap(lambda d: engine.evaluate_without_irr(d, h, knots))(inp)
    return SimpleNamespace(ps=ps, knots=knots, h=h, inp=inp, one=one, cf=np.asarray(cf), irr=engine.irr_batch(cf))


def test_irr_matches_numpy_financial_on_the_default_scenario(per_draw):
    """Duration start + quadratic error bound: the default scenario's IRRs agree with numpy-financial."""
    got, cf = np.asarray(per_draw.irr), per_draw.cf
    rng = np.random.default_rng(1)
    for i in rng.choice(len(cf), 60, replace=False):
        want = npf.irr(cf[i])
        if np.isnan(want):
            assert np.isnan(got[i])
            continue
        np.testing.assert_allclose(got[i], want, rtol=1e-9, atol=1e-12)


def test_batch_equations_equal_the_per_draw_equations(per_draw):
    """The engine's months-major batch gives each draw the outputs of the one-draw equations.

    The batch lays monthly arrays out (months, draws) and sums over axis 0; one draw at a time
    (vmapped, as sensitivity designs and ``monthly`` use them) they are (months,). Same contract,
    same numbers, up to the order of floating-point sums.
    """
    inp, h, knots, one = per_draw.inp, per_draw.h, per_draw.knots, per_draw.one
    batch = engine.evaluate_batch(inp, h, knots)
    for k in engine.Outputs._fields:
        if k in ("irr_annual", "equity_irr_annual"):  # solved by evaluate_batch only
            continue
        got, want = np.asarray(getattr(batch, k)), np.asarray(getattr(one, k))
        assert got.shape == want.shape, k
        np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-6, err_msg=k)
    want_irr = np.expm1(12 * np.log1p(np.asarray(per_draw.irr)))
    np.testing.assert_allclose(np.asarray(batch.irr_annual), want_irr, rtol=1e-9, atol=1e-12)
    # and one draw of the batch, alone, gives the same outputs
    i = 321
    alone = engine.evaluate({k: v[i] for k, v in inp.items()}, h, knots)
    for k in engine.Outputs._fields:
        np.testing.assert_allclose(
            np.asarray(getattr(alone, k)), np.asarray(getattr(batch, k))[i], rtol=1e-12, atol=1e-6
        )


def test_fetch_rows_copies_each_shard_into_place():
    """A chunk sharded over devices lands in the run's array row for row (and only m rows)."""
    from jax.sharding import NamedSharding
    from jax.sharding import PartitionSpec as P

    mesh = engine.make_mesh(None)
    ndev = mesh.devices.size
    x = np.arange(8 * ndev * 3, dtype=np.float64).reshape(8 * ndev, 3)
    arr = jax.device_put(x, NamedSharding(mesh, P("draw")))
    assert len(arr.addressable_shards) == ndev
    dst = np.full((100, 3), -1.0)
    m = x.shape[0] - 3  # a last, partial chunk
    engine.fetch_rows(dst, arr, 10, m)
    np.testing.assert_array_equal(dst[10 : 10 + m], x[:m])
    assert np.all(dst[:10] == -1) and np.all(dst[10 + m :] == -1)
    np.testing.assert_array_equal(engine.host_rows(arr, 5), x[:5])


def test_design_step_is_cached_and_matches_simulate():
    """The same function object reuses its compiled step; design points equal simulate's draws.

    Designs hold a price path at its median (no shock, no jump: docs/model.md), so the comparison
    uses the default scenario without its path inputs."""

    full = default_priors()
    ps = dataclasses.replace(full, inputs={k: v for k, v in full.inputs.items() if k not in PATH_INPUTS})
    assert "price.path" in engine.derived_names(full) and not engine.derived_names(ps)
    n = 3000
    keys = engine.name_keys(engine.canonicalize_key(11), ps.names)
    with jax.enable_x64(True):
        u = np.asarray(engine.uniforms(keys, jnp.arange(n, dtype=jnp.int64), jnp.float64))
    before = engine.design_cache_size()
    a = engine.evaluate_inputs(ps, u, output="npv_usd")
    after = engine.design_cache_size()
    b = engine.evaluate_inputs(ps, u, output="npv_usd")
    assert engine.design_cache_size() == after <= before + 1
    assert np.array_equal(a, b)
    run = engine.run(ps, n, seed=11)
    np.testing.assert_allclose(a, run.outputs["npv_usd"], rtol=1e-12, atol=1e-3)
    np.testing.assert_allclose(
        run.inputs[:, ps.names.index("capex.usd_per_gpu")],
        engine.transform(ps, jnp.asarray(u), engine.copula_factor(ps))["capex.usd_per_gpu"],
        rtol=1e-14,
    )  # eager vs compiled exp
    engine.clear_caches()
    assert engine.design_cache_size() == 0


def test_device_binning_is_the_sketchs():
    """A streaming run bins each chunk on the device with the sketch's own binning: same slots as
    the host's, on edge values and on a run's draws."""
    sk = engine.QuantileSketch()
    edge = [0.0, 1e-10, sk.min_abs, 2e-9, 1.0, 1.001, 123.456, 1e24, 2e24, 1e300, np.inf]
    x = np.array(edge + [-v for v in edge] + list(np.random.default_rng(6).lognormal(0, 8, 2000)))
    with jax.enable_x64(True):
        on_device = np.asarray(sk.slots(jnp.asarray(x), jnp))
    np.testing.assert_array_equal(on_device, sk.slots(x))

    ps = pipeline.load_priors(None)
    draws = engine.run(ps, 2500, seed=3)
    streamed = engine.run(ps, 2500, seed=3, keep="summary", subsample=10)
    assert streamed.stream is not None
    for k in engine.SCALAR_OUTPUTS:
        host = engine.QuantileSketch()
        host.add(draws.outputs[k])
        np.testing.assert_array_equal(streamed.stream.outputs[k].sketch.counts, host.counts, err_msg=k)
        assert streamed.stream.outputs[k].sketch.n_overflow == host.n_overflow


def test_batched_contract_in_designs_equals_the_vmapped_one():
    """Sensitivity designs run the contract on whole tiles (engine.Batched), months-major; each
    design point gets what the one-draw equations, vmapped, give it."""
    ps = default_priors()
    knots = np.asarray(ps.curve, float) if ps.curve else None
    fn = analysis.contract_fn(ps)
    assert isinstance(fn, engine.Batched) and analysis.contract_fn(ps) is fn
    u = np.random.default_rng(4).uniform(size=(len(ps.names), 2500))
    per_draw = lambda d: engine.evaluate_without_irr(d, ps.horizon_months, knots)[0]  # noqa: E731
    # every output at once (one compiled step for each form; the IRR is NaN in both)
    got = engine.evaluate_inputs(ps, u, fn)
    want = engine.evaluate_inputs(ps, u, per_draw)
    for k in engine.Outputs._fields:
        g, w = np.asarray(getattr(got, k)), np.asarray(getattr(want, k))
        assert g.shape == w.shape and g.shape[0] == 2500, k
        np.testing.assert_allclose(g, w, rtol=1e-12, atol=1e-6, err_msg=k)
    # one output selected inside the compiled step, and the NPV stacked with the annual cashflows
    npv = engine.evaluate_inputs(ps, u, fn, output="npv_usd")
    np.testing.assert_allclose(npv, got.npv_usd, rtol=1e-12)
    stacked = engine.evaluate_inputs(ps, u, pipeline.stacked_fn(ps, "npv_usd"))
    assert stacked.shape == (2500, 1 + -(-ps.horizon_months // 12))
    np.testing.assert_allclose(stacked[:, 0], npv, rtol=1e-12)


def test_generic_function_through_design_output_selection():
    ps = analysis.make_priors({"a": Dist("uniform", (0.0, 1.0)), "b": Dist("uniform", (0.0, 2.0))})

    def fn(d):
        return {"s": d["a"] + d["b"], "p": d["a"] * d["b"]}

    u = np.random.default_rng(2).uniform(size=(2, 100))
    got = engine.evaluate_inputs(ps, u, fn, output="p")
    np.testing.assert_allclose(got, u[0] * 2 * u[1], rtol=1e-15)
