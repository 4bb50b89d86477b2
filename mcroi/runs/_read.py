"""The one run-folder reader: every command that reads a run folder goes through :func:`read_run`.

It checks the folder before anything reads it (a directory, a ``manifest.json`` that is a JSON
object written by mcroi with the settings a run records, a ``results.nc`` that opens as a
Dataset) and answers a problem with one line naming the file, the key and the value
(:class:`RunFolderError`).
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import xarray as xr

from mcroi import engine
from mcroi.analysis import same_bits
from mcroi.priors import FAMILIES, PriorsError, from_resolved
from mcroi.runs._compare_store import compare_dataset
from mcroi.runs._store import draw_digests, per_draw_variables, to_dataset

PRECISIONS = ("float64", "float32")


class RunFolderError(Exception):
    """A folder that cannot be read as a run; the message is one line naming the file and key."""


@dataclass
class RunFolder:
    """A run folder, checked: its manifest and summary as read, its results on demand.

    Attributes
    ----------
    path
        The folder.
    manifest
        ``manifest.json`` (a dict).
    summary
        ``summary.json``, or None when the folder has none.
    kind
        ``simulate`` or ``compare`` (a compare run's manifest lists ``scenarios``).
    """

    path: Path
    manifest: dict[str, Any]
    summary: dict[str, Any] | None
    kind: str
    _dataset: xr.Dataset | None = field(default=None, repr=False)
    #: After a recomputing read: draws, variables checked against their sha256, stored outputs compared.
    recomputed: dict[str, int] | None = field(default=None, repr=False)

    @property
    def results_path(self) -> Path:
        return self.path / "results.nc"

    @property
    def recomputes(self) -> bool:
        """Whether ``results.nc`` stores only the headline outputs and the rest is recomputed when read."""
        storage = self.manifest.get("storage")
        return isinstance(storage, dict) and storage.get("mode") == "recompute"

    def dataset(self) -> xr.Dataset:
        """``results.nc`` loaded into memory, the manifest's text in ``attrs["manifest"]``.

        A run that keeps every draw stores only its headline outputs: the other per-draw
        variables are recomputed here from the seed and the resolved priors and checked, bit for
        bit, against the sha256 the run recorded (:class:`RunFolderError` when they differ). The
        Dataset is then exactly what a run that stores everything (``--keep all``) reads back.
        """
        if self._dataset is None:
            try:
                ds = xr.load_dataset(self.results_path, engine="h5netcdf")
            except Exception as e:  # noqa: BLE001 - any unreadable file is a user-facing error
                raise RunFolderError(
                    f"{self.results_path}: cannot be read as a run ({type(e).__name__}: {e})"
                ) from None
            if ds.attrs.get("storage") == "recompute":  # the file says what it lacks
                ds = _recomputed_once(self, ds)
            ds.attrs["manifest"] = json.dumps(self.manifest)
            self._dataset = ds
        return self._dataset

    def priors_doc(self, platform: str | None = None) -> dict[str, Any] | None:
        """The resolved priors the run used (a compare run: those of ``platform``, default the baseline)."""
        if self.kind == "simulate":
            doc = self.manifest.get("priors")
            return doc if isinstance(doc, dict) else None
        scenarios = self.manifest.get("scenarios") or []
        want = platform if platform is not None else self.manifest.get("baseline")
        for s in scenarios:
            if isinstance(s, dict) and s.get("platform") == want and isinstance(s.get("priors"), dict):
                return dict(s["priors"])
        return None


#: Called as ``factory(draws)`` before a run's draws are recomputed; returns a context manager
#: that is also an :data:`mcroi.engine.ProgressFn` (the CLI installs its progress bar here).
RecomputeProgress = Callable[[int], Any]
_progress: list[RecomputeProgress] = []


def set_recompute_progress(factory: RecomputeProgress | None) -> None:
    """Show progress while a run's draws are recomputed on reading (None: silent)."""
    _progress.clear()
    if factory is not None:
        _progress.append(factory)


#: The last recomputed run of this process: (key, Dataset, what was checked). A command that reads
#: a run twice (sensitivity, then the report it refreshes) recomputes it once.
_last: list[tuple[tuple[Any, ...], xr.Dataset, dict[str, int]]] = []


def _recomputed_once(folder: RunFolder, stored: xr.Dataset) -> xr.Dataset:
    st = folder.results_path.stat()
    key = (str(folder.results_path.resolve()), st.st_mtime_ns, st.st_size, json.dumps(folder.manifest, sort_keys=True))
    if _last and _last[0][0] == key:
        folder.recomputed = dict(_last[0][2])
        return _last[0][1].copy(deep=False)
    full = _recomputed(folder, stored)
    _last[:] = [(key, full, dict(folder.recomputed or {}))]
    return full.copy(deep=False)


def _recomputed(folder: RunFolder, stored: xr.Dataset) -> xr.Dataset:
    """The full run Dataset of a run that stores its headline outputs only (see ``dataset``)."""
    man, where = folder.manifest, folder.results_path
    storage = man.get("storage")
    if not isinstance(storage, dict) or storage.get("mode") != "recompute":
        raise RunFolderError(
            f"{folder.path / 'manifest.json'}: storage = {storage!r:.60}: results.nc stores the headline outputs "
            "only and the manifest lacks what recomputes the rest"
        )
    digests, kept = storage.get("sha256"), storage.get("stored")
    if not isinstance(digests, dict) or not isinstance(kept, list):
        raise RunFolderError(f"{folder.path / 'manifest.json'}: storage = {storage!r:.60}: lacks sha256 or stored")
    draws = int(man["draws"])
    if stored.sizes.get("draw") != draws:
        raise RunFolderError(f"{where}: holds {stored.sizes.get('draw')} draws, the manifest promises {draws:,}")
    attrs = {k: v for k, v in stored.attrs.items() if k != "storage"}
    where_man = str(folder.path / "manifest.json")
    if folder.kind == "simulate":
        ps = from_resolved(man["priors"], man.get("priors_files", ()), where=where_man)
        # the draws never depend on the chunk size (the sha256 check below proves it)
        full = to_dataset(ps, _run(ps, draws, man, engine.DEFAULT_CHUNK), attrs)
    else:  # as mcroi compare made them: each platform, the same seed, draws + its independent extra
        scenarios = man["scenarios"]
        sets = [from_resolved(s["priors"], s.get("priors_files", ()), where=where_man) for s in scenarios]
        extra = int(man["independent_draws"]) if isinstance(man.get("independent_draws"), int) else 0
        chunk = int(man["chunk_size"]) if isinstance(man.get("chunk_size"), int) else engine.DEFAULT_CHUNK
        results = []
        for ps in sets:
            r = _run(ps, draws + extra, man, chunk)
            results.append(engine.RunArrays(r.names, r.inputs[:draws], {k: v[:draws] for k, v in r.outputs.items()}))
        full = compare_dataset(sets, [str(s["platform"]) for s in scenarios], results)
        full.attrs.update(attrs)
    made = storage.get("made_on") or {}
    elsewhere = (
        f"; the run was made with jax {made.get('jax', '?')} on {made.get('backend', '?')} "
        f"({made.get('machine', '?')}): read it there, or rerun it with --keep all to store every draw"
    )
    for k in kept:
        if k not in stored or k not in full:
            raise RunFolderError(f"{where}: lacks the stored output {k} (deleted?)")
        a, b = np.asarray(stored[k].values), np.asarray(full[k].values)
        if a.shape != b.shape or a.dtype != b.dtype or not same_bits(a, b).all():
            raise RunFolderError(
                f"{where}: {k} stored differs from {k} recomputed from the seed (edited, or recomputed on "
                f"another backend){elsewhere}"
            )
    names = per_draw_variables(full)
    lacking = [k for k in names if k not in digests]
    if lacking:
        raise RunFolderError(f"{folder.path / 'manifest.json'}: storage.sha256 lacks the variable {lacking[0]}")
    got = draw_digests(full, names)
    for k in names:
        if got[k] != digests[k]:
            raise RunFolderError(
                f"{where}: {k} recomputed from the seed does not match the sha256 the run recorded{elsewhere}"
            )
    missing = sorted(set(digests) - {str(k) for k in full.data_vars})
    if missing:
        raise RunFolderError(f"{where}: the run recorded {missing[0]}, which this mcroi does not compute")
    folder.recomputed = {"draws": draws, "variables": len(digests), "stored": len(kept)}
    return full


def _run(ps: Any, draws: int, man: dict[str, Any], chunk: int) -> engine.RunArrays:
    """The engine's draws ``0 .. draws - 1`` of ``ps`` at the run's seed and precision (with progress)."""
    if not _progress:
        return engine.run(ps, draws, seed=man["seed"], chunk_size=chunk, precision=man["precision"])
    with _progress[0](draws) as progress:
        return engine.run(ps, draws, seed=man["seed"], chunk_size=chunk, precision=man["precision"], progress=progress)


def _load_json(path: Path, what: str) -> Any:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise RunFolderError(f"{path}: file not found; {what}") from None
    except (OSError, UnicodeDecodeError) as e:
        raise RunFolderError(f"{path}: cannot be read ({getattr(e, 'strerror', None) or e})") from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as e:
        raise RunFolderError(f"{path}: not valid JSON ({e})") from None


def _check_manifest(path: Path, man: Any, kind: str) -> None:
    if not isinstance(man, dict):
        raise RunFolderError(f"{path}: holds {type(man).__name__}, not a JSON object: not an mcroi manifest")
    versions = man.get("versions")
    if not isinstance(versions, dict) or "mcroi" not in versions:
        raise RunFolderError(f"{path}: versions = {versions!r:.60}: not a manifest written by mcroi")
    seed, draws, precision = man.get("seed"), man.get("draws"), man.get("precision")
    if not isinstance(seed, int) or isinstance(seed, bool) or seed < 0:
        raise RunFolderError(f"{path}: seed = {seed!r:.40}: not a valid run setting (a non-negative integer)")
    if not isinstance(draws, int) or isinstance(draws, bool) or draws < 1:
        raise RunFolderError(f"{path}: draws = {draws!r:.40}: not a valid run setting (a positive integer)")
    if precision not in PRECISIONS:
        raise RunFolderError(f"{path}: precision = {precision!r:.40}: not a valid run setting (float64 or float32)")
    if kind == "simulate" and not isinstance(man.get("priors"), dict):
        raise RunFolderError(f"{path}: priors = {man.get('priors')!r:.40}: the manifest lacks the resolved priors")
    docs = [man["priors"]] if kind == "simulate" else [s.get("priors") for s in _scenarios(path, man)]
    for doc in docs:
        _check_priors(path, doc)


def _scenarios(path: Path, man: dict[str, Any]) -> list[dict[str, Any]]:
    scenarios = man.get("scenarios")
    if not isinstance(scenarios, list) or not all(isinstance(s, dict) for s in scenarios) or len(scenarios) < 2:
        raise RunFolderError(f"{path}: scenarios = {scenarios!r:.40}: a compare manifest lists two or more scenarios")
    return scenarios


def _check_priors(path: Path, doc: Any) -> None:
    """The resolved priors rebuild into a PriorSet whose every distribution has finite parameters."""
    try:
        ps = from_resolved(doc, where=str(path))
    except PriorsError as e:
        raise RunFolderError(e.lines[0]) from None
    for name, d in ps.inputs.items():
        if not d.params or not all(math.isfinite(x) for x in d.params) or d.family not in FAMILIES:
            raise RunFolderError(
                f"{path}: priors.inputs.{name} = {d.family} {list(d.params)[:4]}: not a valid distribution"
            )


def read_run(path: str | Path, *, results: bool = True) -> RunFolder:
    """Read and check the run folder at ``path`` (or the folder of its ``results.nc``).

    Parameters
    ----------
    path
        A folder written by ``mcroi simulate`` or ``mcroi compare``.
    results
        Require ``results.nc`` (every command but ``verify``'s first checks needs it).

    Raises
    ------
    RunFolderError
        One line naming the file, key and value of the first problem.
    """
    run = Path(path)
    if run.is_file() and run.name == "results.nc":
        run = run.parent
    if not run.is_dir():
        raise RunFolderError(
            f"{run}: no such run folder (no such directory, so not a run folder); give a folder written by mcroi simulate or mcroi compare"
        )
    man_path = run / "manifest.json"
    man = _load_json(man_path, "a run folder holds manifest.json and results.nc")
    kind = "compare" if isinstance(man, dict) and man.get("scenarios") is not None else "simulate"
    _check_manifest(man_path, man, kind)
    if results and not (run / "results.nc").is_file():
        raise RunFolderError(f"{run / 'results.nc'}: file not found; a run folder holds manifest.json and results.nc")
    summary = None
    if (run / "summary.json").is_file():
        s = _load_json(run / "summary.json", "")
        summary = s if isinstance(s, dict) else None
    return RunFolder(run, man, summary, kind)


def open_run(path: str | Path) -> xr.Dataset:
    """Read a run folder (or its ``results.nc``) back as a Dataset, the manifest's text in ``attrs``."""
    return read_run(path).dataset()
