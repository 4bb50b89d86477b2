"""User errors of the command line: one line (or a few for priors), exit code 2, never a traceback."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import click

from mcroi.priors import PriorsError

EXIT_USAGE = 2


class UserError(click.ClickException):
    """A one-line (or several-line) user error, exit 2."""

    exit_code = EXIT_USAGE

    def show(self, file: Any = None) -> None:
        click.echo(self.format_message(), err=True)


def user_errors[F: Callable[..., Any]](fn: F) -> F:
    """Turn the library's user-facing exceptions into one-line errors with exit code 2."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        from mcroi.analysis import StressError
        from mcroi.engine import MemoryGuardError, NumericGuardError, OptionError
        from mcroi.runs import RunExistsError, RunFolderError, RunWriteError

        try:
            return fn(*args, **kwargs)
        except PriorsError as e:
            raise UserError("\n".join(e.lines)) from None
        except (RunExistsError, RunFolderError, RunWriteError) as e:
            raise UserError(str(e)) from None
        except (NumericGuardError, MemoryGuardError, OptionError) as e:
            raise UserError(str(e)) from None
        except StressError as e:  # the decision commands' option errors: ``--option = value: reason``
            name = e.option if e.option == "run" else f"--{e.option}"
            raise UserError(f"{name} = {e.value}: {e.reason}") from None

    return wrapper  # type: ignore[return-value]
