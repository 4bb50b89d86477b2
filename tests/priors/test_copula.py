"""Gaussian copula: Spearman targets, exact marginals, Higham repair, strict refusal, matrix form."""

from __future__ import annotations

import math

import jax.numpy as jnp
import numpy as np
import pytest
from scipy import stats

from mcroi import engine, priors
from tests.helpers import reference_doc

N = 100_000


def doc_with(correlations: list[dict], strict: bool = False) -> dict:
    doc = reference_doc(
        price={
            "usd_per_mtok_output": {"dist": "lognormal", "median": 3.0, "gsd": 1.5, "source": "test"},
            "annual_decline": {"dist": "uniform", "min": 0.2, "max": 0.8, "source": "test"},
        },
        utilization={"steady_state": {"dist": "beta", "alpha": 2.0, "beta": 3.0, "source": "test"}},
        power={"usd_per_kwh": {"dist": "triangular", "min": 0.05, "mode": 0.07, "max": 0.12, "source": "test"}},
    )
    doc["correlation"] = correlations
    if strict:
        doc["scenario"] = {"strict": True}
    return doc


P_OUT, UTIL, DECL, KWH = (
    "price.usd_per_mtok_output",
    "utilization.steady_state",
    "price.annual_decline",
    "power.usd_per_kwh",
)
SCIPY = {
    P_OUT: stats.lognorm(s=math.log(1.5), scale=3.0),
    UTIL: stats.beta(2.0, 3.0),
    DECL: stats.uniform(0.2, 0.6),
    KWH: stats.triang(c=(0.07 - 0.05) / 0.07, loc=0.05, scale=0.07),
}
TARGETS = {(P_OUT, UTIL): 0.6, (DECL, UTIL): -0.4, (P_OUT, KWH): 0.3}


@pytest.fixture(scope="module")
def correlated_draws() -> dict[str, np.ndarray]:
    ps = priors.from_dict(doc_with([{"between": list(k), "spearman": v} for k, v in TARGETS.items()]))
    out = engine.sample(ps, 0, jnp.arange(N))
    return {k: np.asarray(v) for k, v in out.items()}


def test_achieved_spearman_within_0_02_of_target(correlated_draws):
    d = correlated_draws
    for (a, b), target in TARGETS.items():
        rho = stats.spearmanr(d[a], d[b]).statistic
        assert abs(rho - target) < 0.02, (a, b, rho, target)
    # pairs not named stay uncorrelated (SE of Spearman ~ 1/sqrt(N) = 0.003)
    assert abs(stats.spearmanr(d[DECL], d[KWH]).statistic) < 0.02


def test_marginals_unchanged_by_the_copula(correlated_draws):
    # KS against scipy's own distributions: the copula moves draws between ranks, not their values
    for name, dist in SCIPY.items():
        p = stats.kstest(correlated_draws[name], dist.cdf).pvalue
        assert p > 1e-3, (name, p)


def test_spearman_to_pearson_is_the_gaussian_rank_identity():
    # closed form (Kruskal 1958): a bivariate normal with Pearson r has Spearman (6/pi) asin(r/2)
    rho_s = np.linspace(-0.99, 0.99, 41)
    r = priors.spearman_to_pearson(rho_s)
    np.testing.assert_allclose(6 / np.pi * np.arcsin(r / 2), rho_s, atol=1e-12)
    np.testing.assert_allclose(priors.pearson_to_spearman(r), rho_s, atol=1e-12)
    assert priors.spearman_to_pearson(0.0) == 0.0
    np.testing.assert_allclose(priors.spearman_to_pearson([-1.0, 1.0]), [-1.0, 1.0], atol=1e-15)


def test_nearest_correlation_matches_highams_example():
    # Higham (2002), IMA J. Numer. Anal. 22:329, the tridiagonal example (also NAG g02aa)
    a = np.array([[2, -1, 0, 0], [-1, 2, -1, 0], [0, -1, 2, -1], [0, 0, -1, 2]], float)
    expected = np.array(
        [
            [1.0000, -0.8084, 0.1916, 0.1068],
            [-0.8084, 1.0000, -0.6562, 0.1916],
            [0.1916, -0.6562, 1.0000, -0.8084],
            [0.1068, 0.1916, -0.8084, 1.0000],
        ]
    )
    x = priors.nearest_correlation(a)
    np.testing.assert_allclose(x, expected, atol=1e-4)
    np.testing.assert_allclose(np.diag(x), 1.0, atol=1e-12)
    assert np.linalg.eigvalsh(x).min() > 0
    np.linalg.cholesky(x)


INCOHERENT = [
    {"between": [P_OUT, UTIL], "spearman": 0.9},
    {"between": [UTIL, DECL], "spearman": 0.9},
    {"between": [P_OUT, DECL], "spearman": -0.9},
]


def test_non_psd_is_repaired_with_a_warning_listing_each_entry():
    ps = priors.from_dict(doc_with(INCOHERENT))
    with pytest.warns(priors.CorrelationRepairWarning) as rec:
        m = priors.correlation_matrix(ps)
    msg = str(rec[0].message)
    for a, b in [(P_OUT, UTIL), (UTIL, DECL), (P_OUT, DECL)]:
        assert f"{a} ~ {b}" in msg or f"{b} ~ {a}" in msg
    assert "+0.900 ->" in msg and "-0.900 ->" in msg
    assert np.linalg.eigvalsh(m).min() > 0
    np.testing.assert_allclose(np.diag(m), 1.0, atol=1e-12)
    np.testing.assert_allclose(m, m.T, atol=0)
    # the repair moves the requested matrix (in Pearson space) by no more than a plain eigenvalue clip
    names = ps.names
    target = priors.spearman_to_pearson(priors.target_spearman(names, ps.correlations))
    w, v = np.linalg.eigh(target)
    clip = (v * np.maximum(w, 1e-10)) @ v.T
    d = np.sqrt(np.diag(clip))
    clip = clip / np.outer(d, d)
    assert np.linalg.norm(m - target) <= np.linalg.norm(clip - target) + 1e-9
    # and sampling goes through (with the same warning)
    with pytest.warns(priors.CorrelationRepairWarning):
        engine.sample(ps, 0, jnp.arange(10))


def test_non_psd_is_refused_at_load_under_strict():
    with pytest.raises(priors.PriorsError) as e:
        priors.from_dict(doc_with(INCOHERENT, strict=True))
    assert len(e.value.lines) == 1
    line = e.value.lines[0]
    assert line.startswith("<dict>: correlation = ") and "strict" in line and "positive semi-definite" in line


def test_psd_under_strict_loads_and_samples_without_warning():
    ps = priors.from_dict(doc_with([{"between": [P_OUT, UTIL], "spearman": 0.5}], strict=True))
    assert engine.copula_factor(ps) is not None


def test_matrix_form_equals_pairwise_form():
    names = [P_OUT, UTIL, DECL]
    mat = [[1, 0.6, 0.0], [0.6, 1, -0.4], [0.0, -0.4, 1]]
    a = priors.from_dict(doc_with([{"names": names, "matrix": mat, "source": "test"}]))
    b = priors.from_dict(
        doc_with(
            [
                {"between": [P_OUT, UTIL], "spearman": 0.6},
                {"between": [P_OUT, DECL], "spearman": 0.0},
                {"between": [UTIL, DECL], "spearman": -0.4},
            ]
        )
    )
    np.testing.assert_array_equal(priors.correlation_matrix(a), priors.correlation_matrix(b))


@pytest.mark.parametrize(
    ("entry", "needle"),
    [
        ({"names": [P_OUT, UTIL], "matrix": [[1, 0.5], [0.4, 1]]}, "symmetric"),
        ({"names": [P_OUT, UTIL], "matrix": [[1, 0.5], [0.5, 0.9]]}, "diagonal must be 1"),
        ({"names": [P_OUT, UTIL], "matrix": [[1, 0.5]]}, "2 rows of 2"),
        ({"names": [P_OUT, UTIL], "matrix": [[1, 1.0], [1.0, 1]]}, "strictly between"),
        ({"names": [P_OUT, "price.usd_per_mtok_outptu"], "matrix": [[1, 0.5], [0.5, 1]]}, "not in this scenario"),
        ({"between": [P_OUT, "nope.x"], "spearman": 0.5}, "not in this scenario"),
        ({"between": [P_OUT, P_OUT], "spearman": 0.5}, "itself"),
        ({"between": [P_OUT, UTIL], "spearman": 1.0}, "strictly between"),
    ],
)
def test_bad_correlations_are_one_line_errors(entry, needle):
    with pytest.raises(priors.PriorsError) as e:
        priors.from_dict(doc_with([entry]))
    assert len(e.value.lines) == 1
    assert e.value.lines[0].startswith("<dict>: correlation = ") and needle in e.value.lines[0]


def test_a_later_entry_for_the_same_pair_replaces_the_earlier():
    ps = priors.from_dict(
        doc_with([{"between": [P_OUT, UTIL], "spearman": 0.5}, {"between": [UTIL, P_OUT], "spearman": -0.2}])
    )
    assert len(ps.correlations) == 1 and ps.correlations[0].spearman == -0.2
