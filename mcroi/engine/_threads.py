"""Work on the host's cores from threads: numpy's sorts, selections and reductions release the GIL.

This module imports no JAX.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor


def thread_map[T, R](fn: Callable[[T], R], items: Iterable[T]) -> list[R]:
    """``[fn(i) for i in items]`` on up to one thread per core, results in order.

    Only for functions whose result does not depend on the thread that runs them (pure numpy on
    their own arguments), so the answer is the same bits on any number of cores.
    """
    items = list(items)
    workers = min(len(items), os.cpu_count() or 1)
    if workers <= 1:
        return [fn(i) for i in items]
    with ThreadPoolExecutor(workers) as ex:
        return list(ex.map(fn, items))
