"""Devices, processes, memory and the compilation cache: what the machine offers and start-up settings the CLI applies before computing.

Importing this module never imports JAX, so :func:`configure_host_devices` can run before JAX
starts (XLA reads its flags once). The library itself never calls these on import: the CLI does.
"""

from __future__ import annotations

import functools
import importlib.util
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


#: ``MCROI_CACHE_DIR`` values that turn the compilation cache off.
CACHE_OFF = ("off", "none", "0", "false", "no")
#: Compiled programs kept at most (bytes); the least recently used go first.
CACHE_MAX_BYTES = 1 << 30


def machine_tag() -> str:
    """A short tag of this machine's CPU (architecture and instruction-set features).

    XLA's CPU programs are compiled for the host's features: a cache folder shared between machines
    (a home folder on a network drive) gets one subfolder per kind of machine instead of programs
    the other machines cannot load.
    """
    import hashlib
    import platform

    flags = ""
    try:
        with open("/proc/cpuinfo", encoding="utf-8", errors="replace") as f:
            flags = next((line for line in f if line.startswith(("flags", "Features"))), "")
    except OSError:
        pass
    text = f"{platform.system()} {platform.machine()} {platform.processor()} {flags.strip()}"
    return hashlib.sha256(text.encode()).hexdigest()[:12]


def cache_dir() -> str | None:
    """The folder of compiled programs: ``$MCROI_CACHE_DIR`` (``off`` turns the cache off), else
    ``$XDG_CACHE_HOME/mcroi/jax`` (default ``~/.cache/mcroi/jax``), never the repository; one
    subfolder per kind of machine (:func:`machine_tag`)."""
    given = os.environ.get("MCROI_CACHE_DIR")
    if given is not None and given.strip().lower() in CACHE_OFF:
        return None
    root = given or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache"), "mcroi", "jax"
    )
    return os.path.join(root, machine_tag())


def enable_compilation_cache(path: str | None = None) -> str | None:
    """Turn on JAX's persistent compilation cache: a later run of the same scenario loads its
    compiled programs from disk instead of compiling them again (the same programs, so the same
    draws to the last bit). Returns the folder, or None when the cache is off (``MCROI_CACHE_DIR=off``)
    or the folder cannot be made.

    A ``JAX_COMPILATION_CACHE_DIR`` the user set wins. The folder is made private to the user
    (mode 0700): a cached program is code this process will run. Programs that compiled in under
    0.03 s are not kept; the folder keeps at most :data:`CACHE_MAX_BYTES`, least recently used first out.
    """
    import jax

    if jax.config.jax_compilation_cache_dir:  # the user's own setting
        _PROGRAM_DIR[:] = [os.path.join(str(jax.config.jax_compilation_cache_dir), "mcroi-programs")]
        return str(jax.config.jax_compilation_cache_dir)
    path = path or cache_dir()
    if path is None:
        return None
    try:
        os.makedirs(path, mode=0o700, exist_ok=True)
        os.chmod(path, 0o700)
    except OSError:
        return None
    jax.config.update("jax_compilation_cache_dir", path)
    _PROGRAM_DIR[:] = [os.path.join(path, "programs")]
    jax.config.update("jax_persistent_cache_min_compile_time_secs", 0.03)
    jax.config.update("jax_persistent_cache_min_entry_size_bytes", 0)
    if importlib.util.find_spec("filelock") is not None:  # JAX bounds the folder with file locks
        jax.config.update("jax_compilation_cache_max_size", CACHE_MAX_BYTES)
    return path


# -- traced programs ----------------------------------------------------------------------------

#: The folder of traced programs (:func:`read_program`), set by :func:`enable_compilation_cache`.
_PROGRAM_DIR: list[str] = []
#: Traced programs kept at most; the least recently used go first.
PROGRAMS_KEPT = 64


def program_dir() -> str | None:
    """Where the engine keeps its traced programs (None: it traces them in every process)."""
    return _PROGRAM_DIR[0] if _PROGRAM_DIR else None


@functools.cache
def source_digest() -> str:
    """sha256 of what a traced program depends on besides its arguments: every source file of
    mcroi, and the versions of Python, JAX, jaxlib, NumPy and SciPy (the inverse-CDF tables)."""
    import hashlib
    import platform

    import jax
    import jaxlib
    import numpy
    import scipy

    h = hashlib.sha256()
    for v in (platform.python_version(), jax.__version__, jaxlib.__version__, numpy.__version__, scipy.__version__):
        h.update(v.encode() + b"\0")
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    files = sorted(
        os.path.relpath(os.path.join(d, f), root) for d, _, fs in os.walk(root) for f in fs if f.endswith(".py")
    )
    for rel in files:
        with open(os.path.join(root, rel), "rb") as f:
            h.update(rel.encode() + b"\0" + hashlib.sha256(f.read()).digest())
    return h.hexdigest()


def read_program(name: str) -> bytes | None:
    """The traced program stored as ``name``, or None."""
    folder = program_dir()
    if folder is None:
        return None
    path = os.path.join(folder, name)
    try:
        with open(path, "rb") as f:
            blob = f.read()
        os.utime(path)  # recently used
    except OSError:
        return None
    return blob


def write_program(name: str, blob: bytes) -> None:
    """Store a traced program as ``name`` (atomically; the folder keeps :data:`PROGRAMS_KEPT`)."""
    folder = program_dir()
    if folder is None:
        return
    tmp = os.path.join(folder, f".{name}.{os.getpid()}.partial")
    try:
        os.makedirs(folder, mode=0o700, exist_ok=True)
        with open(tmp, "wb") as f:
            f.write(blob)
        os.replace(tmp, os.path.join(folder, name))
        kept = sorted(
            (e for e in os.scandir(folder) if e.is_file() and not e.name.startswith(".")),
            key=lambda e: e.stat().st_mtime,
        )
        for e in kept[:-PROGRAMS_KEPT]:
            os.unlink(e.path)
    except OSError:  # a full or read-only disk, another process pruning: the next run traces again
        try:
            os.unlink(tmp)
        except OSError:
            pass


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
