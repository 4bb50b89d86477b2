"""The output registry: one record per output of the contract, read by everything that lists outputs.

The run Dataset's units and long names, the terminal's and the report's labels and number
formats, the numeric guard's rule for which NaN/inf values the contract documents, and whether a
mean is a meaningful headline all come from here. Adding an output is one field of
:class:`mcroi.engine.Outputs` (the model computes it) and one :class:`OutputSpec` below; a test
checks that the two agree.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

#: ``documented(x, outputs, tax) -> mask``: where the non-finite values of output ``x`` (draws,)
#: are the contract's documented ones, given every scalar output and the tax rate per draw.
NonFiniteRule = Callable[[np.ndarray, Mapping[str, np.ndarray], "np.ndarray | None"], np.ndarray]


def _never(x: np.ndarray, outputs: Mapping[str, np.ndarray], tax: np.ndarray | None) -> np.ndarray:
    return np.zeros(x.shape, dtype=bool)


def _nan_without_sign_change(x: np.ndarray, outputs: Mapping[str, np.ndarray], tax: np.ndarray | None) -> np.ndarray:
    return np.isnan(x)


def _nan_without_capex(x: np.ndarray, outputs: Mapping[str, np.ndarray], tax: np.ndarray | None) -> np.ndarray:
    return np.isnan(x) & (np.asarray(outputs["capex_usd"]) == 0)


def _inf_when_never(x: np.ndarray, outputs: Mapping[str, np.ndarray], tax: np.ndarray | None) -> np.ndarray:
    return np.isposinf(x)


def _inf_without_tokens(x: np.ndarray, outputs: Mapping[str, np.ndarray], tax: np.ndarray | None) -> np.ndarray:
    return np.isposinf(x) & (np.asarray(outputs["total_output_tokens"]) == 0)


def _nan_without_slope(x: np.ndarray, outputs: Mapping[str, np.ndarray], tax: np.ndarray | None) -> np.ndarray:
    no_tokens = np.asarray(outputs["total_output_tokens"]) == 0
    all_tax = np.zeros_like(no_tokens) if tax is None else tax >= 1
    return np.isnan(x) & (no_tokens | all_tax)


def _nan_without_both_signs(x: np.ndarray, outputs: Mapping[str, np.ndarray], tax: np.ndarray | None) -> np.ndarray:
    # no positive month: then the cash after capex sums to <= 0, net ROI <= -1 (or there is no capex)
    capex = np.asarray(outputs["capex_usd"])
    return np.isnan(x) & ((capex == 0) | (np.asarray(outputs["net_roi"]) <= -1))


def _inf_when_never_discounted(x: np.ndarray, outputs: Mapping[str, np.ndarray], tax: np.ndarray | None) -> np.ndarray:
    # never within H means the discounted cumulative cash at H, the NPV, is < 0
    return np.isposinf(x) & (np.asarray(outputs["npv_usd"]) < 0)


def _nan_when_never_operating(x: np.ndarray, outputs: Mapping[str, np.ndarray], tax: np.ndarray | None) -> np.ndarray:
    return np.isnan(x) & (np.asarray(outputs["total_revenue_usd"]) == 0)


def _nan_without_rent(x: np.ndarray, outputs: Mapping[str, np.ndarray], tax: np.ndarray | None) -> np.ndarray:
    # the rent is a scenario input the rule cannot see: without it every draw is NaN
    never = np.isnan(np.asarray(outputs["revenue_per_gpu_hour_usd"]))
    return np.isnan(x) & (never | bool(np.isnan(x).all()))


def _nan_without_capacity(x: np.ndarray, outputs: Mapping[str, np.ndarray], tax: np.ndarray | None) -> np.ndarray:
    return np.isnan(x) & (np.asarray(outputs["total_output_tokens"]) == 0)


def _nan_without_equity(x: np.ndarray, outputs: Mapping[str, np.ndarray], tax: np.ndarray | None) -> np.ndarray:
    # C = B: the rule cannot see the debt fraction, but then the equity NPV is the sum of its flows
    return np.isnan(x)


def _inf_without_debt(x: np.ndarray, outputs: Mapping[str, np.ndarray], tax: np.ndarray | None) -> np.ndarray:
    return np.isposinf(x)


def _path_nonfinite(x: np.ndarray, outputs: Mapping[str, np.ndarray], tax: np.ndarray | None) -> np.ndarray:
    never = np.asarray(outputs["retire_month"]) <= 0
    return (np.isnan(x) & (never | (np.asarray(outputs["total_revenue_usd"]) == 0))) | np.isneginf(x)


@dataclass(frozen=True)
class OutputSpec:
    """One output of the contract.

    Attributes
    ----------
    name
        The contract's name (``npv_usd``); the field of :class:`mcroi.engine.Outputs`.
    unit
        Unit written into the run Dataset and the exports (``USD``, ``1/yr``, ``months``, ...).
    long_name
        What the number is, one line (the netCDF ``long_name``).
    label
        Short label of tables and charts (``NPV (USD)``).
    kind
        How its numbers are written (:func:`mcroi.runs.format_value`): ``usd``, ``rate``,
        ``months``, ``multiple``, ``usd_per_mtok``, ``count``.
    per_year
        One value per year of operation (dims ``(draw, year)``) instead of one per draw.
    mean_is_headline
        Whether a mean of this output is a meaningful figure for a committee (the mean IRR is
        not: a few enormous roots dominate it).
    nonfinite
        Where the contract documents NaN/inf values of this output; any other is unexpected.
    nonfinite_doc
        The same rule in words, for the docs.
    """

    name: str
    unit: str
    long_name: str
    label: str
    kind: str
    per_year: bool = False
    mean_is_headline: bool = True
    nonfinite: NonFiniteRule = _never
    nonfinite_doc: str = "never"

    @property
    def dims(self) -> tuple[str, ...]:
        return ("draw", "year") if self.per_year else ("draw",)


def _o(*args: object, **kw: object) -> OutputSpec:
    return OutputSpec(*args, **kw)  # type: ignore[arg-type]


OUTPUTS: dict[str, OutputSpec] = {
    s.name: s
    for s in (
        _o("npv_usd", "USD", "net present value of the monthly cashflow, capex included", "NPV (USD)", "usd"),
        _o(
            "irr_annual",
            "1/yr",
            "annualized internal rate of return (NaN without a sign change)",
            "IRR (annual)",
            "rate",
            mean_is_headline=False,
            nonfinite=_nan_without_sign_change,
            nonfinite_doc="NaN where the cashflow never changes sign",
        ),
        _o(
            "payback_months",
            "months",
            "first month with non-negative cumulative cash (inf: never)",
            "Payback (months)",
            "months",
            mean_is_headline=False,
            nonfinite=_inf_when_never,
            nonfinite_doc="+inf where the cumulative cash never turns non-negative within H",
        ),
        _o(
            "roi_multiple",
            "x",
            "token revenue per dollar of capex",
            "ROI multiple (x)",
            "multiple",
            nonfinite=_nan_without_capex,
            nonfinite_doc="NaN where capex is 0",
        ),
        _o(
            "net_roi",
            "x",
            "undiscounted profit per dollar of capex",
            "Net ROI",
            "rate",
            nonfinite=_nan_without_capex,
            nonfinite_doc="NaN where capex is 0",
        ),
        _o(
            "cost_per_mtok_usd",
            "USD/Mtok",
            "levelized cost of a million output tokens",
            "Cost / Mtok (USD)",
            "usd_per_mtok",
            nonfinite=_inf_without_tokens,
            nonfinite_doc="+inf where no token is produced",
        ),
        _o(
            "breakeven_price_usd_per_mtok",
            "USD/Mtok",
            "launch output-token price at which NPV = 0",
            "Break-even price / Mtok",
            "usd_per_mtok",
            nonfinite=_nan_without_slope,
            nonfinite_doc="NaN where NPV does not depend on the price (no tokens, or a tax rate of 100 %)",
        ),
        _o("total_output_tokens", "tokens", "output tokens over the horizon", "Output tokens", "count"),
        _o("total_revenue_usd", "USD", "token revenue over the horizon", "Revenue (USD)", "usd"),
        _o("capex_usd", "USD", "capital expenditure at month 0", "Capex (USD)", "usd"),
        # contract v2
        _o(
            "mirr_annual",
            "1/yr",
            "modified IRR at the discount rate (financing and reinvestment), annualized",
            "MIRR (annual)",
            "rate",
            nonfinite=_nan_without_both_signs,
            nonfinite_doc="NaN where the cashflow has no positive or no negative month",
        ),
        _o(
            "irr_unique",
            "1",
            "1 where the cumulative cash changes sign exactly once (one IRR), else 0",
            "Unique IRR (share)",
            "rate",
        ),
        _o(
            "discounted_payback_months",
            "months",
            "first month with non-negative discounted cumulative cash (inf: never)",
            "Discounted payback (months)",
            "months",
            mean_is_headline=False,
            nonfinite=_inf_when_never_discounted,
            nonfinite_doc="+inf where the discounted cumulative cash never turns non-negative within H",
        ),
        _o(
            "revenue_per_gpu_hour_usd",
            "USD/GPU/h",
            "revenue of the first 12 operating months per GPU-hour",
            "Revenue / GPU-hour (USD)",
            "usd_per_mtok",
            nonfinite=_nan_when_never_operating,
            nonfinite_doc="NaN where the cluster never operates (useful life within the build)",
        ),
        _o(
            "revenue_to_rent_ratio",
            "x",
            "revenue per GPU-hour over the market rent of the GPU",
            "Revenue / rent (x)",
            "multiple",
            nonfinite=_nan_without_rent,
            nonfinite_doc="NaN where market.gpu_hour_usd is not given, or the cluster never operates",
        ),
        _o(
            "sold_share",
            "1",
            "output tokens sold over the tokens the GPUs could sell (demand cap)",
            "Sold share",
            "rate",
            nonfinite=_nan_without_capacity,
            nonfinite_doc="NaN where the GPUs could sell no token",
        ),
        _o("facility_mw", "MW", "facility power at full load, PUE included", "Facility (MW)", "multiple"),
        _o(
            "retire_month",
            "months",
            "the last month of operation: the useful life, or the month the cluster is retired and sold",
            "Retirement month",
            "months",
            mean_is_headline=False,
        ),
        _o(
            "equity_npv_usd",
            "USD",
            "NPV of the equity's cash flow at the cost of equity (the project's NPV without debt)",
            "Equity NPV (USD)",
            "usd",
        ),
        _o(
            "equity_irr_annual",
            "1/yr",
            "annualized IRR of the equity's cash flow (NaN without a sign change)",
            "Equity IRR (annual)",
            "rate",
            mean_is_headline=False,
            nonfinite=_nan_without_sign_change,
            nonfinite_doc="NaN where the equity's cash flow never changes sign",
        ),
        _o(
            "equity_multiple",
            "x",
            "equity cash returned per dollar of equity put in (sum EqCF(m >= 1) / (C - B))",
            "Equity multiple (x)",
            "multiple",
            nonfinite=_nan_without_equity,
            nonfinite_doc="NaN where the debt pays for all of the capex",
        ),
        _o(
            "min_dscr",
            "x",
            "lowest yearly debt-service coverage: (R - E - O - tax) / (payments + balloon)",
            "Min DSCR (x)",
            "multiple",
            mean_is_headline=False,
            nonfinite=_inf_without_debt,
            nonfinite_doc="+inf without debt service; NaN never",
        ),
        _o(
            "price_path_log_mean",
            "1",
            "mean of log S(m), the price path, over the operating months (0 without a path)",
            "Price path (mean log S)",
            "multiple",
            mean_is_headline=False,
            nonfinite=_path_nonfinite,
            nonfinite_doc="NaN where the cluster never operates; -inf where a jump of size 1 takes the price to 0",
        ),
        _o("annual_cashflow_usd", "USD", "cash flow per year, capex excluded", "Cash flow (USD)", "usd", per_year=True),
        _o("annual_revenue_usd", "USD", "token revenue per year", "Revenue (USD)", "usd", per_year=True),
        _o("annual_energy_usd", "USD", "energy cost per year", "Energy (USD)", "usd", per_year=True),
        _o(
            "annual_other_opex_usd",
            "USD",
            "other opex per year (per-GPU, hourly rate, maintenance)",
            "Other opex (USD)",
            "usd",
            per_year=True,
        ),
        _o("annual_tax_usd", "USD", "tax per year (negative: tax shield)", "Tax (USD)", "usd", per_year=True),
        _o("annual_output_tokens", "tokens", "output tokens per year", "Output tokens", "count", per_year=True),
        _o(
            "annual_equity_cashflow_usd",
            "USD",
            "the equity's cash flow per year, the equity put in excluded",
            "Equity cash flow (USD)",
            "usd",
            per_year=True,
        ),
        _o(
            "annual_dscr",
            "x",
            "debt-service coverage of each year: (R - E - O - tax) / (payments + balloon); inf without debt service",
            "DSCR",
            "multiple",
            per_year=True,
            mean_is_headline=False,
            nonfinite=_inf_without_debt,
            nonfinite_doc="+inf in a year without debt service",
        ),
        _o(
            "price_path_multiplier",
            "1",
            "the price path S at each year's last month (1 without a path)",
            "Price path multiplier",
            "multiple",
            per_year=True,
            mean_is_headline=False,
        ),
    )
}

#: Outputs with one value per draw, in the registry's order.
SCALAR_OUTPUTS: tuple[str, ...] = tuple(k for k, s in OUTPUTS.items() if not s.per_year)
#: Outputs with one value per draw and year.
ANNUAL_OUTPUTS: tuple[str, ...] = tuple(k for k, s in OUTPUTS.items() if s.per_year)


def irr_for_summaries(irr: Any, net_roi: Any, xp: Any = np) -> Any:
    """The IRR as every summary counts it: a draw whose cash never turns positive is -100 %, not dropped.

    Such a draw has no IRR (its cash flow never changes sign: the capex is lost and every month
    after it loses more), so the contract's IRR is NaN there; dropping it from the percentiles
    would flatter exactly the losing cases. Its return is at most -100 %, so it counts as -1. A
    NaN IRR of a draw that never loses (no capex) stays NaN. ``xp`` is numpy or jax.numpy.
    """
    return xp.where(xp.isnan(irr) & (net_roi <= -1), -1.0, irr)
