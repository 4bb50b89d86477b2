"""A contract input left out takes its contract default (model.md), not a KeyError: the rate defaults to 0."""

from __future__ import annotations

import numpy as np

from mcroi import pipeline, priors
from tests.helpers import reference_doc


def test_contract_share_without_a_rate_is_a_rate_of_zero():
    without = reference_doc(contract={"share": 0.5, "months": 60})
    explicit = reference_doc(contract={"share": 0.5, "months": 60, "usd_per_gpu_hour": 0.0})
    a = pipeline.simulate(priors.from_dict(without), draws=8, seed=0)
    b = pipeline.simulate(priors.from_dict(explicit), draws=8, seed=0)
    np.testing.assert_array_equal(a["npv_usd"].values, b["npv_usd"].values)
    # half the GPUs rented at 0 $/h: half the token revenue of the reference case (2.628e6 a month)
    np.testing.assert_allclose(a["total_revenue_usd"].values, 60 * 2.628e6 / 2, rtol=1e-12)
