"""The one run-folder reader: every command that reads a run folder goes through :func:`read_run`.

It checks the folder before anything reads it (a directory, a ``manifest.json`` that is a JSON
object written by mcroi with the settings a run records, a ``results.nc`` that opens as a
Dataset) and answers a problem with one line naming the file, the key and the value
(:class:`RunFolderError`).
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import xarray as xr

from mcroi.priors import FAMILIES, PriorsError, from_resolved

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

    @property
    def results_path(self) -> Path:
        return self.path / "results.nc"

    def dataset(self) -> xr.Dataset:
        """``results.nc`` loaded into memory, the manifest's text in ``attrs["manifest"]``."""
        if self._dataset is None:
            try:
                ds = xr.load_dataset(self.results_path, engine="h5netcdf")
            except Exception as e:  # noqa: BLE001 - any unreadable file is a user-facing error
                raise RunFolderError(
                    f"{self.results_path}: cannot be read as a run ({type(e).__name__}: {e})"
                ) from None
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
