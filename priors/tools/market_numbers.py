"""The computed numbers of the v2 priors library (contract v2's market inputs).

Run from the repository root:  python priors/tools/market_numbers.py
Prints every derived number the v2 layers quote, with the rows of shared/data/market_facts.csv and
reference_facts.csv it comes from (named ref:KEY in the layers). tests/priors/test_library_v2.py
recomputes each one from these functions and checks the layer files against it, so a number in a
layer cannot drift from its stated rule. Pure arithmetic: no file is written.
"""

from __future__ import annotations

import math

#: The library's launch date: month 0 of a scenario (capex paid). Token price quotes are aged to it.
LAUNCH = (2026, 12)

# ------------------------------------------------------------------ price path (markets/base.toml)
#: ref:h100_rent_term_structure_decline: AWS 1-yr reserved $7.20 vs 3-yr $5.40 -> 0.72x per year
SMOOTH_DECLINE_MODE = 1 - 0.72
#: base market jumps: uniform(0.5, 1.5) per year, size uniform(0.30, 0.44) (ref:h100_rent_oct2024,
#: ref:aws_h100_price_cut_jun2025)
JUMPS_PER_YEAR = (0.5, 1.5)
JUMP_SIZE = (0.30, 0.44)
#: H100 rent 2024-10 .. 2026-03 (ref:h100_rent_oct2024, ref:h100_rent_oct2025, ref:h100_rent_mar2026)
RENT_SERIES = [((2024, 10), 2.99), ((2025, 10), 1.70), ((2026, 3), 2.35)]


def years_between(a: tuple[int, int], b: tuple[int, int]) -> float:
    """Years from month a to month b, (year, month) each."""
    return (b[0] - a[0]) + (b[1] - a[1]) / 12


def aging_factor_per_year() -> float:
    """The base market's central yearly price multiplier: smooth decline at its mode, jumps at their
    mean rate and mean size: (1 - 0.28) x (1 - 0.37)^1.0."""
    rate = sum(JUMPS_PER_YEAR) / 2
    size = sum(JUMP_SIZE) / 2
    return (1 - SMOOTH_DECLINE_MODE) * (1 - size) ** rate


def aged(price: float, quoted: tuple[int, int]) -> float:
    """A quote aged from its date to LAUNCH at the base market's central rate."""
    return price * aging_factor_per_year() ** years_between(quoted, LAUNCH)


def realized_rent_volatility() -> float:
    """Annualized volatility of log rent changes around their drift (sum of squared residuals of
    each interval, each scaled by its length, averaged)."""
    steps = [
        (years_between(a[0], b[0]), math.log(b[1] / a[1])) for a, b in zip(RENT_SERIES[:-1], RENT_SERIES[1:], strict=True)
    ]
    drift = sum(x for _, x in steps) / sum(t for t, _ in steps)
    var = sum((x - drift * t) ** 2 / t for t, x in steps) / len(steps)
    return math.sqrt(var)


#: (quote, its date) per workload price; the ref:KEY rows of reference_facts.csv
DSR1_OUT = {"price_dsr1_deepseek_output": (2.19, (2025, 1)), "price_dsr1_crusoe_openrouter_out": (5.40, (2026, 2)), "price_dsr1_nebius_fast_out": (6.00, (2026, 2))}
DSR1_IN = {"price_dsr1_deepseek_input_miss": (0.55, (2025, 1)), "price_dsr1_crusoe_openrouter_in": (1.35, (2026, 2)), "price_dsr1_nebius_fast_in": (2.00, (2026, 2))}
# gpt-oss-120b quotes collected 2026 (month not given: taken as 2026-06, mid-year); low tail 0.3 / 0.05
GPTOSS_OUT = {"price_gptoss_blended_low": (0.30, (2026, 6)), "price_gptoss_router_out": (0.96, (2026, 6))}
GPTOSS_IN = {"price_gptoss_blended_low": (0.05, (2026, 6)), "price_gptoss_cerebras_in": (0.35, (2026, 6))}


def aged_ci90(quotes: dict[str, tuple[float, tuple[int, int]]]) -> tuple[float, float]:
    """The lognormal ci90 of a launch price: the lowest and highest aged quote."""
    vals = [aged(p, d) for p, d in quotes.values()]
    return round(min(vals), 3), round(max(vals), 3)


# ------------------------------------------------------------------ availability and utilization
#: ref:availability_mtbi_days: mean time between interruptions 24 days, recovery 12 h (InferenceX)
MTBI_DAYS, RECOVERY_H = 24.0, 12.0


def availability() -> float:
    """Share of hours up: MTBI / (MTBI + recovery) = 24 / 24.5 (the row's 0.9796)."""
    return MTBI_DAYS / (MTBI_DAYS + RECOVERY_H / 24)


#: sold share of hours: ref:production_utilization_typical (30-60%), ESTIMATE tail to 0.7; mode 0.45
SOLD = {"base": (0.30, 0.45, 0.70), "llmflation": (0.20, 0.40, 0.60), "slow": (0.40, 0.60, 0.80)}


def utilization(market: str) -> tuple[float, float, float]:
    a = availability()
    return tuple(round(x * a, 4) for x in SOLD[market])  # type: ignore[return-value]


# ------------------------------------------------------------------ capex from hardware prices
#: the all-in factor over the system price: external network, storage, install. The two all-in anchors
#: (ref:gb200_nvl72_allin_per_rack_est: H100 ~$50k/GPU all-in vs a DGX H100 at $33,750/GPU; GB200 NVL72
#: $5M all-in vs SemiAnalysis's $3.3M rack) give 1.48 and 1.52; p5 = the system alone, p95 = 1.6x.
ALLIN_P95 = 1.6
#: DGX H100 server per GPU over the H100 GPU price: 270,000 / 8 / 27,500 (ref:dgx_h100_price, ref:h100_price)
SERVER_OVER_GPU = 270000 / 8 / 27500
SYSTEM_PER_GPU = {
    # platform: (system price per GPU in USD, how)
    "h100": (270000 / 8, "ref:dgx_h100_price ($270,000 per 8-GPU DGX H100, SemiAnalysis via Epoch) / 8"),
    "h200": (
        270000 / 8 * 35 / 30,
        "the DGX H100 per GPU ($33,750, ref:dgx_h100_price) x 35/30, the H200/H100 street-price ratio (ref:gpu_street_price_mid2026, aiinframap, 2026)",
    ),
    "b200": (
        45000 * SERVER_OVER_GPU,
        "B200 GPU $40k-50k (ref:gpu_street_price_mid2026 $40k mid-2026; ref:b200_price_launch $50k, FT Alphaville 2025), mid $45k, x 1.227, the DGX H100 server-over-GPU ratio (ref:dgx_h100_price / ref:h100_price)",
    ),
    "b300": (
        45000 * SERVER_OVER_GPU * 1.2,
        "ESTIMATE: the B200 system per GPU x 1.2 (SemiAnalysis's own B300/B200 placeholder ratio, ref:tco_owning_hyperscaler_b300_aug2025 note)",
    ),
    "gb200-nvl72": (3.3e6 / 72, "ref:gb200_nvl72_rack_cost_semianalysis ($3.3M per NVL72 rack, InferenceX v2 blog, 2026-02) / 72 GPUs"),
    "gb300-nvl72": (
        3.3e6 / 72 * 1.2,
        "ESTIMATE: the GB200 NVL72 rack per GPU ($45,833, ref:gb200_nvl72_rack_cost_semianalysis) x 1.2 (SemiAnalysis's GB300/GB200 placeholder ratio, ref:tco_owning_hyperscaler_gb300_aug2025 note)",
    ),
    "mi300x": (
        270000 / 8 * 1.12 / 1.30,
        "ESTIMATE: no AMD price row; the DGX H100 per GPU ($33,750) x 1.12/1.30, the MI300X/H100 hyperscaler TCO ratio (ref:tco_owning_hyperscaler_mi300x_aug2025; hardware is >80% of that TCO, ref:colo_plus_power_share_of_tco)",
    ),
    "mi325x": (
        270000 / 8 * 1.28 / 1.30,
        "ESTIMATE: no AMD price row; the DGX H100 per GPU ($33,750) x 1.28/1.30, the MI325X/H100 hyperscaler TCO ratio (ref:tco_owning_hyperscaler_mi325x_aug2025; hardware is >80% of that TCO, ref:colo_plus_power_share_of_tco)",
    ),
    "mi355x": (
        270000 / 8 * 1.48 / 1.30,
        "ESTIMATE: no AMD price row; the DGX H100 per GPU ($33,750) x 1.48/1.30, the MI355X/H100 hyperscaler TCO ratio (ref:tco_owning_hyperscaler_mi355x_aug2025; hardware is >80% of that TCO, ref:colo_plus_power_share_of_tco)",
    ),
}


def capex_ci90(platform: str) -> tuple[float, float]:
    system = SYSTEM_PER_GPU[platform][0]
    return round(system, -2), round(system * ALLIN_P95, -2)


# ------------------------------------------------------------------ market rent per GPU-hour
#: p5 = SemiAnalysis's retail/3-yr rent tier (Jul-2026), p95 = an on-demand index or list price. Where no
#: index exists the spread of a sourced sibling is used: Hopper (ref:h100_rental_median_may2026 2.95 over
#: ref:tco_rent_h100_jul2026 1.78) or Blackwell (ref:b200_rent_index_2026 5.30 over ref:tco_rent_b200_jul2026 2.60).
HOPPER_SPREAD = 2.95 / 1.78
BLACKWELL_SPREAD = 5.30 / 2.60
RENT = {
    # platform: (p5 term rent, p95, how p95)
    "h100": (1.78, 2.95, "ref:h100_rental_median_may2026 ($2.95 median posted on-demand, AIMultiple, 2026-05); cf. ref:h100_rent_index_2026 ($2.60, Silicon Data daily index, 2026), ref:h100_rent_mar2026 ($2.35 reserved, 2026-03)"),
    "h200": (2.05, 2.05 * HOPPER_SPREAD, "ESTIMATE: x 1.657, the H100 on-demand/term spread (2.95/1.78); cf. ref:h100_h200_neocloud_rate_2026 (H200 ~$2.60, GMI Cloud 2026)"),
    "b200": (2.60, 5.30, "ref:b200_rent_index_2026 ($5.30, Silicon Data SDB200RT daily index, 2026); cf. ref:b200_rent_list_2026 ($6.50 CoreWeave list, 2026), ref:b200_price_launch note ($3.20/hr early 2025, floor $2.80)"),
    "b300": (3.00, 3.00 * BLACKWELL_SPREAD, "ESTIMATE: x 2.038, the B200 index/term spread (5.30/2.60): no B300 rental index"),
    "gb200-nvl72": (2.60, 2.60 * BLACKWELL_SPREAD, "ESTIMATE: x 2.038, the B200 index/term spread (5.30/2.60): no GB200 rental index; cf. ref:tco_rent_3yr_gb200_aug2025 ($3.30, 3-yr rent, 2025-08)"),
    "gb300-nvl72": (3.30, 3.30 * BLACKWELL_SPREAD, "ESTIMATE: x 2.038, the B200 index/term spread (5.30/2.60): no GB300 rental index; cf. ref:tco_rent_3yr_gb300_aug2025 ($3.96, 2025-08)"),
    "mi300x": (1.30, 1.30 * HOPPER_SPREAD, "ESTIMATE: x 1.657, the H100 on-demand/term spread (2.95/1.78): no AMD rental index"),
    "mi325x": (1.60, 1.60 * HOPPER_SPREAD, "ESTIMATE: x 1.657, the H100 on-demand/term spread (2.95/1.78): no AMD rental index"),
    "mi355x": (2.10, 2.10 * HOPPER_SPREAD, "ESTIMATE: x 1.657, the H100 on-demand/term spread (2.95/1.78): no AMD rental index"),
}


def rent_ci90(platform: str) -> tuple[float, float]:
    lo, hi, _ = RENT[platform]
    return round(lo, 2), round(hi, 2)


# ------------------------------------------------------------------ resale (finance layers)
#: ref:resale_vintage_factor_year1/_year4: 0/1/2/3/4 yr -> 1.00/0.78/0.60/0.46/0.35 (spotwire, 2026-05)
VINTAGE = [1.00, 0.78, 0.60, 0.46, 0.35]
#: 90-day liquidation haircut (same row's note)
HAIRCUT_90D = 0.85
#: the share of all-in capex that is the system itself (what resells): 1 / the median all-in factor
SYSTEM_SHARE = 1 / math.sqrt(ALLIN_P95)


def vintage(years: float) -> float:
    """Resale share of new after ``years``; past year 4 extended at the year-3-to-4 ratio (0.35/0.46)."""
    if years <= 4:
        i = int(years)
        frac = years - i
        return VINTAGE[i] if frac == 0 else VINTAGE[i] * (VINTAGE[i + 1] / VINTAGE[i]) ** frac
    return VINTAGE[4] * (VINTAGE[4] / VINTAGE[3]) ** (years - 4)


def residual(years: float) -> float:
    """Resale at the end of an operating life of ``years``, as a share of all-in capex."""
    return round(vintage(years) * HAIRCUT_90D * SYSTEM_SHARE, 3)


def main() -> None:
    print(f"launch date {LAUNCH}; aging factor per year {aging_factor_per_year():.4f}")
    print(f"H100 rent realized volatility (drift removed) {realized_rent_volatility():.3f} per sqrt(yr)")
    for name, q in [("DSR1 out", DSR1_OUT), ("DSR1 in", DSR1_IN), ("gpt-oss out", GPTOSS_OUT), ("gpt-oss in", GPTOSS_IN)]:
        print(name, {k: round(aged(p, d), 3) for k, (p, d) in q.items()}, "ci90", aged_ci90(q))
    print(f"availability {availability():.4f}")
    for m in SOLD:
        print("utilization", m, utilization(m))
    for p in SYSTEM_PER_GPU:
        print("capex", p, capex_ci90(p), "rent", rent_ci90(p))
    for life in (3, 4, 5, 6):
        print(f"residual after {life} yr: {residual(life)}")


if __name__ == "__main__":
    main()
