"""A :class:`PriorSet` rebuilt from its resolved form (a run's ``manifest.json``)."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

from mcroi.priors._dist import Dist
from mcroi.priors._priorset import Correlation, PriorsError, PriorSet


def from_resolved(resolved: Mapping[str, Any], files: Sequence[str] = (), where: str = "manifest.json") -> PriorSet:
    """Rebuild a :class:`PriorSet` from :meth:`PriorSet.resolved` (the manifest's ``priors``).

    The result hashes to the same :meth:`PriorSet.sha256` as the original when nothing was
    changed, which is how a run sent without its priors files can still be checked.

    Raises
    ------
    PriorsError
        When the stored priors are malformed (one line naming ``where`` and the key).
    """
    try:
        inputs: dict[str, Dist] = {}
        for name, d in resolved["inputs"].items():
            inputs[name] = Dist(
                family=str(d["family"]),
                params=tuple(float(x) for x in d["params"]),
                lower=-math.inf if d.get("lower") is None else float(d["lower"]),
                upper=math.inf if d.get("upper") is None else float(d["upper"]),
                source=d.get("source"),
                spec=dict(d.get("spec") or {}),
                file=where,
            )
        curve = resolved.get("throughput.curve")
        return PriorSet(
            name=str(resolved["name"]),
            description=str(resolved.get("description", "")),
            inputs=inputs,
            horizon_months=int(resolved["finance.horizon_months"]),
            curve=tuple((float(x), float(y)) for x, y in curve) if curve else None,
            curve_source=resolved.get("curve_source"),
            correlations=tuple(Correlation(str(a), str(b), float(r)) for a, b, r in resolved.get("correlations", [])),
            files=tuple(files),
            switches=tuple(str(k) for k in resolved.get("switches", ())),
        )
    except (KeyError, TypeError, ValueError, AttributeError) as e:
        raise PriorsError([f"{where}: priors = {e!s:.80}: the stored resolved priors are malformed"]) from None
