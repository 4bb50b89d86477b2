"""Priors format v1: TOML files -> a validated :class:`PriorSet`.

Priors are data: the reader parses TOML with :mod:`tomllib` and never evaluates anything.
Every problem in a file is collected and reported as one line naming the file, the key, the
value and the fix (:class:`PriorsError`). What each distribution family accepts and how it
resolves is in its record in :data:`mcroi.priors._families.FAMILIES`; this module reads tables
and files around it. See ``docs/priors.md`` for the format.
"""

from __future__ import annotations

import csv
import difflib
import errno
import functools
import io
import math
import os
import stat
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mcroi.priors._correlation import check as check_correlations
from mcroi.priors._dist import Dist, cdf
from mcroi.priors._families import FAMILIES, Column, Family, Written
from mcroi.priors._library import library_root
from mcroi.priors._priorset import Correlation, PriorsError, PriorSet, correlation_pairs
from mcroi.priors._schema import (
    ALL_KEYS,
    CURVE_KEY,
    DEFAULT_HORIZON,
    GROUPS,
    HORIZON_KEY,
    INPUTS,
    MAX_HORIZON,
    REQUIRED,
    SWITCHES,
    Domain,
)
from mcroi.priors._text import fmt, is_number, num

# --------------------------------------------------------------------------- messages


def _short(v: Any, limit: int = 120) -> str:
    s = fmt(v)
    return s if len(s) <= limit else s[: limit - 3] + "..."


class _Collector:
    def __init__(self) -> None:
        self.lines: list[str] = []

    def add(self, file: str, key: str, value: Any, problem: str) -> None:
        if key:
            line = f"{file}: {_one_line(key)} = {_short(value)}: {problem}"
        else:
            line = f"{file}: {problem}"
        self.lines.append(_one_line(line))

    def raise_if_any(self) -> None:
        if self.lines:
            raise PriorsError(self.lines)


def _one_line(s: str) -> str:
    """Control characters (a newline in a hostile key) escaped, so one problem stays one line."""
    return "".join(c if c.isprintable() or c == " " else ascii(c)[1:-1] for c in s)


def _suggest(key: str, choices: Iterable[str]) -> str:
    close = difflib.get_close_matches(key, list(choices), n=1, cutoff=0.6)
    return f"; did you mean {close[0]!r}?" if close else ""


# --------------------------------------------------------------------------- one entry


@dataclass(frozen=True)
class _Entry:
    """One input's value and where it came from, to report its problems against."""

    file: str
    key: str
    raw: Any
    errs: _Collector

    def bad(self, problem: str) -> None:
        self.errs.add(self.file, self.key, self.raw, problem)


def parse_dist(file: str, key: str, raw: Any, errs: _Collector, base: Path | None = None) -> Dist | None:
    """Parse one input's value (a number or a distribution table). Appends problems to ``errs``.

    ``base`` is the folder of the file that gave the value (``empirical`` data paths are relative
    to it); None means the current directory.
    """
    at = _Entry(file, key, raw, errs)
    if is_number(raw):
        return _number(at, raw)
    if not isinstance(raw, Mapping):
        at.bad('must be a number or a distribution table such as { dist = "lognormal", p5 = 1, p95 = 3 }')
        return None
    table = dict(raw)
    head = _head(at, table)
    fam = _family(at, table) if head is not None else None
    if head is None or fam is None:
        return None
    source, lower, upper = head
    params = _parameters(at, fam, table, math.isfinite(lower) or math.isfinite(upper))
    if params is None:
        return None
    resolved = fam.canonical(Written(params, lower, upper, functools.partial(_read_column, base)))
    if isinstance(resolved, str):
        at.bad(resolved)
        return None
    spec = resolved.spec if resolved.spec is not None else _spec(fam, params, lower, upper)
    dist = Dist(resolved.family, resolved.params, lower, upper, source, spec, file)
    if fam.continuous:
        s_lo, s_hi = dist.support()
        if s_lo >= s_hi:
            at.bad(f"the truncation [{fmt(lower)}, {fmt(upper)}] leaves no probability inside the family's support")
            return None
        mass = _truncated_mass(dist)
        if mass < MIN_TRUNCATED_MASS:
            at.bad(
                f"the truncation [{fmt(lower)}, {fmt(upper)}] keeps {mass:.2g} of the distribution's probability: "
                "every draw would sit on the bound; move the bound or the distribution"
            )
            return None
    return dist


#: Below this share of probability inside [lower, upper], the inverse CDF cannot resolve the interval
#: (a normal truncated far in its tail put every draw exactly on the bound).
MIN_TRUNCATED_MASS = 1e-9


def _truncated_mass(dist: Dist) -> float:
    """The family's probability between ``lower`` and ``upper`` (1 when untruncated)."""
    if not dist.truncated or dist.family == "empirical":
        return 1.0
    try:
        return max(0.0, cdf(dist, dist.upper) - cdf(dist, dist.lower))
    except (ValueError, OverflowError):
        return 1.0


def _number(at: _Entry, raw: float) -> Dist | None:
    """A bare number: a constant."""
    x = num(raw)
    if x is None:
        at.bad("must be a finite number")
        return None
    return Dist("constant", (x,), spec={"value": x}, file=at.file)


def _head(at: _Entry, table: Mapping[str, Any]) -> tuple[str | None, float, float] | None:
    """``source``, ``lower`` and ``upper`` of a table (any family's), checked."""
    source = table.get("source")
    if source is not None and not isinstance(source, str):
        at.bad("source must be a string")
        return None
    if source is not None and _bad_text(source):
        at.bad(f"source {_bad_text(source)}")
        return None
    lower = _bound(at, table, "lower")
    upper = _bound(at, table, "upper")
    if lower is None or upper is None:
        return None
    if lower >= upper:
        at.bad(f"lower ({fmt(lower)}) must be below upper ({fmt(upper)})")
        return None
    return source, lower, upper


def _bound(at: _Entry, table: Mapping[str, Any], which: str) -> float | None:
    """``table[which]`` as a finite float, -inf/inf when absent, None (reported) when bad."""
    v = table.get(which)
    if v is None:
        return -math.inf if which == "lower" else math.inf
    x = num(v)
    if x is None:
        at.bad(f"{which} must be a finite number")
    return x


def _family(at: _Entry, table: Mapping[str, Any]) -> Family | None:
    """The family a table names: by a shorthand key (``value``, ``ci90``), else by ``dist``."""
    for fam in FAMILIES.values():
        if fam.key is not None and fam.key in table:
            return fam
    name = table.get("dist")
    if name is None:
        forms = ", or ".join(f.key_example for f in FAMILIES.values() if f.key is not None)
        at.bad(f'a distribution table needs dist = "..." (or {forms})')
        return None
    names = [f.name for f in FAMILIES.values() if f.written_with_dist]
    if not isinstance(name, str) or name not in names:
        at.bad(f"unknown family {fmt(name)}; use one of {', '.join(names)}{_suggest(str(name), names)}")
        return None
    return FAMILIES[name]


def _parameters(at: _Entry, fam: Family, table: Mapping[str, Any], truncated: bool) -> dict[str, Any] | None:
    """The table's parameters (the keys that are not ``fam.meta``), if they fit one of its sets."""
    params = {k: v for k, v in table.items() if k not in fam.meta}
    problem = _parameter_problem(fam, set(params), truncated)
    if problem is not None:
        at.bad(problem)
        return None
    return params


def _parameter_problem(fam: Family, given: set[str], truncated: bool) -> str | None:
    if fam.unexpected is not None:
        extra = given - fam.keys
        return f"{fam.unexpected}, not {', '.join(sorted(extra))}" if extra else None
    if truncated and not fam.continuous:
        return "lower/upper truncation applies to continuous families only"
    if given in fam.param_sets:
        return None
    options = " or ".join("{" + ", ".join(sorted(s)) + "}" for s in fam.param_sets)
    missing = min((s - given for s in fam.param_sets), key=len)
    extra = given - fam.keys
    hint = []
    if extra:
        hint.append(f"unexpected {', '.join(sorted(extra))}")
    if missing and not extra:
        hint.append(f"missing {', '.join(sorted(missing))}")
    why = "; ".join(hint) if hint else "this combination of parameters is not accepted"
    return f"{fam.name} takes {options} ({why})"


def _spec(fam: Family, params: Mapping[str, Any], lower: float, upper: float) -> dict[str, Any]:
    """What the file said (kept in the manifest and shown by :meth:`Dist.describe`)."""
    spec = {"dist": fam.name, **params}
    if math.isfinite(lower):
        spec["lower"] = lower
    if math.isfinite(upper):
        spec["upper"] = upper
    return spec


def _read_column(base: Path | None, data_file: str, column: str) -> Column | str:
    """A CSV column's numbers (empty cells skipped), or the problem naming the file and row.

    ``data_file`` is relative to ``base``, the folder of the priors file (None: the current one).
    """
    if "\x00" in data_file:
        return "the data file's path holds a NUL character; remove it"
    path = (base or Path(".")) / data_file
    try:
        text = _read_regular(path, MAX_CSV_BYTES).decode("utf-8")
        csv.field_size_limit(MAX_CSV_BYTES)
        rows = list(csv.reader(io.StringIO(text)))
    except (OSError, UnicodeDecodeError, csv.Error, ValueError) as e:
        why = getattr(e, "strerror", None) or type(e).__name__
        return f"cannot read {_display(path)} as a CSV file ({why}); the path is relative to the priors file"
    if not rows or column not in rows[0]:
        # the file's content is never echoed: it may not be a data file at all
        return f"{_display(path)} has no column {column!r} in its first row; the column names the header"
    j = rows[0].index(column)
    values: list[float] = []
    for n, row in enumerate(rows[1:], start=2):
        cell = row[j].strip() if j < len(row) else ""
        if not cell:
            continue
        try:
            x = float(cell)
        except ValueError:
            x = math.nan
        if not math.isfinite(x):
            return f"{_display(path)} line {n}: {column} = {cell!r} is not a finite number"
        values.append(x)
    return Column(_display(path), values)


def _check_domain(file: str, key: str, raw: Any, dist: Dist, errs: _Collector) -> None:
    problem = _domain_problem(dist, INPUTS[key].domain)
    if problem is not None:
        errs.add(file, key, raw, problem)


def _percent_hint(x: float, dom: Domain) -> str:
    """``steady_state = 45`` is a percentage written for a fraction: suggest 0.45."""
    if dom.low == 0.0 and dom.high == 1.0 and 1.0 < x <= 100.0:
        return f"; a fraction, not a percentage: did you mean {fmt(x / 100)}?"
    return ""


def _domain_problem(dist: Dist, dom: Domain) -> str | None:
    """Why ``dist`` can give values outside the input's domain (with the fix), or None."""
    if dist.is_constant:
        return None if dom.contains(dist.params[0]) else f"must be {dom.text}{_percent_hint(dist.params[0], dom)}"
    fam = FAMILIES[dist.family]
    if fam.values is not None:
        bad = [v for v in fam.values(dist.params) if not dom.contains(v)]
        return f"every value must be {dom.text}; {fmt(bad[0])} is not" if bad else None
    lo, hi = dist.support()
    if dom.contains_support(lo, hi):
        return None
    name = str(dist.spec.get("dist", dist.family))
    side = "below" if lo < dom.low else "above"
    edge = dom.low if lo < dom.low else dom.high
    if fam.positive_alternative is not None and dom.low == 0 and lo < 0:
        fix = f"use {fam.positive_alternative}, or add lower = 0"
    elif lo < dom.low:
        fix = f"add lower = {fmt(dom.low)} or choose a family whose support stays {dom.text}"
    else:
        fix = f"add upper = {fmt(dom.high)} or choose a family whose support stays {dom.text}"
    return f"a {name} can go {side} {fmt(edge)} but this input must be {dom.text}; {fix}"


# --------------------------------------------------------------------------- files


def _display(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


#: The largest priors file and data CSV read (a priors file is a page of TOML; /dev/zero is endless).
MAX_TOML_BYTES = 1 << 20
MAX_CSV_BYTES = 64 << 20


def _read_regular(path: Path, limit: int) -> bytes:
    """The bytes of a regular file of at most ``limit`` bytes; OSError (with strerror) otherwise.

    Opened without blocking and checked with fstat before reading: a named pipe, a device
    (/dev/zero) or a directory is refused instead of read forever.
    """
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise OSError(errno.EINVAL, "not a regular file")
        if st.st_size > limit:
            raise OSError(errno.EFBIG, f"{st.st_size:,} bytes, more than the {limit:,} read")
        with os.fdopen(fd, "rb", closefd=False) as fh:
            return fh.read(limit + 1)[:limit]
    finally:
        os.close(fd)


def _read_toml(path: Path, shown: str, errs: _Collector) -> dict[str, Any] | None:
    try:
        data = _read_regular(path, MAX_TOML_BYTES)
    except FileNotFoundError:
        errs.add(
            shown, "", None, f"file not found (looked for {path.absolute()}); `mcroi priors list` shows library names"
        )
        return None
    except IsADirectoryError:
        errs.add(shown, "", None, "is a directory, not a priors file")
        return None
    except OSError as e:
        errs.add(shown, "", None, f"cannot be read ({e.strerror})")
        return None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as e:
        errs.add(shown, "", None, f"is not UTF-8 text (byte {e.start}); a priors file is TOML")
        return None
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        errs.add(shown, "", None, f"TOML syntax error: {e}")
        return None
    except RecursionError:
        errs.add(shown, "", None, "tables or arrays nested too deeply to read (a priors file nests two levels)")
        return None


@dataclass
class _Layer:
    file: str
    entries: dict[str, tuple[Any, str]]  # key -> (raw value, file)
    scenario: dict[str, Any]
    correlations: list[tuple[Any, str]]
    base: Path | None = None


def _flatten(shown: str, doc: Mapping[str, Any], errs: _Collector) -> _Layer:
    entries: dict[str, tuple[Any, str]] = {}
    scenario: dict[str, Any] = {}
    correlations: list[tuple[Any, str]] = []
    for group, body in doc.items():
        if group == "scenario":
            if not isinstance(body, Mapping):
                errs.add(shown, "scenario", body, "must be a table: [scenario]")
                continue
            for k, v in body.items():
                if k not in ("name", "description", "extends", "strict"):
                    errs.add(
                        shown,
                        f"scenario.{k}",
                        v,
                        f"unknown scenario key{_suggest(k, ['name', 'description', 'extends', 'strict'])}",
                    )
                else:
                    scenario[k] = v
            continue
        if group == "correlation":
            items = body if isinstance(body, list) else [body]
            correlations.extend((c, shown) for c in items)
            continue
        if group not in GROUPS:
            errs.add(shown, group, body, f"unknown table{_suggest(group, GROUPS)}")
            continue
        if not isinstance(body, Mapping):
            errs.add(shown, group, body, f"must be a table [{group}] of inputs")
            continue
        for k, v in body.items():
            full = f"{group}.{k}"
            if full not in ALL_KEYS:
                errs.add(shown, full, v, f"unknown input{_suggest(full, ALL_KEYS)}")
                continue
            entries[full] = (v, shown)
    return _Layer(shown, entries, scenario, correlations)


def _load_layers(
    path: Path, errs: _Collector, stack: tuple[Path, ...], seen: dict[Path, list[_Layer]] | None = None
) -> list[_Layer]:
    """The layers of ``path`` in merge order, each file read once (``seen``) and listed once.

    A file reached twice (a diamond: two layers extending a common one) is read and parsed once;
    where it appears twice in the merge order only its last place counts, which merges to the same
    values (a later copy of a layer wins over everything its earlier copy could). Without this, a
    diamond 20 levels deep was resolved 2^20 times.
    """
    seen = {} if seen is None else seen
    real = path.resolve()
    shown = _display(path)
    if real in stack:
        chain = " -> ".join(_display(p) for p in (*stack, real))
        errs.add(shown, "scenario.extends", None, f"extends cycle: {chain}")
        return []
    if real in seen:
        return seen[real]
    if len(stack) > 32:
        errs.add(shown, "scenario.extends", None, "extends chain is deeper than 32 files")
        return []
    doc = _read_toml(path, shown, errs)
    if doc is None:
        return []
    layer = _flatten(shown, doc, errs)
    layer.base = path.parent
    layers: list[_Layer] = []
    for target in _extends_targets(path, shown, layer, errs):
        layers.extend(_load_layers(target, errs, (*stack, real), seen))
    layers.append(layer)
    seen[real] = _last_of_each(layers)
    return seen[real]


def _extends_targets(path: Path, shown: str, layer: _Layer, errs: _Collector) -> list[Path]:
    ext = layer.scenario.get("extends", [])
    if isinstance(ext, str):
        ext = [ext]
    if not (isinstance(ext, list) and all(isinstance(e, str) and e for e in ext)):
        errs.add(shown, "scenario.extends", ext, "must be a list of paths relative to this file")
        return []
    targets = []
    for e in ext:
        target = _extends_target(path, e)
        if target is None:
            if len(e) > 4096 or "\x00" in e:
                errs.add(shown, "scenario.extends", e[:80], "is not a usable path (too long, or a NUL character)")
                continue
            tried = f"{_display(path.parent / e)} or the library's {e}"
            errs.add(shown, "scenario.extends", e, f"file not found: tried {tried}; see `mcroi priors list`")
            continue
        targets.append(target)
    return targets


def _last_of_each(layers: list[_Layer]) -> list[_Layer]:
    """Each layer once, at its last place in the merge order."""
    last = {id(layer): i for i, layer in enumerate(layers)}
    return [layer for i, layer in enumerate(layers) if last[id(layer)] == i]


def _extends_target(path: Path, entry: str) -> Path | None:
    """A layer named in ``extends``: relative to the file, else a library name (``platforms/h100.toml``)."""
    for cand in (path.parent / entry, library_root() / entry, library_root() / f"{entry}.toml"):
        try:
            if cand.is_file():
                return cand
        except (OSError, ValueError):  # a name too long for the filesystem, a NUL
            continue
    return None


def _parse_curve(file: str, raw: Any, errs: _Collector) -> tuple[tuple[tuple[float, float], ...], str | None] | None:
    source = None
    knots = raw
    if isinstance(raw, Mapping):
        extra = set(raw) - {"knots", "source"}
        if extra:
            errs.add(file, CURVE_KEY, raw, f"a curve table takes knots and source, not {', '.join(sorted(extra))}")
            return None
        knots, source = raw.get("knots"), raw.get("source")
        if source is not None and not isinstance(source, str):
            errs.add(file, CURVE_KEY, raw, "source must be a string")
            return None
    if not (isinstance(knots, list) and len(knots) >= 1):
        errs.add(
            file, CURVE_KEY, raw, "must be a list of [interactivity_tok_s_user, output_tokens_per_s_per_gpu] pairs"
        )
        return None
    out = []
    for k in knots:
        if not (isinstance(k, list) and len(k) == 2 and all(num(x) is not None for x in k)):
            errs.add(file, CURVE_KEY, raw, f"each knot must be two finite numbers, got {fmt(k)}")
            return None
        x, y = float(k[0]), float(k[1])
        if x <= 0 or y <= 0:
            errs.add(file, CURVE_KEY, raw, f"knot {fmt(k)} must have interactivity > 0 and throughput > 0")
            return None
        out.append((x, y))
    out.sort()
    if len({x for x, _ in out}) != len(out):
        errs.add(file, CURVE_KEY, raw, "two knots share one interactivity value")
        return None
    return tuple(out), source


def _parse_correlations(items: list[tuple[Any, str]], names: set[str], errs: _Collector) -> list[Correlation]:
    """Pairwise ``between = [a, b], spearman = r`` and matrix ``names = [...], matrix = [[...]]`` forms.

    A pair given again (in a later layer, or in a matrix) replaces the earlier value, so a
    scenario can override a layer's correlation.
    """
    found: dict[frozenset[str], Correlation] = {}
    for raw, file in items:
        key = "correlation"
        if not isinstance(raw, Mapping):
            errs.add(file, key, raw, "each [[correlation]] must be a table with between = [a, b] and spearman = r")
            continue
        if "matrix" in raw or "names" in raw:
            pairs = _parse_matrix(file, raw, errs)
        else:
            extra = set(raw) - {"between", "spearman", "source"}
            if extra:
                errs.add(
                    file,
                    key,
                    raw,
                    f"unexpected {', '.join(sorted(extra))}; use between = [a, b], spearman = r (or names = [...], matrix = [[...]])",
                )
                continue
            pair, rho = raw.get("between"), num(raw.get("spearman"))
            if not (isinstance(pair, list) and len(pair) == 2 and all(isinstance(p, str) for p in pair)):
                errs.add(
                    file,
                    key,
                    raw,
                    'between must name two inputs, e.g. between = ["price.annual_decline", "utilization.steady_state"]',
                )
                continue
            if rho is None or not -1 < rho < 1:
                errs.add(file, key, raw, "spearman must be a number strictly between -1 and 1")
                continue
            if pair[0] == pair[1]:
                errs.add(file, key, raw, "an input cannot be correlated with itself")
                continue
            pairs = [(pair[0], pair[1], rho)]
        if pairs is None:
            continue
        bad = sorted({n for a, b, _ in pairs for n in (a, b) if n not in names})
        if bad:
            errs.add(
                file, key, raw, f"names an input that is not in this scenario: {bad[0]!r}{_suggest(bad[0], names)}"
            )
            continue
        for a, b, rho in pairs:
            found[frozenset((a, b))] = Correlation(a, b, rho)
    return list(found.values())


def _parse_matrix(file: str, raw: Mapping[str, Any], errs: _Collector) -> list[tuple[str, str, float]] | None:
    key = "correlation"
    extra = set(raw) - {"names", "matrix", "source"}
    if extra:
        errs.add(
            file,
            key,
            raw,
            f"unexpected {', '.join(sorted(extra))}; the matrix form takes names = [...], matrix = [[...]]",
        )
        return None
    names, matrix = raw.get("names"), raw.get("matrix")
    if not (isinstance(names, list) and len(names) >= 2 and all(isinstance(n, str) for n in names)):
        errs.add(file, key, raw, "names must list at least two inputs")
        return None
    if len(set(names)) != len(names):
        errs.add(file, key, raw, "names lists an input twice")
        return None
    k = len(names)
    if not (isinstance(matrix, list) and len(matrix) == k and all(isinstance(r, list) and len(r) == k for r in matrix)):
        errs.add(file, key, raw, f"matrix must be {k} rows of {k} numbers (one per name)")
        return None
    vals = [[num(x) for x in row] for row in matrix]
    for i in range(k):
        for j in range(k):
            x = vals[i][j]
            if x is None:
                errs.add(file, key, raw, f"matrix[{i}][{j}] must be a finite number")
                return None
            if i == j and x != 1:
                errs.add(file, key, raw, f"matrix[{i}][{i}] = {fmt(x)}: the diagonal must be 1")
                return None
            if i != j and not -1 < x < 1:
                errs.add(
                    file,
                    key,
                    raw,
                    f"matrix[{i}][{j}] = {fmt(x)}: Spearman correlations must lie strictly between -1 and 1",
                )
                return None
            if i < j and x != vals[j][i]:
                errs.add(
                    file,
                    key,
                    raw,
                    f"matrix[{i}][{j}] = {fmt(x)} but matrix[{j}][{i}] = {fmt(vals[j][i])}: it must be symmetric",
                )
                return None
    return correlation_pairs(names, vals)  # type: ignore[arg-type]


def load(path: str | Path, partial: bool = False) -> PriorSet:
    """Read, merge (``extends``) and validate a priors file.

    ``partial=True`` validates a library layer (a platform, workload, market ...): every value it
    gives must be valid, but inputs it leaves to other layers are not reported missing and no
    contract defaults are filled in.

    Raises
    ------
    PriorsError
        With one line per problem, naming file, key, value and the fix.
    """
    path = Path(path)
    errs = _Collector()
    layers = _load_layers(path, errs, ())
    # a file that cannot be read, or a broken extends chain, is the root cause: report it alone,
    # not the inputs the missing layers would have given
    errs.raise_if_any()
    return _resolve(layers, path.stem, errs, partial)


def from_dict(doc: Mapping[str, Any], name: str = "scenario", file: str = "<dict>") -> PriorSet:
    """Validate a priors document given as nested dicts (the TOML structure), without a file.

    ``[scenario] extends`` is not available here (there is no file to be relative to).
    """
    errs = _Collector()
    layer = _flatten(file, doc, errs)
    if "extends" in layer.scenario:
        errs.add(
            file, "scenario.extends", layer.scenario["extends"], "extends needs a priors file; use mcroi.priors.load"
        )
    return _resolve([layer], name, errs)


def _resolve(layers: list[_Layer], stem: str, errs: _Collector, partial: bool = False) -> PriorSet:
    """Merge the layers (later ones win), parse and check every entry, fill in the defaults.

    ``partial`` (a library layer): inputs left to other layers are not reported missing and no
    defaults are filled in.
    """
    top = layers[-1]
    merged: dict[str, tuple[Any, str]] = {}
    correlations: list[tuple[Any, str]] = []
    for layer in layers:
        merged.update(layer.entries)
        correlations.extend(layer.correlations)
    name, desc, strict = _scenario(top, stem, errs)
    horizon = _horizon(merged, errs)
    switches = _switches(merged, errs)
    curve, curve_source = _curve(merged, errs)
    dists = _inputs(merged, {layer.file: layer.base for layer in layers}, errs)
    _check_throughput(top.file, merged, curve is not None, partial, errs)
    _check_gpus(top.file, merged, dists, partial, errs)
    if not partial:
        for k in REQUIRED:
            if k not in merged:
                errs.add(top.file, "", None, f"missing required input {k} ({INPUTS[k].long_name}, {INPUTS[k].unit})")
        _fill_defaults(dists, horizon, curve is not None)
    ordered = {k: dists[k] for k in INPUTS if k in dists}
    # an input given but invalid still belongs to the scenario: its own error is the root cause
    corr = _parse_correlations(correlations, set(ordered) | (set(merged) & set(INPUTS)), errs)
    if corr and strict and not errs.lines:
        # numpy-only check (no JAX): a non-PSD matrix under strict = true is a load-time error.
        errs.lines.extend(check_correlations(list(ordered), corr, top.file, strict=True))
    errs.raise_if_any()
    return PriorSet(
        name=name,
        description=desc,
        inputs=ordered,
        horizon_months=horizon,
        curve=curve,
        curve_source=curve_source,
        correlations=tuple(corr),
        files=tuple(layer.file for layer in layers),
        strict=strict,
        switches=switches,
    )


#: Longest scenario name, description or source accepted (a 10 MB name hung the plots).
MAX_TEXT = 10_000


def _bad_text(text: str) -> str:
    """Why a text cannot be used as a name or source ("" when it can): a NUL, or too long."""
    if "\x00" in text:
        return "holds a NUL character (\\x00); remove it"
    if len(text) > MAX_TEXT:
        return f"is {len(text):,} characters long; at most {MAX_TEXT:,}"
    return ""


def _scenario(top: _Layer, stem: str, errs: _Collector) -> tuple[str, str, bool]:
    """``[scenario]`` name (stripped; the file's stem by default), description and strict."""
    name = top.scenario.get("name", stem)
    if not isinstance(name, str) or not name.strip():
        errs.add(top.file, "scenario.name", name, "must be a non-empty string")
        name = stem
    elif _bad_text(name):
        errs.add(top.file, "scenario.name", name, f"name {_bad_text(name)}")
        name = stem
    desc = top.scenario.get("description", "")
    if not isinstance(desc, str):
        errs.add(top.file, "scenario.description", desc, "must be a string")
        desc = ""
    elif _bad_text(desc):
        errs.add(top.file, "scenario.description", desc, f"description {_bad_text(desc)}")
        desc = ""
    strict = top.scenario.get("strict", False)
    if not isinstance(strict, bool):
        errs.add(top.file, "scenario.strict", strict, "must be true or false")
        strict = False
    return name.strip(), desc, strict


def _horizon(merged: dict[str, tuple[Any, str]], errs: _Collector) -> int:
    """The horizon in months (taken out of ``merged``): a whole number, never a distribution."""
    if HORIZON_KEY not in merged:
        return DEFAULT_HORIZON
    raw, file = merged.pop(HORIZON_KEY)
    if isinstance(raw, Mapping) and set(raw) <= {"value", "source"} and "value" in raw:
        raw = raw["value"]
    if not (isinstance(raw, int) and not isinstance(raw, bool)) or not 1 <= raw <= MAX_HORIZON:
        errs.add(
            file,
            HORIZON_KEY,
            raw,
            f"must be a whole number of months between 1 and {MAX_HORIZON} (it is a constant, not a distribution)",
        )
        return DEFAULT_HORIZON
    return int(raw)


def _switches(merged: dict[str, tuple[Any, str]], errs: _Collector) -> tuple[str, ...]:
    """(v2) The scenario switches set to true (taken out of ``merged``): constant booleans."""
    on = []
    for key in SWITCHES:
        if key not in merged:
            continue
        raw, file = merged.pop(key)
        if isinstance(raw, Mapping) and set(raw) <= {"value", "source"} and "value" in raw:
            raw = raw["value"]
        if not isinstance(raw, bool):
            errs.add(file, key, raw, "must be true or false (a switch, not a number or a distribution)")
        elif raw:
            on.append(key)
    return tuple(on)


def _curve(
    merged: dict[str, tuple[Any, str]], errs: _Collector
) -> tuple[tuple[tuple[float, float], ...] | None, str | None]:
    """The throughput curve and its source (taken out of ``merged``), or (None, None)."""
    if CURVE_KEY not in merged:
        return None, None
    raw, file = merged.pop(CURVE_KEY)
    parsed = _parse_curve(file, raw, errs)
    return parsed if parsed else (None, None)


def _inputs(merged: dict[str, tuple[Any, str]], bases: dict[str, Path | None], errs: _Collector) -> dict[str, Dist]:
    """Every input's distribution, each checked against its domain (problems go to ``errs``)."""
    dists: dict[str, Dist] = {}
    for key, (raw, file) in merged.items():
        d = parse_dist(file, key, raw, errs, bases.get(file))
        if d is not None:
            _check_domain(file, key, raw, d, errs)
            dists[key] = d
    return dists


def _check_throughput(
    top_file: str, merged: dict[str, tuple[Any, str]], has_curve: bool, partial: bool, errs: _Collector
) -> None:
    """A single throughput or a curve (with its service level), not both."""
    tps = "throughput.output_tokens_per_s_per_gpu"
    if has_curve and tps in merged:
        errs.add(top_file, tps, merged[tps][0], f"give either {tps} or {CURVE_KEY}, not both")
    if partial:
        return
    if not has_curve:
        for k in ("throughput.curve_scale", "workload.interactivity_tok_s_user"):
            if k in merged:
                errs.add(
                    merged[k][1], k, merged[k][0], f"only applies with {CURVE_KEY}; add a curve or remove this key"
                )
        if tps not in merged:
            errs.add(
                top_file,
                "",
                None,
                f"missing required input {tps} (or {CURVE_KEY} with workload.interactivity_tok_s_user)",
            )
    elif "workload.interactivity_tok_s_user" not in merged:
        errs.add(
            top_file,
            "",
            None,
            "missing required input workload.interactivity_tok_s_user (the service level read off throughput.curve)",
        )


def _check_gpus(
    top_file: str, merged: dict[str, tuple[Any, str]], dists: dict[str, Dist], partial: bool, errs: _Collector
) -> None:
    """Exactly one of cluster.gpus, capex.budget_usd, (v2) cluster.power_mw; a budget needs a GPU
    that costs more than 0, a facility power a GPU that draws more than 0."""
    sizing = [k for k in ("cluster.gpus", "capex.budget_usd", "cluster.power_mw") if k in merged]
    if len(sizing) > 1:
        errs.add(
            top_file,
            sizing[-1],
            merged[sizing[-1]][0],
            f"give one of cluster.gpus, capex.budget_usd, cluster.power_mw, not {'both' if len(sizing) == 2 else 'all three'}"
            f" ({' and '.join(sizing)})",
        )
    if not sizing and not partial:
        errs.add(top_file, "", None, "missing required input cluster.gpus (or capex.budget_usd, or cluster.power_mw)")

    def must_be_positive(sizer: str, key: str, why: str) -> None:
        if sizer not in dists or key not in dists:
            return
        d = dists[key]
        lo, _ = d.support()
        # a lognormal's support starts at 0 but it never draws 0
        if lo < 0 or (lo == 0 and not FAMILIES[d.family].open_below):
            errs.add(top_file, key, merged[key][0], f"must be > 0 when {sizer} sets the GPU count{why}")

    must_be_positive("capex.budget_usd", "capex.usd_per_gpu", "")
    must_be_positive("cluster.power_mw", "power.kw_per_gpu", " (gpus = power_mw * 1000 / (kw_per_gpu * pue))")


def _fill_defaults(dists: dict[str, Dist], horizon: int, has_curve: bool) -> None:
    """The contract's defaults for the inputs not given; the useful life defaults to the horizon."""
    for k, spec in INPUTS.items():
        if k in dists or spec.default is None:
            continue
        if k == "throughput.curve_scale" and not has_curve:
            continue
        dists[k] = Dist("constant", (spec.default,), source="mcroi default (contract v1)", spec={"value": spec.default})
    if "finance.useful_life_months" not in dists:
        dists["finance.useful_life_months"] = Dist(
            "constant", (float(horizon),), source="mcroi default: the horizon", spec={"value": float(horizon)}
        )
