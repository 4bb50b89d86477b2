"""Numbers and values as a priors file gives them, and as error messages show them."""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from typing import Any


def fmt(v: Any) -> str:
    """Render a value as TOML-ish text for messages."""
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, float):
        if math.isnan(v):
            return "nan"
        if math.isinf(v):
            return "inf" if v > 0 else "-inf"
        return f"{v:g}"
    if isinstance(v, int):
        text = str(v) if v.bit_length() < 200 else f"{str(v)[:12]}... ({len(str(v))} digits)"
        return text
    if isinstance(v, str):
        return json.dumps(v)
    if isinstance(v, Mapping):
        return "{ " + ", ".join(f"{k} = {fmt(x)}" for k, x in v.items()) + " }"
    if isinstance(v, list | tuple):
        inner = ", ".join(fmt(x) for x in v[:6])
        return "[" + inner + (", ..." if len(v) > 6 else "") + "]"
    return repr(v)


def is_number(v: Any) -> bool:
    """An int or float, not a bool."""
    return isinstance(v, int | float) and not isinstance(v, bool)


def num(v: Any) -> float | None:
    """A finite float, or None."""
    if not is_number(v):
        return None
    try:
        x = float(v)
    except OverflowError:  # an integer beyond the float range (a 400-digit gpus)
        return None
    return x if math.isfinite(x) else None
