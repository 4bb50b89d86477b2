"""The resolved scenario (:class:`PriorSet`), its correlations and the priors error: the types every priors module shares."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any

from mcroi.priors._dist import Dist
from mcroi.priors._schema import CURVE_KEY, DEFAULT_HORIZON, HORIZON_KEY


class PriorsError(Exception):
    """One or more problems in a priors file; ``lines`` holds one message per problem."""

    def __init__(self, lines: list[str]):
        self.lines = list(lines)
        super().__init__("\n".join(self.lines))


@dataclass(frozen=True)
class Correlation:
    """Rank (Spearman) correlation between two inputs; applied by a Gaussian copula."""

    a: str
    b: str
    spearman: float


def correlation_pairs(names: list[str], matrix: list[list[float]]) -> list[tuple[str, str, float]]:
    """The upper triangle of a correlation matrix as (a, b, spearman) pairs."""
    return [(names[i], names[j], float(matrix[i][j])) for i in range(len(names)) for j in range(i + 1, len(names))]


@dataclass(frozen=True)
class PriorSet:
    """A resolved scenario: every input's distribution plus scenario constants."""

    name: str
    description: str
    inputs: dict[str, Dist]
    horizon_months: int = DEFAULT_HORIZON
    curve: tuple[tuple[float, float], ...] | None = None
    curve_source: str | None = None
    correlations: tuple[Correlation, ...] = ()
    files: tuple[str, ...] = ()
    strict: bool = False
    #: (v2) the scenario switches that are on (``finance.retire_when_unprofitable``, ...)
    switches: tuple[str, ...] = ()

    @property
    def names(self) -> list[str]:
        """Input names in contract order (the ``input`` coordinate of a run)."""
        return list(self.inputs)

    def resolved(self) -> dict[str, Any]:
        """JSON-ready resolved priors (what the manifest stores and the hash covers)."""
        return {
            "name": self.name,
            "description": self.description,
            HORIZON_KEY: self.horizon_months,
            CURVE_KEY: [list(k) for k in self.curve] if self.curve else None,
            "curve_source": self.curve_source,
            "inputs": {k: v.to_json() for k, v in self.inputs.items()},
            "correlations": [[c.a, c.b, c.spearman] for c in self.correlations],
        } | ({"switches": sorted(self.switches)} if self.switches else {})

    def sha256(self) -> str:
        blob = json.dumps(self.resolved(), sort_keys=True, separators=(",", ":"), default=str)
        return hashlib.sha256(blob.encode()).hexdigest()

    def replace_inputs(self, **changes: Dist) -> PriorSet:
        new = dict(self.inputs)
        new.update(changes)
        return PriorSet(
            self.name,
            self.description,
            new,
            self.horizon_months,
            self.curve,
            self.curve_source,
            self.correlations,
            self.files,
            self.strict,
            self.switches,
        )
