"""Priors: TOML files -> a validated :class:`PriorSet`.

The first stage of the pipeline. The input schema (``_schema``), the family registry
(``_families``: parameters, validation, inverse CDF, CDF), one input's distribution (``_dist``),
the resolved scenario (``_priorset``), the parser (``_parse``), rank correlations
(``_correlation``), the shipped library (``_library``), fitting families to data (``_fitting``)
and rebuilding a PriorSet from a run's manifest (``_resolved``). Priors are data:
nothing here evaluates code.
"""

from mcroi.priors._correlation import CorrelationRepairWarning as CorrelationRepairWarning
from mcroi.priors._correlation import correlation_matrix as correlation_matrix
from mcroi.priors._correlation import nearest_correlation as nearest_correlation
from mcroi.priors._correlation import pearson_to_spearman as pearson_to_spearman
from mcroi.priors._correlation import repair_notes as repair_notes
from mcroi.priors._correlation import spearman_to_pearson as spearman_to_pearson
from mcroi.priors._correlation import target_spearman as target_spearman
from mcroi.priors._dist import Dist as Dist
from mcroi.priors._dist import cdf as cdf
from mcroi.priors._dist import ppf as ppf
from mcroi.priors._dist import ppf_z as ppf_z
from mcroi.priors._families import FAMILIES as FAMILIES
from mcroi.priors._families import Z95 as Z95
from mcroi.priors._families import Family as Family
from mcroi.priors._families import empirical_positions as empirical_positions
from mcroi.priors._fitting import fit_families as fit_families
from mcroi.priors._fitting import read_column as read_column
from mcroi.priors._fitting import toml_line as toml_line
from mcroi.priors._library import LAYER_DIRS as LAYER_DIRS
from mcroi.priors._library import default_path as default_path
from mcroi.priors._library import describe_file as describe_file
from mcroi.priors._library import is_layer as is_layer
from mcroi.priors._library import library_root as library_root
from mcroi.priors._library import resolve_path as resolve_path
from mcroi.priors._parse import _Collector as _Collector
from mcroi.priors._parse import from_dict as from_dict
from mcroi.priors._parse import load as load
from mcroi.priors._parse import parse_dist as parse_dist
from mcroi.priors._priorset import Correlation as Correlation
from mcroi.priors._priorset import PriorsError as PriorsError
from mcroi.priors._priorset import PriorSet as PriorSet
from mcroi.priors._priorset import correlation_pairs as correlation_pairs
from mcroi.priors._resolved import from_resolved as from_resolved
from mcroi.priors._schema import ALL_KEYS as ALL_KEYS
from mcroi.priors._schema import CONTRACT_VERSION as CONTRACT_VERSION
from mcroi.priors._schema import CURVE_KEY as CURVE_KEY
from mcroi.priors._schema import DERIVED as DERIVED
from mcroi.priors._schema import HORIZON_KEY as HORIZON_KEY
from mcroi.priors._schema import HOURS_PER_MONTH as HOURS_PER_MONTH
from mcroi.priors._schema import INPUTS as INPUTS
from mcroi.priors._schema import SWITCHES as SWITCHES
from mcroi.priors._schema import input_unit as input_unit

__all__ = [
    "ALL_KEYS",
    "DERIVED",
    "SWITCHES",
    "input_unit",
    "CONTRACT_VERSION",
    "CURVE_KEY",
    "Correlation",
    "CorrelationRepairWarning",
    "Dist",
    "FAMILIES",
    "Family",
    "HORIZON_KEY",
    "HOURS_PER_MONTH",
    "INPUTS",
    "LAYER_DIRS",
    "PriorSet",
    "PriorsError",
    "Z95",
    "_Collector",
    "cdf",
    "correlation_matrix",
    "correlation_pairs",
    "default_path",
    "describe_file",
    "empirical_positions",
    "fit_families",
    "from_dict",
    "from_resolved",
    "is_layer",
    "library_root",
    "load",
    "nearest_correlation",
    "parse_dist",
    "pearson_to_spearman",
    "ppf",
    "ppf_z",
    "read_column",
    "repair_notes",
    "resolve_path",
    "spearman_to_pearson",
    "target_spearman",
    "toml_line",
]
