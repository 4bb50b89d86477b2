"""Subprocess helper for tests/test_engine_scale.py (XLA_FLAGS are set by the caller).

Usage: python tests/_engine_worker.py OUT.npz DRAWS CHUNK DEVICES[,DEVICES...]
Runs the default scenario once per device count and saves every output, prefixed ``d{N}_``.
"""

import sys

import jax
import numpy as np

from mcroi import engine, pipeline


def main() -> None:
    out, draws, chunk = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    saved: dict[str, np.ndarray] = {"local_devices": np.asarray(len(jax.local_devices()))}
    ps = pipeline.load_priors(None)
    for nd in (int(x) for x in sys.argv[4].split(",")):
        # keep="summary" with a subsample of every draw: the per-draw arrays and the on-device
        # streaming statistics from one compiled step
        r = engine.run(ps, draws, seed=3, chunk_size=chunk, devices=nd, keep="summary", subsample=draws)
        saved[f"d{nd}_used"] = np.asarray(r.devices)
        saved[f"d{nd}_stream"] = r.stream.to_array()
        saved[f"d{nd}_inputs"] = r.inputs
        for k, v in r.outputs.items():
            saved[f"d{nd}_{k}"] = v
    np.savez(out, **saved)


if __name__ == "__main__":
    main()
