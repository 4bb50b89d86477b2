"""The ``mcroi`` command line: click commands that parse options, call one pipeline function, print."""

from mcroi.cli._main import main as main

__all__ = ["main"]
