"""The inputs of cashflow contract v2: names, units, domains and defaults.

Pure data, shared by the priors reader (validation), the engine (argument order) and the
store (units and long names). See ``shared/design/model.md`` and ``docs/model.md``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

CONTRACT_VERSION = "2"  # v1 and a first part of v2's market (docs/model.md)
HOURS_PER_MONTH = 730.0


@dataclass(frozen=True)
class Domain:
    """A closed or half-open interval of allowed values."""

    low: float
    high: float
    low_open: bool = False
    high_open: bool = False
    text: str = ""

    def contains(self, x: float) -> bool:
        if math.isnan(x):
            return False
        lo_ok = x > self.low if self.low_open else x >= self.low
        hi_ok = x < self.high if self.high_open else x <= self.high
        return lo_ok and hi_ok

    def contains_support(self, lo: float, hi: float) -> bool:
        """Whether a distribution's support [lo, hi] (closure) fits in the domain's closure."""
        return lo >= self.low and hi <= self.high


POSITIVE = Domain(0.0, math.inf, low_open=True, high_open=True, text="> 0")
NONNEG = Domain(0.0, math.inf, high_open=True, text=">= 0")
UNIT = Domain(0.0, 1.0, text="between 0 and 1")
GE1 = Domain(1.0, math.inf, high_open=True, text=">= 1")
RATE = Domain(-1.0, math.inf, low_open=True, high_open=True, text="> -1")


@dataclass(frozen=True)
class InputSpec:
    name: str
    unit: str
    long_name: str
    domain: Domain
    default: float | None = None  # None: required (or derived, see model.md), or a v2 input
    #: (v2 inputs) the value the model takes when the input is absent. The reader never fills a
    #: v2 input in (its ``default`` is None), so a v1 priors file gives the v1 PriorSet, inputs
    #: and draws exactly, and the model compiles the v1 program for it.
    absent: float | None = None
    contract: str = "1"  # the contract version that added the input


def _s(name: str, unit: str, long_name: str, domain: Domain, default: float | None = None) -> InputSpec:
    return InputSpec(name, unit, long_name, domain, default)


def _v2(name: str, unit: str, long_name: str, domain: Domain, absent: float | None) -> InputSpec:
    """A v2 input: optional, never filled in by the reader; the model reads ``absent`` without it."""
    return InputSpec(name, unit, long_name, domain, None, absent, "2")


# Contract order. ``finance.useful_life_months`` defaults to the horizon (filled in by the reader).
INPUTS: dict[str, InputSpec] = {
    s.name: s
    for s in [
        _s("cluster.gpus", "GPU", "number of GPUs bought", POSITIVE),
        _s("capex.budget_usd", "USD", "capital budget (gpus = budget / usd_per_gpu)", POSITIVE),
        _s("capex.usd_per_gpu", "USD", "all-in capital cost per GPU", NONNEG),
        _s(
            "throughput.output_tokens_per_s_per_gpu",
            "tok/s",
            "output tokens per second per GPU at launch software",
            NONNEG,
        ),
        _s("throughput.curve_scale", "1", "multiplier on the measured throughput curve", POSITIVE, 1.0),
        _s(
            "workload.interactivity_tok_s_user",
            "tok/s/user",
            "service level: output tokens per second per user",
            POSITIVE,
        ),
        _s("workload.input_output_ratio", "1", "input tokens per output token", NONNEG, 1.0),
        _s("optimization.max_gain", "x", "throughput multiple reached by software over the life", GE1, 1.0),
        _s("optimization.half_life_months", "months", "months to reach half the software gain", POSITIVE, 6.0),
        _s("utilization.steady_state", "1", "share of hours producing sold tokens after the ramp", UNIT),
        _s("utilization.ramp_months", "months", "months of linear demand ramp", NONNEG, 0.0),
        _s("price.usd_per_mtok_output", "USD/Mtok", "launch price of output tokens", NONNEG),
        _s("price.usd_per_mtok_input", "USD/Mtok", "launch price of input tokens", NONNEG, 0.0),
        _s("price.annual_decline", "1/yr", "yearly fall of token prices", UNIT),
        _s("power.kw_per_gpu", "kW", "all-in IT power per GPU at full load", NONNEG),
        _s("power.idle_fraction", "1", "power at zero utilization as a share of full load", UNIT, 0.3),
        _s("power.pue", "1", "power usage effectiveness", GE1),
        _s("power.usd_per_kwh", "USD/kWh", "electricity price", NONNEG),
        _s("opex.usd_per_gpu_month", "USD/GPU/month", "colocation, support, licences, staff", NONNEG, 0.0),
        _s("opex.usd_per_gpu_hour", "USD/GPU/h", "all-in hourly rate paid for every hour of the life", NONNEG, 0.0),
        _s("opex.maintenance_pct_per_year", "1/yr", "maintenance as a share of capex per year", NONNEG, 0.0),
        _s("finance.discount_rate", "1/yr", "annual discount rate (WACC)", RATE),
        _s("finance.tax_rate", "1", "tax on operating profit after depreciation", UNIT, 0.0),
        _s("finance.residual_value_pct", "1", "resale value at end of life as a share of capex", UNIT, 0.0),
        _s("finance.useful_life_months", "months", "useful life (clipped to the horizon, rounded down)", GE1),
        # contract v2, market part (a first subset); none is filled in when absent
        _v2(
            "cluster.power_mw", "MW", "facility power to fill with GPUs (gpus = MW * 1000 / (kW * PUE))", POSITIVE, None
        ),
        _v2("schedule.build_months", "months", "whole months from capex to the first token", NONNEG, 0.0),
        _v2(
            "demand.output_mtok_per_month",
            "Mtok/month",
            "output tokens buyers take in the first operating month",
            NONNEG,
            math.inf,
        ),
        _v2("demand.annual_growth", "1/yr", "yearly growth of the demand", RATE, 0.0),
        _v2("revenue.share", "1", "share of token revenue paid to the model owner or a marketplace", UNIT, 0.0),
        _v2("power.annual_price_change", "1/yr", "yearly change of the electricity price", RATE, 0.0),
        _v2("opex.annual_escalation", "1/yr", "yearly growth of the per-GPU opex", RATE, 0.0),
        _v2("market.gpu_hour_usd", "USD/GPU/h", "market rent of this GPU for an hour at launch", POSITIVE, None),
        _v2(
            "price.gain_pass_through", "1", "share of the software gain passed on to buyers as lower prices", UNIT, 0.0
        ),
        _v2("price.volatility_annual", "1/sqrt(yr)", "volatility of monthly log-price shocks", NONNEG, 0.0),
        _v2("price.jumps_per_year", "1/yr", "rate of sudden price cuts (a cheaper model or chip)", NONNEG, 0.0),
        _v2("price.jump_size", "1", "share of the price lost at each jump", UNIT, 0.0),
        _v2("contract.share", "1", "share of the GPUs rented out on a take-or-pay contract", UNIT, 0.0),
        _v2("contract.usd_per_gpu_hour", "USD/GPU/h", "the contract's rate per GPU-hour, paid every hour", NONNEG, 0.0),
        _v2("contract.months", "months", "the contract's term from the first operating month", NONNEG, 0.0),
        _v2("contract.default_per_year", "1/yr", "the contract customer's default rate", NONNEG, 0.0),
        _v2(
            "finance.cost_of_equity",
            "1/yr",
            "discount rate of the equity cash flow (default: the discount rate)",
            RATE,
            None,
        ),
        _v2("debt.fraction", "1", "share of capex borrowed at month 0", UNIT, 0.0),
        _v2("debt.annual_rate", "1/yr", "nominal annual interest rate of the debt (monthly: rate / 12)", NONNEG, 0.0),
        _v2("debt.term_months", "months", "whole months of level payments from month 1", GE1, 60.0),
        _v2(
            "finance.tax_depreciation_months",
            "months",
            "tax depreciation life from the first operating month (1: expensed at once)",
            POSITIVE,
            None,
        ),
    ]
}

#: Scenario constants that are not sampled.
HORIZON_KEY = "finance.horizon_months"
CURVE_KEY = "throughput.curve"
DEFAULT_HORIZON = 60
MAX_HORIZON = 1200

#: Keys that are always required (gpus/budget and throughput are checked as alternatives).
REQUIRED = (
    "capex.usd_per_gpu",
    "utilization.steady_state",
    "price.usd_per_mtok_output",
    "price.annual_decline",
    "power.kw_per_gpu",
    "power.pue",
    "power.usd_per_kwh",
    "finance.discount_rate",
)

GROUPS = sorted({n.split(".")[0] for n in INPUTS} | {"scenario", "correlation"})
#: (v2) Random quantities of a draw that no prior gives, kept with the inputs of a run (after them).
DERIVED: dict[str, InputSpec] = {
    s.name: s
    for s in [
        InputSpec(
            "contract.default_month",
            "months",
            "month the contract customer defaults: b + ceil(-12 ln(w) / default_per_year) (inf: never)",
            POSITIVE,
            contract="2",
        ),
        InputSpec(
            "price.path",
            "1",
            "the price path as one input: mean of log S(m) over the operating months",
            Domain(-math.inf, math.inf, text="any"),
            contract="2",
        ),
    ]
}


def input_unit(name: str) -> str:
    """The unit of a run's input (a prior's input or a :data:`DERIVED` one); "" for another name."""
    spec = INPUTS.get(name) or DERIVED.get(name)
    return spec.unit if spec else ""


#: (v2) Scenario switches: constant booleans that change the program, not sampled.
SWITCHES = {
    "finance.retire_when_unprofitable": "retire and sell the cluster when a month no longer pays",
    "finance.tax_loss_carryforward": "carry tax losses forward instead of a negative tax",
}
ALL_KEYS = sorted(set(INPUTS) | {HORIZON_KEY, CURVE_KEY} | set(SWITCHES))
