"""Subprocess helper for tests/test_engine_scale.py: run the engine and save outputs to an npz.

Usage: python tests/_engine_worker.py OUT.npz DRAWS CHUNK [PRECISION]; XLA_FLAGS set by the caller.
"""

import sys

import jax
import numpy as np

from mcroi import api, engine


def main() -> None:
    out, draws, chunk = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    precision = sys.argv[4] if len(sys.argv) > 4 else "float64"
    r = engine.run(api.load_priors(None), draws, seed=3, chunk_size=chunk, precision=precision, devices=None)
    np.savez(out, inputs=r.inputs, devices=np.asarray(len(jax.local_devices())), used=np.asarray(r.devices), **r.outputs)


if __name__ == "__main__":
    main()
