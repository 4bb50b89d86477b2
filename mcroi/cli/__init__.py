"""The ``mcroi`` command line: click commands that parse options, call one pipeline function, print."""

import sys
from typing import TYPE_CHECKING

from mcroi._lazy import attach
from mcroi.cli._exit import run_and_exit
from mcroi.report._painter import start_early

if TYPE_CHECKING:  # imported on first use (mcroi._lazy): run() starts the chart helper first
    from mcroi.cli._main import main as main


def starts_chart_helper(args: list[str]) -> bool:
    """Whether the command line ``args`` is a ``mcroi simulate`` that may draw its charts in a helper
    (not help, not a process of a distributed run: only process 0 writes, and it draws here)."""
    return args[:1] == ["simulate"] and not {"-h", "--help", "--distributed"} & set(args)


def run() -> None:
    """The ``mcroi`` console command (and ``python -m mcroi``): :func:`main`, then a quick exit
    (:func:`mcroi.cli._exit.run_and_exit`).

    ``mcroi simulate`` starts its chart helper (:func:`mcroi.report._painter.start_early`) before
    the command line loads JAX and the pipeline, so that the two processes import side by side."""
    if starts_chart_helper(sys.argv[1:]):
        start_early()
    from mcroi.cli._main import main

    run_and_exit(main)


__all__ = ["main", "run", "starts_chart_helper"]

__getattr__, __dir__ = attach(__name__, __file__)
