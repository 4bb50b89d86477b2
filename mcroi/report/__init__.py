"""The committee report: plots and one self-contained HTML page, drawn from a run folder.

matplotlib only; no JAX. Every number comes from the run folder (``mcroi.runs``) or from the
engine's functions; nothing here computes the contract.
"""

from typing import TYPE_CHECKING

from mcroi._lazy import attach

if TYPE_CHECKING:  # imported on first use (mcroi._lazy): the chart helper loads only its charts' modules
    from mcroi.report._compare_plots import all_plots as compare_plots
    from mcroi.report._decide import FILES as DECISION_FILES
    from mcroi.report._decide import section as decide_section
    from mcroi.report._decide import stress_figure as stress_figure
    from mcroi.report._decide import voi_figure as voi_figure
    from mcroi.report._fanchart import FAN_DRAWS as FAN_DRAWS
    from mcroi.report._fanchart import cumulative_cash as cumulative_cash
    from mcroi.report._fanchart import fan as fan
    from mcroi.report._fanchart import payback_cdf as payback_cdf
    from mcroi.report._figures import clean_svg as clean_svg
    from mcroi.report._figures import pyplot as pyplot
    from mcroi.report._html import CSP as CSP
    from mcroi.report._html import build as build_html
    from mcroi.report._html import fmt_num as fmt_num
    from mcroi.report._html import write as write_html
    from mcroi.report._lender import Waterfall as Waterfall
    from mcroi.report._lender import waterfall as waterfall
    from mcroi.report._painter import Painter as Painter
    from mcroi.report._painter import land as land
    from mcroi.report._painter import render as render
    from mcroi.report._plots import distribution as distribution_plot
    from mcroi.report._tornado import heatmap as heatmap
    from mcroi.report._tornado import scale_for as scale_for
    from mcroi.report._tornado import tornado as tornado

__all__ = [
    "CSP",
    "DECISION_FILES",
    "decide_section",
    "stress_figure",
    "voi_figure",
    "FAN_DRAWS",
    "Painter",
    "Waterfall",
    "build_html",
    "clean_svg",
    "compare_plots",
    "cumulative_cash",
    "distribution_plot",
    "fan",
    "fmt_num",
    "heatmap",
    "land",
    "payback_cdf",
    "pyplot",
    "render",
    "scale_for",
    "tornado",
    "waterfall",
    "write_html",
]

__getattr__, __dir__ = attach(__name__, __file__)
