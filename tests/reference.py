"""A slow, independent pure-Python implementation of cashflow contract v1, for tests only.

Written from shared/design/model.md with plain floats and loops; shares no code with mcroi.
"""

from __future__ import annotations

import math

HOURS = 730.0

REFERENCE_CASE = {
    "cluster": {"gpus": 1000},
    "capex": {"usd_per_gpu": 50000},
    "throughput": {"output_tokens_per_s_per_gpu": 1000},
    "workload": {"input_output_ratio": 1},
    "optimization": {"max_gain": 1, "half_life_months": 6},
    "utilization": {"steady_state": 0.5, "ramp_months": 0},
    "price": {"usd_per_mtok_output": 2, "usd_per_mtok_input": 0, "annual_decline": 0},
    "power": {"kw_per_gpu": 1, "idle_fraction": 1, "pue": 1, "usd_per_kwh": 0.1},
    "opex": {"usd_per_gpu_month": 0, "usd_per_gpu_hour": 0, "maintenance_pct_per_year": 0},
    "finance": {
        "discount_rate": 0,
        "tax_rate": 0,
        "residual_value_pct": 0,
        "useful_life_months": 60,
        "horizon_months": 60,
    },
}


def flat(doc: dict) -> dict[str, float]:
    return {f"{g}.{k}": v for g, body in doc.items() if g != "scenario" for k, v in body.items()}


def cashflows(x: dict[str, float]) -> dict[str, list[float]]:
    H = int(x.get("finance.horizon_months", 60))
    L = int(math.floor(min(x.get("finance.useful_life_months", H), H)))
    if "capex.budget_usd" in x:
        gpus = x["capex.budget_usd"] / x["capex.usd_per_gpu"]
    else:
        gpus = x["cluster.gpus"]
    C = gpus * x["capex.usd_per_gpu"]
    tps = x["throughput.output_tokens_per_s_per_gpu"]
    res = x.get("finance.residual_value_pct", 0.0)
    tax = x.get("finance.tax_rate", 0.0)
    idle = x.get("power.idle_fraction", 0.3)
    ramp = x.get("utilization.ramp_months", 0.0)
    ss = x["utilization.steady_state"]
    out = {"cf": [-C], "R": [0.0], "E": [0.0], "O": [0.0], "T": [0.0], "K": [0.0]}
    for m in range(1, H + 1):
        if m > L:
            for k in out:
                out[k].append(0.0)
            continue
        g = 1 + (x.get("optimization.max_gain", 1.0) - 1) * (
            1 - 2 ** (-m / x.get("optimization.half_life_months", 6.0))
        )
        u = ss if ramp == 0 else ss * min(1.0, m / ramp)
        K = gpus * tps * g * 3600 * HOURS * u
        P = (
            x["price.usd_per_mtok_output"]
            + x.get("workload.input_output_ratio", 1.0) * x.get("price.usd_per_mtok_input", 0.0)
        ) * (1 - x["price.annual_decline"]) ** ((m - 1) / 12)
        R = K / 1e6 * P
        E = gpus * x["power.kw_per_gpu"] * (idle + (1 - idle) * u) * x["power.pue"] * HOURS * x["power.usd_per_kwh"]
        maint = C * x.get("opex.maintenance_pct_per_year", 0.0) / 12
        O = gpus * (x.get("opex.usd_per_gpu_month", 0.0) + x.get("opex.usd_per_gpu_hour", 0.0) * HOURS) + maint  # noqa: E741
        D = C * (1 - res) / L
        T = tax * (R - E - O - D)
        cf = R - E - O - T
        if m == L:
            cf += res * C
        for k, v in zip(("cf", "R", "E", "O", "T", "K"), (cf, R, E, O, T, K), strict=True):
            out[k].append(v)
    out["C"] = [C]
    return out


def outputs(x: dict[str, float]) -> dict[str, float]:
    f = cashflows(x)
    cf, C = f["cf"], f["C"][0]
    H = len(cf) - 1
    r = (1 + x["finance.discount_rate"]) ** (1 / 12) - 1
    npv = sum(c / (1 + r) ** m for m, c in enumerate(cf))
    cum, payback = 0.0, math.inf
    for m, c in enumerate(cf):
        cum += c
        if m >= 1 and cum >= 0:
            payback = float(m)
            break
    disc_tokens = sum(k / (1 + r) ** m for m, k in enumerate(f["K"])) / 1e6
    disc_cost = C + sum((e + o) / (1 + r) ** m for m, (e, o) in enumerate(zip(f["E"], f["O"], strict=True)))
    slope = sum(
        (1 - x.get("finance.tax_rate", 0.0))
        * k
        / 1e6
        * (1 - x["price.annual_decline"]) ** ((m - 1) / 12)
        / (1 + r) ** m
        for m, k in enumerate(f["K"])
        if m >= 1
    )
    years = -(-H // 12)
    annual = [sum(cf[1 + 12 * y : 1 + 12 * (y + 1)]) for y in range(years)]
    return {
        "npv_usd": npv,
        "payback_months": payback,
        "roi_multiple": sum(f["R"]) / C if C > 0 else math.nan,
        "net_roi": sum(cf[1:]) / C - 1 if C > 0 else math.nan,
        "cost_per_mtok_usd": disc_cost / disc_tokens if disc_tokens > 0 else math.inf,
        "breakeven_price_usd_per_mtok": x["price.usd_per_mtok_output"] - npv / slope if slope > 0 else math.nan,
        "total_output_tokens": sum(f["K"]),
        "total_revenue_usd": sum(f["R"]),
        "capex_usd": C,
        "annual_cashflow_usd": annual,
        "cashflow": cf,
    }
