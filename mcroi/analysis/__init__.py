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
from mcroi.analysis._market import FLAG_RATIO as FLAG_RATIO
from mcroi.analysis._market import finish_summary as finish_summary
from mcroi.analysis._market import market_check as market_check
from mcroi.analysis._market import rent_stats as rent_stats
from mcroi.analysis._methods import METHODS as METHODS
from mcroi.analysis._methods import METHODS_REGISTRY as METHODS_REGISTRY
from mcroi.analysis._methods import Design as Design
from mcroi.analysis._methods import SensitivityMethod as SensitivityMethod
from mcroi.analysis._seek import GoalResult as GoalResult
from mcroi.analysis._seek import goal_seek as goal_seek
from mcroi.analysis._seek import statistic_se as statistic_se
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
from mcroi.analysis._stress import HIGH_BAND as HIGH_BAND
from mcroi.analysis._stress import LOW_BAND as LOW_BAND
from mcroi.analysis._stress import ReverseStress as ReverseStress
from mcroi.analysis._stress import StressError as StressError
from mcroi.analysis._stress import Target as Target
from mcroi.analysis._stress import band_mask as band_mask
from mcroi.analysis._stress import band_stress as band_stress
from mcroi.analysis._stress import describe_weighted as describe_weighted
from mcroi.analysis._stress import every_band as every_band
from mcroi.analysis._stress import parse_target as parse_target
from mcroi.analysis._stress import reverse_stress as reverse_stress
from mcroi.analysis._stress import tilt_weights as tilt_weights
from mcroi.analysis._stress import weighted_quantile as weighted_quantile
from mcroi.analysis._summaries import PERCENTILES as PERCENTILES
from mcroi.analysis._summaries import describe as describe
from mcroi.analysis._summaries import headline_means as headline_means
from mcroi.analysis._summaries import irr_with_total_losses as irr_with_total_losses
from mcroi.analysis._summaries import moments as moments
from mcroi.analysis._summaries import probability as probability
from mcroi.analysis._summaries import quantile as quantile
from mcroi.analysis._summaries import quantile_mcse as quantile_mcse
from mcroi.analysis._summaries import risk as risk
from mcroi.analysis._summaries import summarize as summarize
from mcroi.analysis._summaries import summarize_stream as summarize_stream
from mcroi.analysis._threads import column_quantiles as column_quantiles
from mcroi.analysis._verify import compare_draws as compare_draws
from mcroi.analysis._verify import recompute as recompute
from mcroi.analysis._verify import same_bits as same_bits
from mcroi.analysis._verify import select_indices as select_indices
from mcroi.analysis._voi import FOLDS as VOI_FOLDS
from mcroi.analysis._voi import GROUPS as GROUPS
from mcroi.analysis._voi import Value as Value
from mcroi.analysis._voi import VoiResult as VoiResult
from mcroi.analysis._voi import evpi as evpi
from mcroi.analysis._voi import evppi as evppi
from mcroi.analysis._voi import study_value as study_value
from mcroi.analysis._voi import value_of_information as value_of_information

__all__ = [
    "GoalResult",
    "goal_seek",
    "statistic_se",
    "HIGH_BAND",
    "LOW_BAND",
    "ReverseStress",
    "StressError",
    "Target",
    "band_mask",
    "band_stress",
    "describe_weighted",
    "VOI_FOLDS",
    "study_value",
    "every_band",
    "parse_target",
    "reverse_stress",
    "tilt_weights",
    "weighted_quantile",
    "GROUPS",
    "Value",
    "VoiResult",
    "evpi",
    "evppi",
    "value_of_information",
    "CLT_BIN",
    "DEFAULT_COVENANT",
    "DSCR_PERCENTILES",
    "DOMINANCE_ALPHA",
    "Design",
    "DrawFn",
    "FLAG_RATIO",
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
    "column_quantiles",
    "combined_sha256",
    "compare_draws",
    "conditional",
    "conditional_from_draws",
    "contract_fn",
    "describe",
    "dominance",
    "dscr_bands",
    "evaluate_design",
    "finish_summary",
    "first_order",
    "headline_means",
    "has_debt",
    "irr_ranked",
    "irr_with_total_losses",
    "make_priors",
    "market_check",
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
    "rent_stats",
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
