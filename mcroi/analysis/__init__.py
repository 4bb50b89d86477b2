"""Analysis of draws: summaries and risk metrics, sensitivity methods, paired comparison, verification.

NumPy/SciPy functions of per-draw arrays (and the engine, for designs that re-evaluate the
contract). No files, no xarray: :mod:`mcroi.pipeline` and :mod:`mcroi.runs` are the shell.
"""

from mcroi.analysis._capital import DEFAULT_COVENANT as DEFAULT_COVENANT
from mcroi.analysis._capital import DSCR_PERCENTILES as DSCR_PERCENTILES
from mcroi.analysis._capital import breach_by_year as breach_by_year
from mcroi.analysis._capital import capital_summary as capital_summary
from mcroi.analysis._capital import capital_versus as capital_versus
from mcroi.analysis._capital import check_covenant as check_covenant
from mcroi.analysis._capital import dscr_bands as dscr_bands
from mcroi.analysis._capital import has_debt as has_debt
from mcroi.analysis._capital import irr_ranked as irr_ranked
from mcroi.analysis._compare import DOMINANCE_ALPHA as DOMINANCE_ALPHA
from mcroi.analysis._compare import INDEPENDENT_DRAWS as INDEPENDENT_DRAWS
from mcroi.analysis._compare import baseline_index as baseline_index
from mcroi.analysis._compare import combined_sha256 as combined_sha256
from mcroi.analysis._compare import dominance as dominance
from mcroi.analysis._compare import paired_ratio as paired_ratio
from mcroi.analysis._compare import platform_labels as platform_labels
from mcroi.analysis._compare import platform_summary as platform_summary
from mcroi.analysis._compare import prob_greater as prob_greater
from mcroi.analysis._compare import union_inputs as union_inputs
from mcroi.analysis._compare import variance_reduction as variance_reduction
from mcroi.analysis._compare import versus as versus
from mcroi.analysis._methods import METHODS as METHODS
from mcroi.analysis._methods import METHODS_REGISTRY as METHODS_REGISTRY
from mcroi.analysis._methods import Design as Design
from mcroi.analysis._methods import SensitivityMethod as SensitivityMethod
from mcroi.analysis._sensitivity import CLT_BIN as CLT_BIN
from mcroi.analysis._sensitivity import R2_WARN as R2_WARN
from mcroi.analysis._sensitivity import DrawFn as DrawFn
from mcroi.analysis._sensitivity import Result as Result
from mcroi.analysis._sensitivity import conditional as conditional
from mcroi.analysis._sensitivity import conditional_from_draws as conditional_from_draws
from mcroi.analysis._sensitivity import contract_fn as contract_fn
from mcroi.analysis._sensitivity import evaluate_design as evaluate_design
from mcroi.analysis._sensitivity import first_order as first_order
from mcroi.analysis._sensitivity import make_priors as make_priors
from mcroi.analysis._sensitivity import monte_carlo as monte_carlo
from mcroi.analysis._sensitivity import rank as rank
from mcroi.analysis._sensitivity import rank_bootstrap as rank_bootstrap
from mcroi.analysis._sensitivity import rank_from_draws as rank_from_draws
from mcroi.analysis._sensitivity import rank_regression as rank_regression
from mcroi.analysis._sensitivity import sobol as sobol
from mcroi.analysis._sensitivity import swing as swing
from mcroi.analysis._sensitivity import varying as varying
from mcroi.analysis._summaries import PERCENTILES as PERCENTILES
from mcroi.analysis._summaries import describe as describe
from mcroi.analysis._summaries import irr_with_total_losses as irr_with_total_losses
from mcroi.analysis._summaries import moments as moments
from mcroi.analysis._summaries import probability as probability
from mcroi.analysis._summaries import quantile as quantile
from mcroi.analysis._summaries import quantile_mcse as quantile_mcse
from mcroi.analysis._summaries import risk as risk
from mcroi.analysis._summaries import summarize as summarize
from mcroi.analysis._summaries import summarize_stream as summarize_stream
from mcroi.analysis._verify import compare_draws as compare_draws
from mcroi.analysis._verify import recompute as recompute
from mcroi.analysis._verify import same_bits as same_bits
from mcroi.analysis._verify import select_indices as select_indices

__all__ = [
    "CLT_BIN",
    "DEFAULT_COVENANT",
    "DSCR_PERCENTILES",
    "DOMINANCE_ALPHA",
    "Design",
    "DrawFn",
    "INDEPENDENT_DRAWS",
    "METHODS",
    "METHODS_REGISTRY",
    "PERCENTILES",
    "R2_WARN",
    "Result",
    "SensitivityMethod",
    "baseline_index",
    "breach_by_year",
    "capital_summary",
    "capital_versus",
    "check_covenant",
    "combined_sha256",
    "compare_draws",
    "conditional",
    "conditional_from_draws",
    "contract_fn",
    "describe",
    "dominance",
    "dscr_bands",
    "evaluate_design",
    "first_order",
    "has_debt",
    "irr_ranked",
    "irr_with_total_losses",
    "make_priors",
    "moments",
    "monte_carlo",
    "paired_ratio",
    "platform_labels",
    "platform_summary",
    "prob_greater",
    "probability",
    "quantile",
    "quantile_mcse",
    "rank",
    "rank_bootstrap",
    "rank_from_draws",
    "rank_regression",
    "recompute",
    "risk",
    "same_bits",
    "select_indices",
    "sobol",
    "summarize",
    "summarize_stream",
    "swing",
    "union_inputs",
    "variance_reduction",
    "varying",
    "versus",
]
