"""Devices, processes, memory and the compilation cache: what the machine offers and start-up settings the CLI applies before computing.

Importing this module never imports JAX, so :func:`configure_host_devices` can run before JAX
starts (XLA reads its flags once). The library itself never calls these on import: the CLI does.
"""

from __future__ import annotations

import os
from typing import Any

HOST_DEVICE_FLAG = "--xla_force_host_platform_device_count"


class OptionError(ValueError):
    """A run option outside what this machine or the generator can take; the message is one line."""


def configure_host_devices(count: int | None = None) -> int:
    """Expose ``count`` XLA host (CPU) devices, one per core by default. Call before importing JAX.

    XLA's CPU backend runs one program per device mostly on one thread; several host devices let
    the engine's draw-axis sharding use every core. A count already in ``XLA_FLAGS`` wins. Has no
    effect on GPU devices. Returns the count in effect.
    """
    flags = os.environ.get("XLA_FLAGS", "")
    for tok in flags.split():
        if tok.startswith(HOST_DEVICE_FLAG + "="):
            return int(tok.split("=", 1)[1])
    cores = os.cpu_count() or 1
    n = min(count or cores, cores)  # more host devices than cores never helps (1,000 aborted XLA)
    os.environ["XLA_FLAGS"] = f"{flags} {HOST_DEVICE_FLAG}={n}".strip()
    return n


def cache_dir() -> str:
    """The user's cache folder for compiled programs (``$XDG_CACHE_HOME/mcroi/jax``), never the repo."""
    root = os.environ.get("MCROI_CACHE_DIR") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache"), "mcroi", "jax"
    )
    return root


def enable_compilation_cache(path: str | None = None) -> str | None:
    """Turn on JAX's persistent compilation cache (a second run skips most of the compile)."""
    import jax

    path = path or cache_dir()
    try:
        os.makedirs(path, exist_ok=True)
    except OSError:
        return None
    jax.config.update("jax_compilation_cache_dir", path)
    jax.config.update("jax_persistent_cache_min_compile_time_secs", 0.5)
    jax.config.update("jax_persistent_cache_min_entry_size_bytes", 0)
    return path


def local_devices(count: int | None = None) -> list[Any]:
    """The first ``count`` devices of this process (all of them by default)."""
    import jax

    devs = jax.local_devices()
    if count is not None:
        if not 1 <= count <= len(devs):
            kind = devs[0].platform if devs else "no"
            raise OptionError(
                f"--devices = {count}: this process has {len(devs)} {kind} device(s); give 1 to {len(devs)}"
            )
        devs = devs[:count]
    return devs


# -- multi-process ------------------------------------------------------------------------------


def initialize_distributed(
    coordinator_address: str | None = None, num_processes: int | None = None, process_id: int | None = None
) -> tuple[int, int]:
    """``jax.distributed.initialize`` from flags or the usual environment; returns (process_id, count).

    Unset arguments fall back to ``MCROI_COORDINATOR``/``MCROI_NUM_PROCESSES``/``MCROI_PROCESS_ID``,
    then to JAX's own auto-detection (SLURM, Open MPI, Kubernetes, Cloud TPU).
    """
    import jax

    env = os.environ
    coordinator_address = coordinator_address or env.get("MCROI_COORDINATOR") or env.get("JAX_COORDINATOR_ADDRESS")
    if num_processes is None and env.get("MCROI_NUM_PROCESSES"):
        num_processes = int(env["MCROI_NUM_PROCESSES"])
    if process_id is None and env.get("MCROI_PROCESS_ID"):
        process_id = int(env["MCROI_PROCESS_ID"])
    jax.distributed.initialize(
        coordinator_address=coordinator_address,
        num_processes=num_processes,
        process_id=process_id,
        local_device_ids=None,
    )
    return jax.process_index(), jax.process_count()


def process_range(draws: int, process_id: int, count: int, align: int = 1) -> tuple[int, int]:
    """The disjoint draw-index range ``[start, stop)`` of one process (blocks of ``align`` draws)."""
    blocks = -(-draws // align)
    per, extra = divmod(blocks, count)
    b0 = process_id * per + min(process_id, extra)
    b1 = b0 + per + (1 if process_id < extra else 0)
    return min(b0 * align, draws), min(b1 * align, draws)


def gather_to_zero(payload: bytes, tag: str, timeout_ms: int = 600_000) -> list[bytes] | None:
    """Send ``payload`` to process 0 through the coordinator's key-value store.

    Process 0 receives every process's payload (in process order); others get None. Summaries are
    small (a few MB), so the coordinator's store is enough and no cross-process XLA collective
    (which the CPU backend may lack) is needed.
    """
    import jax
    from jax._src import distributed as _dist

    client = _dist.global_state.client
    pid, count = jax.process_index(), jax.process_count()
    if count == 1:
        return [payload]
    if client is None:
        raise RuntimeError("gather_to_zero needs jax.distributed.initialize() (see initialize_distributed)")
    client.key_value_set_bytes(f"mcroi/{tag}/{pid}", payload)
    if pid != 0:
        client.wait_at_barrier(f"mcroi/{tag}/done", timeout_ms)
        return None
    out = [payload] + [client.blocking_key_value_get_bytes(f"mcroi/{tag}/{i}", timeout_ms) for i in range(1, count)]
    client.wait_at_barrier(f"mcroi/{tag}/done", timeout_ms)
    return out


def available_memory() -> int | None:
    """Bytes of memory available to a new allocation now (``MemAvailable``), or None if unknown."""
    try:
        with open("/proc/meminfo") as fh:
            for line in fh:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    try:
        return int(os.sysconf("SC_AVPHYS_PAGES")) * int(os.sysconf("SC_PAGE_SIZE"))
    except (ValueError, OSError, AttributeError):
        return None
