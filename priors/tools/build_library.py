"""Regenerate the data-driven layers of the priors library (platforms, tco, curves).

Run from the repository root:  python priors/tools/build_library.py
Inputs are copies kept inside priors/data/ (so the library never needs shared/ at run time):
- priors/data/inferencex_dsr1_pareto_knots.csv  (SemiAnalysis InferenceX, Apache-2.0)
The platform numbers below are copied from shared/data/reference_facts.csv (key names given in
each source string as ref:KEY). Hand-written layers (workloads, markets, finance, optimization,
scenarios) are not touched.
"""

from __future__ import annotations

import csv
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SA_AUG = "SemiAnalysis Market August 2025 Pricing Surveys & AI TCO model, via InferenceX (2025-08)"
SA_JUL = "SemiAnalysis Market July 2026 Pricing Surveys (2026-07-31)"

# name: (data key, long name, TCO hyperscaler/neocloud/rent Aug-2025, all-in IT kW Jul-2026)
PLATFORMS = {
    "h100": ("h100", "NVIDIA H100 (HGX, 8 GPUs per node)", (1.30, 1.69, 1.30), 1.37),
    "h200": ("h200", "NVIDIA H200 (HGX, 8 GPUs per node)", (1.41, 1.74, 1.60), 1.37),
    "b200": ("b200", "NVIDIA B200 (HGX, 8 GPUs per node)", (1.95, 2.34, 2.90), 1.71),
    "b300": ("b300", "NVIDIA B300 (HGX, 8 GPUs per node)", (2.34, 2.808, 3.48), 1.90),
    "gb200-nvl72": ("gb200", "NVIDIA GB200 NVL72 (72 GPUs per rack)", (2.21, 2.75, 3.30), 1.87),
    "gb300-nvl72": ("gb300", "NVIDIA GB300 NVL72 (72 GPUs per rack)", (2.652, 3.30, 3.96), 2.12),
    "mi300x": ("mi300x", "AMD MI300X (8 GPUs per node)", (1.12, 1.40, 1.55), 1.39),
    "mi325x": ("mi325x", "AMD MI325X (8 GPUs per node)", (1.28, 1.59, 1.80), 1.69),
    "mi355x": ("mi355x", "AMD MI355X (8 GPUs per node)", (1.48, 1.90, 2.10), 2.09),
}
TIERS = {"hyperscaler": 0, "neocloud": 1, "rent": 2}
TIER_KEY = {"hyperscaler": "tco_owning_hyperscaler_{}_aug2025", "neocloud": "tco_owning_neocloud_{}_aug2025", "rent": "tco_rent_3yr_{}_aug2025"}
#: capex per GPU = K_CAPEX x hyperscaler TCO $/GPU-hr (see the platform files for the anchors)
K_CAPEX = 35000.0
WORKLOADS = {"deepseek-r1-1k1k": (1024, 1024), "deepseek-r1-8k1k": (8192, 1024), "deepseek-r1-1k8k": (1024, 8192)}


def platform_file(name: str) -> str:
    key, long, tco, kw = PLATFORMS[name]
    med = K_CAPEX * tco[0]
    lo, hi = round(med * 0.8, -2), round(med * 1.25, -2)
    return f'''# Platform layer: {long}. Not a complete scenario: combine with a workload, a throughput curve,
# a market and a finance layer (see scenarios/). Check it alone with `mcroi priors check --partial`.
# SemiAnalysis TCO $/GPU-hr (Aug-2025): hyperscaler {tco[0]}, neocloud {tco[1]}, 3-yr rent {tco[2]}
# (ref:{TIER_KEY["hyperscaler"].format(key)} etc.); layers in platforms/tco/ use them as rates.

[capex]
usd_per_gpu = {{ ci90 = [{lo:.0f}, {hi:.0f}], source = "ESTIMATE (2026-11): {K_CAPEX:,.0f} x the hyperscaler TCO of {tco[0]} $/GPU-hr (ref:{TIER_KEY['hyperscaler'].format(key)}, {SA_AUG}) = ${med:,.0f}, -20%/+25% at 90%. The factor is the mean of two all-in anchors: H100 $50k/GPU and GB200 NVL72 $5M/72 GPUs (ref:gb200_nvl72_allin_per_rack_est, LessWrong/Nesov) over their TCO rates; hardware is >80% of that TCO (ref:colo_plus_power_share_of_tco)" }}

[power]
kw_per_gpu = {{ ci90 = [{kw * 0.9:.3f}, {kw * 1.1:.3f}], source = "ref:power_allin_it_{key}_jul2026 ({kw} kW all-in IT per GPU incl. host/NIC share, {SA_JUL}); +-10% ESTIMATE for load and configuration" }}
'''


def tco_file(name: str, tier: str) -> str:
    key, long, tco, _ = PLATFORMS[name]
    rate = tco[TIERS[tier]]
    what = {"hyperscaler": "owning, hyperscaler tier, 4-yr economic life", "neocloud": "owning, neocloud tier, 4-yr economic life", "rent": "renting from a neocloud, 3-yr contract, 25% upfront"}[tier]
    return f'''# Rate layer: {long} paid as an all-in hourly rate ({what}) instead of capex.
# The rate includes hardware, power and hosting, so capex, power and other opex are zero here.
# Extends the platform layer only for the record; every platform number it needs is overridden.

[scenario]
extends = ["../{name}.toml"]

[capex]
usd_per_gpu = {{ value = 0, source = "rate layer: no capital, the hourly rate pays for the hardware" }}

[opex]
usd_per_gpu_hour = {{ value = {rate}, source = "ref:{TIER_KEY[tier].format(key)} ({rate} $/GPU-hr, {what}; {SA_AUG})" }}
usd_per_gpu_month = {{ value = 0, source = "included in the hourly rate" }}
maintenance_pct_per_year = {{ value = 0, source = "included in the hourly rate" }}

[power]
kw_per_gpu = {{ value = 0, source = "included in the hourly rate (SemiAnalysis TCO covers power)" }}
'''


def load_knots() -> dict[tuple[str, int, int], list[tuple[float, float, str, str]]]:
    groups: dict[tuple[str, int, int], list[tuple[float, float, str, str]]] = defaultdict(list)
    with open(ROOT / "data" / "inferencex_dsr1_pareto_knots.csv", newline="") as f:
        for r in csv.DictReader(f):
            isl, osl = int(r["isl"]), int(r["osl"])
            out = float(r["total_tput_per_gpu"]) / (1 + isl / osl)
            groups[(r["hardware"], isl, osl)].append((float(r["median_intvty"]), out, r["config"], r["date"]))
    return groups


def curve_file(name: str, workload: str, knots: list[tuple[float, float, str, str]]) -> str:
    key, long, *_ = PLATFORMS[name]
    isl, osl = WORKLOADS[workload]
    knots = sorted(knots)
    dates = sorted(k[3] for k in knots)
    rows = ",\n".join(f"  [{x:g}, {y:.1f}]" for x, y, *_ in knots)
    return f'''# Throughput layer: {long} on DeepSeek-R1-0528, ISL {isl} / OSL {osl}.
# The measured Pareto frontier (all frameworks pooled), {len(knots)} knots measured {dates[0]} .. {dates[-1]}.
# Output tokens per GPU = total_tput_per_gpu / (1 + ISL/OSL) = total / {1 + isl / osl:g}: the data README's rule
# (for disaggregated rows the published output throughput is per decode GPU).
# Generated by priors/tools/build_library.py from priors/data/inferencex_dsr1_pareto_knots.csv.

[throughput]
curve = {{ knots = [
{rows},
], source = "SemiAnalysis InferenceX (Apache-2.0), inferencex_dsr1_pareto_knots.csv: {key} {isl}/{osl}, measured {dates[0]}..{dates[-1]}; [tok/s/user, output tok/s/GPU = total / {1 + isl / osl:g}]" }}
curve_scale = {{ dist = "lognormal", median = 1.0, gsd = 1.25, source = "ESTIMATE (2026-11): each config was down-sampled to <= 5 concurrency points (the curve is a lower bound) while production batching is less ideal than a benchmark; about -30%/+45% at 90%" }}
'''


def missing_curve_file(name: str, workload: str, anchor: tuple[str, float, float]) -> str:
    key, long, *_ = PLATFORMS[name]
    isl, osl = WORKLOADS[workload]
    src, x, y = anchor
    return f'''# Throughput layer: {long} on DeepSeek-R1-0528, ISL {isl} / OSL {osl}.
# NO MEASURED CURVE: InferenceX has no {key} {isl}/{osl} rows in the captured data. This layer gives one
# throughput, valid up to one service level (a one-knot curve: flat below it, zero above it), with a
# wide prior on its scale.

[throughput]
curve = {{ knots = [[{x:g}, {y:.1f}]], source = "ESTIMATE (2026-11): no InferenceX measurement for {key} {isl}/{osl}; {src}" }}
curve_scale = {{ dist = "lognormal", median = 1.0, gsd = 1.8, source = "ESTIMATE (2026-11): unmeasured, so about 2.6x either way at 90%" }}
'''


#: gpt-oss-120b (reasoning, 1k/8k) at ~90 tok/s/user: tok/s per all-in provisioned MW (InferenceMAX v1
#: blog, 2025-10-09, ref:gptoss_tok_per_mw_*_90tps) x provisioned kW/GPU (ref:power_allin_provisioned_*_aug2025)
GPTOSS_MEASURED = {"h100": (900000, 1.73), "b200": (2800000, 2.17), "mi300x": (750000, 1.79), "mi355x": (2550000, 2.65)}
#: platforms without a gpt-oss figure: (scaled from, factor, why)
GPTOSS_SCALED = {
    "h200": ("h100", 1.2, "H200/H100 hyperscaler TCO ratio 1.41/1.30 rounded up for the larger HBM"),
    "b300": ("b200", 1.2, "B300/B200 hyperscaler TCO ratio 2.34/1.95"),
    "gb200-nvl72": ("b200", 1.1, "NVL72 vs HGX B200 on a model that fits one GPU: small gain; cf. ~20.8k tok/s/GPU at low interactivity (ref:nv_gptoss_gb200_rack_tput)"),
    "gb300-nvl72": ("b200", 1.3, "GB300/B200 hyperscaler TCO ratio 2.65/1.95, rounded down"),
    "mi325x": ("mi300x", 1.15, "MI325X/MI300X hyperscaler TCO ratio 1.28/1.12"),
}


def gptoss_file(name: str) -> str:
    long = PLATFORMS[name][1]
    if name in GPTOSS_MEASURED:
        per_mw, kw = GPTOSS_MEASURED[name]
        y = per_mw * kw / 1000
        src = (
            f"ref:gptoss_tok_per_mw_{name}_90tps ({per_mw:,.0f} tok/s per all-in MW at ~90 tok/s/user, InferenceMAX v1 blog, 2025-10-09) "
            f"x ref:power_allin_provisioned_{name}_aug2025 ({kw} kW) = {y:,.0f} tok/s/GPU; total tokens of a 1k/8k mix, counted as output (1/9 are input)"
        )
        gsd, why = 1.4, "ESTIMATE (2026-11): one published operating point read off a chart, no curve; about -40%/+75% at 90%"
    else:
        base, k, reason = GPTOSS_SCALED[name]
        per_mw, kw = GPTOSS_MEASURED[base]
        y = per_mw * kw / 1000 * k
        src = f"ESTIMATE (2026-11): the {base} figure ({per_mw * kw / 1000:,.0f} tok/s/GPU, ref:gptoss_tok_per_mw_{base}_90tps) x {k} ({reason})"
        gsd, why = 1.8, "ESTIMATE (2026-11): no measurement for this platform, so about 2.6x either way at 90%"
    return f'''# Throughput layer: {long} on gpt-oss-120b (reasoning, 1k in / 8k out).
# NO MEASURED CURVE: the captured InferenceX data cover DeepSeek-R1 only. This layer gives one throughput
# at ~90 tok/s/user (a one-knot curve: flat below it, zero above it) with a wide prior on its scale.

[throughput]
curve = {{ knots = [[90, {y:.1f}]], source = "{src}" }}
curve_scale = {{ dist = "lognormal", median = 1.0, gsd = {gsd}, source = "{why}" }}
'''


def main() -> None:
    (ROOT / "platforms" / "tco").mkdir(parents=True, exist_ok=True)
    for name in PLATFORMS:
        (ROOT / "platforms" / f"{name}.toml").write_text(platform_file(name))
        for tier in TIERS:
            (ROOT / "platforms" / "tco" / f"{name}-{tier}.toml").write_text(tco_file(name, tier))
    groups = load_knots()
    for wl, (isl, osl) in WORKLOADS.items():
        d = ROOT / "curves" / wl
        d.mkdir(parents=True, exist_ok=True)
        for name, (key, *_) in PLATFORMS.items():
            knots = groups.get((key, isl, osl))
            if knots:
                text = curve_file(name, wl, knots)
            else:
                # B300 1k/8k: the B200 1k/8k frontier at 50 tok/s/user x the B300/B200 ratio at 1k/1k
                b200 = sorted(groups[("b200", isl, osl)])
                x = 51.5
                y = b200[0][1] * 1.2
                text = missing_curve_file(
                    name, wl, (f"B200 {isl}/{osl} measured {b200[0][1]:.0f} output tok/s/GPU at {x} tok/s/user x 1.2 (the B300/B200 hyperscaler TCO ratio as a performance proxy)", x, y)
                )
            (d / f"{name}.toml").write_text(text)
    d = ROOT / "curves" / "gpt-oss-120b"
    d.mkdir(parents=True, exist_ok=True)
    for name in PLATFORMS:
        (d / f"{name}.toml").write_text(gptoss_file(name))


if __name__ == "__main__":
    main()
