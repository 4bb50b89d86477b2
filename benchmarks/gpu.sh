#!/usr/bin/env bash
# 1e8 and 1e9 draws (60 months, IRR included) in float32 and float64 on whatever GPU is present,
# streamed (--keep summary: memory does not grow with draws). Prints a Markdown table.
#
#   pip install -e '.[gpu]'        # jax[cuda12]
#   bash benchmarks/gpu.sh         # DRAWS="1e8 1e9" CHUNK=2097152 PRECISIONS="float32 float64"
#
# Untested by the authors at the time of writing (no GPU was available): see docs/performance.md.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PY:-$( [ -x .venv/bin/python ] && echo .venv/bin/python || echo python3 )}
DRAWS=${DRAWS:-"1e8 1e9"}
CHUNK=${CHUNK:-2097152}
PRECISIONS=${PRECISIONS:-"float32 float64"}
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader 2>/dev/null || echo "nvidia-smi not found"
echo
echo "| precision | draws | seconds | draws/s | scenario-months/s | first chunk incl. compile (s) | peak host RSS (MB) | devices |"
echo "|---|---:|---:|---:|---:|---:|---:|---|"
for p in $PRECISIONS; do
  for n in $DRAWS; do
    "$PY" - "$p" "$n" "$CHUNK" <<'PYEOF'
import resource, sys, time
import jax
jax.config.update("jax_enable_x64", True)
from mcroi import engine, pipeline as api
from mcroi.engine import enable_compilation_cache
enable_compilation_cache()
precision, draws, chunk = sys.argv[1], int(float(sys.argv[2])), int(sys.argv[3])
ps = api.load_priors(None)
engine.run(ps, chunk, chunk_size=chunk, precision=precision, keep="summary")  # compile (cached)
t = time.perf_counter()
r = engine.run(ps, draws, chunk_size=chunk, precision=precision, keep="summary")
sec = time.perf_counter() - t
rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
devs = ",".join(sorted({d.device_kind for d in jax.local_devices()}))
print(f"| {precision} | {draws:.0e} | {sec:.2f} | {draws / sec:,.0f} | {draws * 60 / sec:,.0f} | "
      f"{r.timings['first_chunk_incl_compile_s']:.2f} | {rss:,.0f} | {r.devices} x {devs} |", flush=True)
PYEOF
  done
done
