"""Test configuration: float64 JAX, strict dtype promotion, no implicit rank promotion, fixed keys, the shared session runs."""

from __future__ import annotations

import jax
import pytest

jax.config.update("jax_enable_x64", True)
jax.config.update("jax_numpy_rank_promotion", "raise")
jax.config.update("jax_numpy_dtype_promotion", "strict")

# after the settings above: these import mcroi
from tests.compare_cases import compare_run, simulate_run  # noqa: E402, F401  (session runs, used in two folders)


@pytest.fixture
def getkey():
    """A fresh deterministic key per call: ``getkey()``."""
    state = {"key": jax.random.key(0)}

    def _get():
        state["key"], sub = jax.random.split(state["key"])
        return sub

    return _get
