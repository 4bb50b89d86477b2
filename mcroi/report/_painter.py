"""Figures drawn in a helper process while the caller goes on computing.

matplotlib holds the GIL for nearly all of a figure's work (text layout, Agg rasterizing, PNG
encoding), so a figure drawn on a thread stops the NumPy work of every other thread. A run folder's
charts take about two seconds of one core at a million draws; :class:`Painter` draws them in one
helper process while ``simulate`` computes the conditional tornado and writes the report.

The helper is a fresh interpreter that imports mcroi and matplotlib and nothing of the caller's:
forking a process that runs XLA's thread pools is unsafe, and ``multiprocessing``'s spawn would run
an unguarded user script again. Jobs and results travel as pickles over the helper's stdin and
stdout; its own stdout goes to stderr. A chart is the same file whichever process draws it (each
figure function sets the style it needs). A helper that cannot start or dies costs only time: its
figures are drawn here.
"""

from __future__ import annotations

import atexit
import json
import os
import pickle
import queue
import struct
import subprocess
import sys
import tempfile
import threading
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from mcroi.report._figures import pyplot

#: Set to 0 to draw every figure in the calling process (a debugger, a profiler, a sandbox that
#: allows no child processes).
ENV = "MCROI_PLOT_HELPER"

_HEADER = struct.Struct("<Q")
_HELPER_CODE = (
    "import json, sys; sys.path[:] = json.loads(sys.argv[1]); from mcroi.report._painter import serve; serve()"
)


def _enabled() -> bool:
    return os.environ.get(ENV, "1").strip().lower() not in ("0", "off", "false", "no")


def _launch() -> subprocess.Popen[bytes] | None:
    """A new helper process (None when it cannot start)."""
    try:
        return subprocess.Popen(
            [sys.executable, "-c", _HELPER_CODE, json.dumps(sys.path)], stdin=subprocess.PIPE, stdout=subprocess.PIPE
        )
    except OSError:
        return None


#: A helper started by :func:`start_early`, until a :class:`Painter` takes it.
_EARLY: list[subprocess.Popen[bytes]] = []


def start_early() -> None:
    """Start the helper process now, for the next ``Painter(helper=True)`` to take.

    ``mcroi simulate`` calls this before it loads JAX: the helper's second of imports (Python,
    NumPy, matplotlib) then runs on the core the command's own imports leave idle, not beside the
    draws, which keep every core busy. A helper no painter takes ends with this process (or at
    once, when a painter draws here)."""
    if not _EARLY and _enabled() and (proc := _launch()) is not None:
        _EARLY.append(proc)
        atexit.register(_drop_early)


def _drop_early() -> None:
    while _EARLY:
        proc = _EARLY.pop()
        proc.kill()
        for stream in (proc.stdin, proc.stdout):
            if stream is not None:
                stream.close()
        proc.wait()


class HelperDied(RuntimeError):
    """The helper process ended before it returned a figure."""


def _send(stream: IO[bytes], obj: Any) -> None:
    _write_frame(stream, pickle.dumps(obj, protocol=pickle.HIGHEST_PROTOCOL))


def _write_frame(stream: IO[bytes], data: bytes) -> None:
    stream.write(_HEADER.pack(len(data)))
    stream.write(data)
    stream.flush()


def _receive(stream: IO[bytes]) -> Any:
    head = stream.read(_HEADER.size)
    if len(head) < _HEADER.size:
        raise EOFError
    (size,) = _HEADER.unpack(head)
    data = stream.read(size)
    if len(data) < size:
        raise EOFError
    return pickle.loads(data)


def serve() -> None:
    """The helper's loop: read ``(job, fn, args, kwargs)`` from stdin, answer ``(job, ok, value)``
    on stdout, until stdin closes."""
    out = os.fdopen(os.dup(sys.stdout.fileno()), "wb")
    os.dup2(sys.stderr.fileno(), sys.stdout.fileno())  # a stray print must not corrupt the answers
    inp = sys.stdin.buffer
    pyplot()
    while True:
        try:
            job, fn, args, kwargs = _receive(inp)
        except EOFError:
            return
        try:
            answer = (job, True, fn(*args, **kwargs))
        except Exception as e:
            answer = (job, False, e)
        try:
            _send(out, answer)
        except (pickle.PicklingError, TypeError, AttributeError):  # an unpicklable result or error
            _send(out, (job, False, RuntimeError(f"{type(answer[2]).__name__}: {answer[2]}")))


def render(fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> dict[str, bytes]:
    """Call the figure function ``fn`` with its relative paths (``Path`` arguments, and lists of
    them) placed in a temporary folder; return the files it wrote, by relative path, as bytes.

    So a figure can be drawn before the folder it belongs in exists (:func:`land` writes it there)."""
    with tempfile.TemporaryDirectory(prefix="mcroi-figure-") as d:
        root = Path(d)

        def place(a: Any) -> Any:
            if isinstance(a, Path) and not a.is_absolute():
                return root / a
            if isinstance(a, list) and a and all(isinstance(p, Path) for p in a):
                return [place(p) for p in a]
            return a

        fn(*[place(a) for a in args], **{k: place(v) for k, v in kwargs.items()})
        return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def land(files: dict[str, bytes], folder: Path) -> list[Path]:
    """Write what :func:`render` returned into ``folder``; the paths written."""
    written = []
    for name, data in files.items():
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        written.append(path)
    return written


@dataclass
class _Job:
    future: Future[Any]
    fn: Callable[..., Any]
    args: tuple[Any, ...]
    kwargs: dict[str, Any]


class Painter:
    """Runs figure functions in one helper process, or here when there is none.

    ``fn`` and its arguments must pickle (module-level functions, arrays, paths, text). Use it as a
    context manager, or call :meth:`close` (wait for every figure, re-raising the first error) or
    :meth:`abandon` (stop at once).

    Parameters
    ----------
    helper
        Start the helper process (``False``, or the environment variable ``MCROI_PLOT_HELPER=0``:
        every figure is drawn in this process when it is submitted).
    """

    def __init__(self, helper: bool = True) -> None:
        self._jobs: list[_Job] = []
        self._proc: subprocess.Popen[bytes] | None = None
        self._outbox: queue.SimpleQueue[Any] = queue.SimpleQueue()
        self._lock = threading.Lock()
        self._dead = False  # the helper ended: what comes next is drawn here
        self._threads: list[threading.Thread] = []
        if not helper:
            _drop_early()  # a helper started early for a run that draws its charts here: let it go
        if helper and _enabled():
            self._proc = _EARLY.pop() if _EARLY else _launch()
            if self._proc is not None:
                for target in (self._write, self._read):
                    name = f"mcroi-painter-{target.__name__[1:]}"
                    t = threading.Thread(target=target, args=(self._proc,), name=name, daemon=True)
                    t.start()
                    self._threads.append(t)

    @property
    def helper(self) -> bool:
        """Whether figures go to a helper process."""
        return self._proc is not None

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future[Any]:
        """Draw ``fn(*args, **kwargs)``: in the helper when there is one, else here and now.

        Raises whatever pickling raises for a job that cannot travel (a lambda, a local function)."""
        job = _Job(Future(), fn, args, kwargs)
        with self._lock:
            if self._proc is not None and not self._dead:
                frame = pickle.dumps((len(self._jobs), fn, args, kwargs), protocol=pickle.HIGHEST_PROTOCOL)
                self._jobs.append(job)
                self._outbox.put(frame)
                return job.future
            self._jobs.append(job)
        self._draw_here(job)
        return job.future

    def _draw_here(self, job: _Job) -> None:
        try:
            job.future.set_result(job.fn(*job.args, **job.kwargs))
        except Exception as e:  # re-raised by wait(), as a helper's error would be
            job.future.set_exception(e)

    def _write(self, proc: subprocess.Popen[bytes]) -> None:
        """Writer thread: a large job (a million-draw array) blocks here, not in the caller."""
        assert proc.stdin is not None
        stdin = proc.stdin
        try:
            while (frame := self._outbox.get()) is not None:
                _write_frame(stdin, frame)
        except (OSError, ValueError):  # the helper died or was stopped: the reader fails its jobs
            pass
        finally:
            try:
                stdin.close()
            except OSError:
                pass

    def _read(self, proc: subprocess.Popen[bytes]) -> None:
        """Reader thread: settles each job's future; at the end, fails the rest and reaps the helper."""
        assert proc.stdout is not None
        try:
            while True:
                job, ok, value = _receive(proc.stdout)
                future = self._jobs[job].future
                if ok:
                    future.set_result(value)
                else:
                    future.set_exception(value)
        except Exception:  # EOF, a broken pipe, an answer that does not unpickle: the helper is done
            pass
        finally:
            proc.stdout.close()
            proc.wait()
            with self._lock:
                self._dead = True
                for j in self._jobs:
                    if not j.future.done():
                        j.future.set_exception(HelperDied("the plot helper process ended"))

    def wait(self) -> list[Any]:
        """Every figure submitted so far, finished: their results in order (the first error raised).

        A figure lost with a dead helper is drawn here, once (a second wait does not draw it again)."""
        results = []
        for job in list(self._jobs):
            try:
                results.append(job.future.result())
            except HelperDied:
                job.future = Future()
                self._draw_here(job)
                results.append(job.future.result())
        return results

    def close(self) -> None:
        """Wait for every figure (re-raising the first error), then let the helper go."""
        try:
            self.wait()
        except BaseException:
            self.abandon()
            raise
        self._finish(kill=False)

    def abandon(self) -> None:
        """Stop the helper now and wait until it has gone, so that nothing writes into a folder the
        caller is about to remove. Idempotent."""
        self._finish(kill=True)

    def _finish(self, kill: bool) -> None:
        proc, self._proc = self._proc, None
        if proc is None:
            return
        self._outbox.put(None)  # the writer closes stdin: the helper ends after its last job
        if kill:
            proc.kill()
            for t in self._threads:
                t.join()

    def __enter__(self) -> Painter:
        return self

    def __exit__(self, kind: object, exc: object, tb: object) -> None:
        if kind is None:
            self.close()
        else:  # an error upstream: the figures do not matter any more
            self.abandon()
