"""The engine: counter-based sampling, the contract model, IRR, and the tiled runner.

The second stage of the pipeline and the only place that jits. ``_sampling`` maps keyed uniforms
through each family's inverse CDF; ``_model`` is contract v1 on a tile (months x draws);
``_irr`` solves the IRR; ``_runner`` jits, chunks and shards; ``_guards`` checks numbers and
memory; ``_sketch`` streams summaries; ``_devices`` sets up devices and processes; ``_outputs``
is the output registry. No files, no terminal.
"""

from mcroi.engine._devices import OptionError as OptionError
from mcroi.engine._devices import available_memory as available_memory
from mcroi.engine._devices import cache_dir as cache_dir
from mcroi.engine._devices import configure_host_devices as configure_host_devices
from mcroi.engine._devices import enable_compilation_cache as enable_compilation_cache
from mcroi.engine._devices import gather_to_zero as gather_to_zero
from mcroi.engine._devices import initialize_distributed as initialize_distributed
from mcroi.engine._devices import process_range as process_range
from mcroi.engine._guards import DEFAULT_MAX_FRACTION as DEFAULT_MAX_FRACTION
from mcroi.engine._guards import MEMORY_HEADROOM as MEMORY_HEADROOM
from mcroi.engine._guards import MemoryGuardError as MemoryGuardError
from mcroi.engine._guards import NumericGuardError as NumericGuardError
from mcroi.engine._guards import NumericReport as NumericReport
from mcroi.engine._guards import check_memory as check_memory
from mcroi.engine._guards import check_numeric as check_numeric
from mcroi.engine._guards import enforce_numeric as enforce_numeric
from mcroi.engine._guards import merge_numeric as merge_numeric
from mcroi.engine._guards import numeric_error_line as numeric_error_line
from mcroi.engine._guards import run_memory as run_memory
from mcroi.engine._irr import irr_batch as irr_batch
from mcroi.engine._irr import irr_monthly as irr_monthly
from mcroi.engine._kernels import cumulative_cash as cumulative_cash
from mcroi.engine._model import Outputs as Outputs
from mcroi.engine._model import curve_throughput as curve_throughput
from mcroi.engine._model import discount_factors as discount_factors
from mcroi.engine._model import equity_cashflow as equity_cashflow
from mcroi.engine._model import evaluate as evaluate
from mcroi.engine._model import evaluate_batch as evaluate_batch
from mcroi.engine._model import evaluate_without_irr as evaluate_without_irr
from mcroi.engine._model import monthly as monthly
from mcroi.engine._model import powers as powers
from mcroi.engine._model import price_factors as price_factors
from mcroi.engine._outputs import ANNUAL_OUTPUTS as ANNUAL_OUTPUTS
from mcroi.engine._outputs import OUTPUTS as OUTPUTS
from mcroi.engine._outputs import SCALAR_OUTPUTS as SCALAR_OUTPUTS
from mcroi.engine._outputs import OutputSpec as OutputSpec
from mcroi.engine._outputs import irr_for_summaries as irr_for_summaries
from mcroi.engine._runner import DEFAULT_CHUNK as DEFAULT_CHUNK
from mcroi.engine._runner import PRECISIONS as PRECISIONS
from mcroi.engine._runner import SUBSAMPLE as SUBSAMPLE
from mcroi.engine._runner import TILE as TILE
from mcroi.engine._runner import Batched as Batched
from mcroi.engine._runner import ProgressFn as ProgressFn
from mcroi.engine._runner import RunArrays as RunArrays
from mcroi.engine._runner import clear_caches as clear_caches
from mcroi.engine._runner import design_cache_size as design_cache_size
from mcroi.engine._runner import evaluate_inputs as evaluate_inputs
from mcroi.engine._runner import fetch_rows as fetch_rows
from mcroi.engine._runner import host_rows as host_rows
from mcroi.engine._runner import make_mesh as make_mesh
from mcroi.engine._runner import make_step as make_step
from mcroi.engine._runner import run as run
from mcroi.engine._sampling import DEFAULT_MONTH as DEFAULT_MONTH
from mcroi.engine._sampling import MAX_SEED as MAX_SEED
from mcroi.engine._sampling import ONE_BELOW_32 as ONE_BELOW_32
from mcroi.engine._sampling import ONE_BELOW_64 as ONE_BELOW_64
from mcroi.engine._sampling import PRICE_PATH as PRICE_PATH
from mcroi.engine._sampling import add_path_draws as add_path_draws
from mcroi.engine._sampling import canonicalize_key as canonicalize_key
from mcroi.engine._sampling import copula_factor as copula_factor
from mcroi.engine._sampling import correlated_block as correlated_block
from mcroi.engine._sampling import derived_names as derived_names
from mcroi.engine._sampling import name_keys as name_keys
from mcroi.engine._sampling import path_keys as path_keys
from mcroi.engine._sampling import run_keys as run_keys
from mcroi.engine._sampling import sample as sample
from mcroi.engine._sampling import stored_names as stored_names
from mcroi.engine._sampling import transform as transform
from mcroi.engine._sampling import uniforms as uniforms
from mcroi.engine._shift import SHIFT_MODES as SHIFT_MODES
from mcroi.engine._shift import shifted_outputs as shifted_outputs
from mcroi.engine._sketch import ALPHA as ALPHA
from mcroi.engine._sketch import MIN_ABS as MIN_ABS
from mcroi.engine._sketch import Moments as Moments
from mcroi.engine._sketch import OutputStream as OutputStream
from mcroi.engine._sketch import QuantileSketch as QuantileSketch
from mcroi.engine._sketch import RunStream as RunStream
from mcroi.engine._sketch import describe_stream as describe_stream
from mcroi.engine._sketch import summary_dict as summary_dict
from mcroi.engine._threads import thread_map as thread_map

__all__ = [
    "ALPHA",
    "ANNUAL_OUTPUTS",
    "Batched",
    "DEFAULT_CHUNK",
    "DEFAULT_MAX_FRACTION",
    "MAX_SEED",
    "MEMORY_HEADROOM",
    "MIN_ABS",
    "MemoryGuardError",
    "Moments",
    "NumericGuardError",
    "NumericReport",
    "ONE_BELOW_32",
    "ONE_BELOW_64",
    "OUTPUTS",
    "OptionError",
    "OutputSpec",
    "OutputStream",
    "Outputs",
    "PRECISIONS",
    "ProgressFn",
    "QuantileSketch",
    "RunArrays",
    "RunStream",
    "SCALAR_OUTPUTS",
    "SHIFT_MODES",
    "SUBSAMPLE",
    "TILE",
    "available_memory",
    "cache_dir",
    "canonicalize_key",
    "check_memory",
    "check_numeric",
    "merge_numeric",
    "clear_caches",
    "configure_host_devices",
    "copula_factor",
    "correlated_block",
    "cumulative_cash",
    "curve_throughput",
    "describe_stream",
    "design_cache_size",
    "discount_factors",
    "enable_compilation_cache",
    "enforce_numeric",
    "evaluate",
    "evaluate_batch",
    "evaluate_inputs",
    "evaluate_without_irr",
    "equity_cashflow",
    "fetch_rows",
    "gather_to_zero",
    "host_rows",
    "initialize_distributed",
    "irr_batch",
    "irr_for_summaries",
    "irr_monthly",
    "make_mesh",
    "make_step",
    "monthly",
    "name_keys",
    "DEFAULT_MONTH",
    "PRICE_PATH",
    "add_path_draws",
    "derived_names",
    "path_keys",
    "stored_names",
    "run_keys",
    "numeric_error_line",
    "powers",
    "price_factors",
    "process_range",
    "run",
    "run_memory",
    "sample",
    "shifted_outputs",
    "summary_dict",
    "thread_map",
    "transform",
    "uniforms",
]
