"""Value of information: EVPI against closed forms, EVPPI of the only input, of an idle input, of a sum."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from scipy.stats import norm

from mcroi import analysis, pipeline, priors
from tests.helpers import reference_doc

DRAWS = 20_000
#: NPV of the reference case is affine in the launch output price p: NPV = SLOPE * p - OFFSET.
SLOPE = 60 * 1.314e6  # 60 months x 1.314e12 tokens / 1e6
OFFSET = 5e7 + 60 * 73_000  # capex + 60 months of energy
PRICE_MEAN, PRICE_SD = 0.75, 0.1


def normal_price_doc() -> dict[str, Any]:
    """The reference case, all inputs constant but a normal output price (truncated 7.5 SDs below its
    mean, at 0, which the input's domain needs and no draw reaches) and a market rent that enters no NPV."""
    return reference_doc(
        price={"usd_per_mtok_output": {"dist": "normal", "mean": PRICE_MEAN, "sd": PRICE_SD, "lower": 0}},
        market={"gpu_hour_usd": {"dist": "uniform", "min": 1, "max": 3}},
    )


def write_run(folder: Path, doc: dict[str, Any], seed: int = 11) -> Path:
    ps = priors.from_dict(doc, file="t.toml")
    out = folder / "run"
    pipeline.simulate(ps, draws=DRAWS, seed=seed, out=out, plots=False)
    return out


@pytest.fixture(scope="module")
def normal_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_run(tmp_path_factory.mktemp("voi"), normal_price_doc())


@pytest.fixture(scope="module")
def normal_voi(normal_run: Path) -> dict[str, Any]:
    return pipeline.value_of_information(normal_run, write=False)


def normal_evpi() -> float:
    mu, sd = SLOPE * PRICE_MEAN - OFFSET, SLOPE * PRICE_SD
    return mu * norm.cdf(mu / sd) + sd * norm.pdf(mu / sd) - max(mu, 0.0)


def test_evpi_of_a_normal_npv_is_the_closed_form(normal_voi: dict[str, Any]) -> None:
    ev = normal_voi["evpi"]
    truth = normal_evpi()
    assert normal_voi["best"] == "build"
    assert ev["se"] > 0
    assert abs(ev["value"] - truth) < 3 * ev["se"], (ev, truth)


def test_evppi_of_the_only_uncertain_input_is_the_evpi(normal_voi: dict[str, Any]) -> None:
    rows = {r["name"]: r for r in normal_voi["inputs"]}
    price = rows["price.usd_per_mtok_output"]
    ev = normal_voi["evpi"]
    assert abs(price["value"] - ev["value"]) < 3 * price["se"], (price, ev)
    assert abs(price["value"] - normal_evpi()) < 3 * math.hypot(price["se"], ev["se"])
    assert price["r2"] > 0.999


def test_evppi_of_an_input_outside_the_model_is_about_zero(normal_voi: dict[str, Any]) -> None:
    rows = {r["name"]: r for r in normal_voi["inputs"]}
    idle = rows["market.gpu_hour_usd"]
    assert idle["value"] <= 3 * idle["se"] + 0.01 * normal_voi["evpi"]["value"], idle


def test_evppi_of_one_term_of_a_sum_is_its_closed_form() -> None:
    # NB = X + Y, X ~ N(m, 1), Y ~ N(0, 1): learning X gives E[max(X, 0)] - max(m, 0)
    rng = np.random.default_rng(5)
    n, m = DRAWS, 0.3
    x, y = rng.normal(m, 1.0, n), rng.normal(0.0, 1.0, n)
    nb = np.column_stack([np.zeros(n), x + y])
    res = analysis.value_of_information(nb, ["no", "yes"], {"x": x, "y": y}, groups={"both": ["x", "y"]})
    vx = next(v for v in res.inputs if v.name == "x")
    truth_x = m * norm.cdf(m) + norm.pdf(m) - m
    assert abs(vx.value - truth_x) < 3 * vx.se, (vx, truth_x)
    s2 = math.sqrt(2.0)
    truth_all = m * norm.cdf(m / s2) + s2 * norm.pdf(m / s2) - m
    assert abs(res.evpi.value - truth_all) < 3 * res.evpi.se
    both = res.groups[0]
    assert abs(both.value - res.evpi.value) < 3 * both.se


def test_evpi_of_a_choice_between_two_normals() -> None:
    # E[max(A, B)] for independent normals (Clark 1961) minus the better mean
    rng = np.random.default_rng(8)
    m1, s1, m2, s2 = 1.0, 2.0, 0.5, 1.0
    a, b = rng.normal(m1, s1, DRAWS), rng.normal(m2, s2, DRAWS)
    theta = math.hypot(s1, s2)
    al = (m1 - m2) / theta
    truth = m1 * norm.cdf(al) + m2 * norm.cdf(-al) + theta * norm.pdf(al) - max(m1, m2)
    value, se = analysis.evpi(np.column_stack([a, b]))
    assert abs(value - truth) < 3 * se


def test_voi_json_is_written_into_the_run(normal_run: Path) -> None:
    doc = pipeline.value_of_information(normal_run, folds=3)
    assert (normal_run / "voi.json").is_file() and (normal_run / "voi.png").is_file()
    assert doc["decisions"] == ["do not build", "build"]
    assert [g["name"] for g in doc["groups"]] == []  # one varying input per group: no group rows


def test_evsi_of_a_noisy_measurement_of_a_normal_input_is_the_closed_form() -> None:
    # NB = b p, p ~ N(mu, s), study result t = p + e, e ~ N(0, tau): E[NB | t] is normal with mean
    # b mu and SD b s^2 / sqrt(s^2 + tau^2), so EVSI = E[max(Y, 0)] - max(E[Y], 0) for that Y
    rng = np.random.default_rng(9)
    mu, s, tau, b = 0.2, 1.0, 0.75, 3.0
    p = rng.normal(mu, s, DRAWS)
    nb = np.column_stack([np.zeros(DRAWS), b * p])
    m, sy = b * mu, b * s**2 / math.hypot(s, tau)
    truth = m * norm.cdf(m / sy) + sy * norm.pdf(m / sy) - m
    v = analysis.study_value(nb, p, tau, name="p", seed=1)
    assert abs(v.value - truth) < 3 * v.se, (v, truth)
    perfect = analysis.value_of_information(nb, ["no", "yes"], {"p": p}).inputs[0].value
    assert v.value < perfect
    useless = analysis.study_value(nb, p, 1e4 * s, name="p", seed=2)
    assert useless.value < 3 * useless.se + 0.01 * perfect
