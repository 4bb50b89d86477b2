"""mcroi: Monte Carlo risk and sensitivity for AI-factory (GPU cluster) investments.

The public API. Importing mcroi never changes JAX's configuration; ``simulate`` runs in float64
inside a scoped ``jax.enable_x64`` without touching the global setting.
"""

from importlib.metadata import PackageNotFoundError
from importlib.metadata import version as _version
from typing import TYPE_CHECKING

from mcroi._lazy import attach

try:
    __version__ = _version("mcroi")
except PackageNotFoundError:  # running from a source tree without an install
    __version__ = "0.1.0+src"

if TYPE_CHECKING:  # imported on first use (mcroi._lazy): `import mcroi` loads no JAX
    from mcroi.pipeline import compare as compare
    from mcroi.pipeline import load_priors as load_priors
    from mcroi.pipeline import simulate as simulate
    from mcroi.priors import CONTRACT_VERSION as CONTRACT_VERSION
    from mcroi.priors import Dist as Dist
    from mcroi.priors import PriorsError as PriorsError
    from mcroi.priors import PriorSet as PriorSet
    from mcroi.priors import load as load
    from mcroi.runs import open_run as open_run

__all__ = [
    "CONTRACT_VERSION",
    "Dist",
    "PriorSet",
    "PriorsError",
    "__version__",
    "compare",
    "load",
    "load_priors",
    "open_run",
    "simulate",
]

__getattr__, __dir__ = attach(__name__, __file__)
