"""Runs of the default scenario for tests/engine/test_engine_scale.py, in a subprocess or in-process.

Usage: python tests/_engine_worker.py OUT.npz DRAWS CHUNK DEVICES[,DEVICES...]
(XLA_FLAGS set by the caller) runs the default scenario once per device count and saves every
output, prefixed ``d{N}_``. A device count may carry its own chunk size, ``N:CHUNK``
(``1:1000,2:384``). :func:`arrays` gives the same arrays in-process.
"""

import sys

import jax
import numpy as np

from mcroi import engine, priors


def arrays(ps: priors.PriorSet, draws: int, chunk: int, devices: int) -> dict[str, np.ndarray]:
    """One run's per-draw arrays and streamed statistics, keyed ``d{devices}_NAME``."""
    # keep="summary" with a subsample of every draw: the per-draw arrays and the on-device
    # streaming statistics from one compiled step
    r = engine.run(ps, draws, seed=3, chunk_size=chunk, devices=devices, keep="summary", subsample=draws)
    saved = {"used": np.asarray(r.devices), "stream": r.stream.to_array(), "inputs": r.inputs, **r.outputs}
    return {f"d{devices}_{k}": v for k, v in saved.items()}


def main() -> None:
    out, draws, chunk = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    saved: dict[str, np.ndarray] = {"local_devices": np.asarray(len(jax.local_devices()))}
    ps = priors.load(priors.default_path())
    for spec in sys.argv[4].split(","):
        nd, _, own_chunk = spec.partition(":")
        saved.update(arrays(ps, draws, int(own_chunk or chunk), int(nd)))
    np.savez(out, **saved)


if __name__ == "__main__":
    main()
