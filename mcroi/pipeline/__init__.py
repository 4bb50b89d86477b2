"""The pipeline every command and the Python API go through.

priors -> engine -> guards -> summaries -> run folder (``_simulate``), the same for several
scenarios on common random numbers (``_compare``), the sensitivity tables and charts
(``_sensitivity``) and verification of a run folder (``_verify``).
"""

from mcroi.pipeline._compare import compare as compare
from mcroi.pipeline._compare import write_compare as write_compare
from mcroi.pipeline._decide import goal_seek as goal_seek
from mcroi.pipeline._decide import reverse_stress as reverse_stress
from mcroi.pipeline._decide import stress as stress
from mcroi.pipeline._decide import value_of_information as value_of_information
from mcroi.pipeline._sensitivity import PER_YEAR as PER_YEAR
from mcroi.pipeline._sensitivity import compute_sensitivity as compute_sensitivity
from mcroi.pipeline._sensitivity import load_sensitivity_run as load_sensitivity_run
from mcroi.pipeline._sensitivity import ranking_table as ranking_table
from mcroi.pipeline._sensitivity import stacked_fn as stacked_fn
from mcroi.pipeline._sensitivity import write_default as write_default
from mcroi.pipeline._sensitivity import write_sensitivity as write_sensitivity
from mcroi.pipeline._simulate import backend_info as backend_info
from mcroi.pipeline._simulate import command_line as command_line
from mcroi.pipeline._simulate import default_run_dir as default_run_dir
from mcroi.pipeline._simulate import load_priors as load_priors
from mcroi.pipeline._simulate import simulate as simulate
from mcroi.pipeline._simulate import versions as versions
from mcroi.pipeline._verify import Check as Check
from mcroi.pipeline._verify import verify as verify
from mcroi.runs import compare_dataset as compare_dataset

__all__ = [
    "Check",
    "goal_seek",
    "reverse_stress",
    "stress",
    "value_of_information",
    "PER_YEAR",
    "backend_info",
    "command_line",
    "compare",
    "compare_dataset",
    "compute_sensitivity",
    "default_run_dir",
    "load_priors",
    "load_sensitivity_run",
    "ranking_table",
    "simulate",
    "stacked_fn",
    "verify",
    "versions",
    "write_compare",
    "write_default",
    "write_sensitivity",
]
