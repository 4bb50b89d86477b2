"""Money and finiteness as mcroi writes them for a person, with no dependency at all: the charts
drawn in the helper process (:class:`mcroi.report.Painter`) format their axes with these without
loading the engine. :mod:`mcroi.runs` re-exports them beside the other formatters.
"""

from __future__ import annotations

import math
from typing import Any

_SCALES = ((1e9, "B"), (1e6, "M"), (1e3, "k"))


def finite(x: Any) -> bool:
    """Whether ``x`` is a finite real number (bools and None are not)."""
    return isinstance(x, int | float) and not isinstance(x, bool) and math.isfinite(x)


def money(x: Any, digits: int = 1, symbol: str = "$") -> str:
    """``$12.3M``-style text of a USD amount; ``n/a`` for NaN or None, ``+inf``/``-inf`` for infinities."""
    if x is None:
        return "n/a"
    x = float(x)
    if not math.isfinite(x):
        return "n/a" if math.isnan(x) else ("+inf" if x > 0 else "-inf")
    a = abs(x)
    sign = "-" if x < 0 else ""
    for div, suffix in _SCALES:
        if a >= div:
            return f"{sign}{symbol}{a / div:,.{digits}f}{suffix}"
    return f"{sign}{symbol}{a:,.0f}"
