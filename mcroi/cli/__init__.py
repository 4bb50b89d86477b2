"""The ``mcroi`` command line: click commands that parse options, call one pipeline function, print."""

from mcroi.cli._exit import run_and_exit
from mcroi.cli._main import main as main


def run() -> None:
    """The ``mcroi`` console command (and ``python -m mcroi``): :func:`main`, then a quick exit
    (:func:`mcroi.cli._exit.run_and_exit`)."""
    run_and_exit(main)


__all__ = ["main", "run"]
