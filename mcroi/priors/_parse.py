"""Priors format v1: TOML files -> a validated :class:`PriorSet`.

Priors are data: the reader parses TOML with :mod:`tomllib` and never evaluates anything.
Every problem in a file is collected and reported as one line naming the file, the key, the
value and the fix (:class:`PriorsError`). No JAX here; see ``docs/priors.md`` for the format.
"""

from __future__ import annotations

import csv
import difflib
import hashlib
import io
import json
import math
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mcroi.priors._schema import (
    ALL_KEYS,
    CURVE_KEY,
    DEFAULT_HORIZON,
    GROUPS,
    HORIZON_KEY,
    INPUTS,
    MAX_HORIZON,
    REQUIRED,
)

Z95 = 1.6448536269514722  # standard normal quantile at 0.95

FAMILIES: dict[str, list[set[str]]] = {
    # family: accepted parameter sets (besides lower/upper/source)
    "normal": [{"mean", "sd"}, {"p5", "p95"}],
    "lognormal": [{"median", "gsd"}, {"mu", "sigma"}, {"p5", "p95"}],
    "uniform": [{"min", "max"}],
    "triangular": [{"min", "mode", "max"}],
    "pert": [{"min", "mode", "max"}, {"min", "mode", "max", "lambda"}],
    "beta": [
        {"alpha", "beta"},
        {"alpha", "beta", "min", "max"},
        {"mean", "sd"},
        {"mean", "sd", "min", "max"},
    ],
    "discrete": [{"values"}, {"values", "weights"}],
}
CONTINUOUS = {"normal", "lognormal", "uniform", "triangular", "pert", "beta", "empirical"}
META_KEYS = {"dist", "source", "lower", "upper"}


class PriorsError(Exception):
    """One or more problems in a priors file; ``lines`` holds one message per problem."""

    def __init__(self, lines: list[str]):
        self.lines = list(lines)
        super().__init__("\n".join(self.lines))


@dataclass(frozen=True)
class Dist:
    """One input's resolved distribution.

    ``family`` is canonical: constant, normal, lognormal, uniform, triangular, beta, discrete
    (pert resolves to beta; ``spec`` keeps what the file said). ``params`` are canonical numbers:
    constant (value), normal/lognormal (mu, sigma), uniform (min, max), triangular (min, mode, max),
    beta (alpha, beta, min, max), discrete (values..., then weights...), empirical (the data, sorted).
    """

    family: str
    params: tuple[float, ...]
    lower: float = -math.inf
    upper: float = math.inf
    source: str | None = None
    spec: Mapping[str, Any] = field(default_factory=dict)
    file: str = ""

    @property
    def is_constant(self) -> bool:
        return self.family == "constant"

    @property
    def truncated(self) -> bool:
        return math.isfinite(self.lower) or math.isfinite(self.upper)

    def support(self) -> tuple[float, float]:
        f, p = self.family, self.params
        if f == "constant":
            return p[0], p[0]
        if f == "normal":
            lo, hi = -math.inf, math.inf
        elif f == "lognormal":
            lo, hi = 0.0, math.inf
        elif f in ("uniform", "triangular"):
            lo, hi = p[0], p[-1]
        elif f == "beta":
            lo, hi = p[2], p[3]
        elif f == "discrete":
            vals = p[: len(p) // 2]
            lo, hi = min(vals), max(vals)
        elif f == "empirical":
            lo, hi = p[0], p[-1]
        else:  # pragma: no cover - families are closed
            raise ValueError(f)
        return max(lo, self.lower), min(hi, self.upper)

    def describe(self) -> str:
        """Short human form, e.g. ``lognormal(median=2, gsd=1.5)``."""
        if self.is_constant:
            return _fmt(self.params[0])
        fam = str(self.spec.get("dist", self.family))
        args = ", ".join(f"{k}={_fmt(v)}" for k, v in self.spec.items() if k not in ("dist", "source"))
        return f"{fam}({args})"

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"family": self.family, "params": list(self.params)}
        if math.isfinite(self.lower):
            out["lower"] = self.lower
        if math.isfinite(self.upper):
            out["upper"] = self.upper
        out["spec"] = dict(self.spec)
        out["source"] = self.source
        return out


@dataclass(frozen=True)
class Correlation:
    """Rank (Spearman) correlation between two inputs; applied by a Gaussian copula."""

    a: str
    b: str
    spearman: float


def correlation_pairs(names: list[str], matrix: list[list[float]]) -> list[tuple[str, str, float]]:
    """The upper triangle of a correlation matrix as (a, b, spearman) pairs."""
    return [(names[i], names[j], float(matrix[i][j])) for i in range(len(names)) for j in range(i + 1, len(names))]


@dataclass(frozen=True)
class PriorSet:
    """A resolved scenario: every input's distribution plus scenario constants."""

    name: str
    description: str
    inputs: dict[str, Dist]
    horizon_months: int = DEFAULT_HORIZON
    curve: tuple[tuple[float, float], ...] | None = None
    curve_source: str | None = None
    correlations: tuple[Correlation, ...] = ()
    files: tuple[str, ...] = ()
    strict: bool = False

    @property
    def names(self) -> list[str]:
        """Input names in contract order (the ``input`` coordinate of a run)."""
        return list(self.inputs)

    def resolved(self) -> dict[str, Any]:
        """JSON-ready resolved priors (what the manifest stores and the hash covers)."""
        return {
            "name": self.name,
            "description": self.description,
            HORIZON_KEY: self.horizon_months,
            CURVE_KEY: [list(k) for k in self.curve] if self.curve else None,
            "curve_source": self.curve_source,
            "inputs": {k: v.to_json() for k, v in self.inputs.items()},
            "correlations": [[c.a, c.b, c.spearman] for c in self.correlations],
        }

    def sha256(self) -> str:
        blob = json.dumps(self.resolved(), sort_keys=True, separators=(",", ":"), default=str)
        return hashlib.sha256(blob.encode()).hexdigest()

    def replace_inputs(self, **changes: Dist) -> PriorSet:
        new = dict(self.inputs)
        new.update(changes)
        return PriorSet(
            self.name,
            self.description,
            new,
            self.horizon_months,
            self.curve,
            self.curve_source,
            self.correlations,
            self.files,
            self.strict,
        )


# --------------------------------------------------------------------------- formatting


def _fmt(v: Any) -> str:
    """Render a value as TOML-ish text for messages."""
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, float):
        if math.isnan(v):
            return "nan"
        if math.isinf(v):
            return "inf" if v > 0 else "-inf"
        return f"{v:g}"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, str):
        return json.dumps(v)
    if isinstance(v, Mapping):
        return "{ " + ", ".join(f"{k} = {_fmt(x)}" for k, x in v.items()) + " }"
    if isinstance(v, list | tuple):
        inner = ", ".join(_fmt(x) for x in v[:6])
        return "[" + inner + (", ..." if len(v) > 6 else "") + "]"
    return repr(v)


def _short(v: Any, limit: int = 120) -> str:
    s = _fmt(v)
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


# --------------------------------------------------------------------------- numbers


def _is_number(v: Any) -> bool:
    return isinstance(v, int | float) and not isinstance(v, bool)


def _num(v: Any) -> float | None:
    """A finite float, or None."""
    if not _is_number(v):
        return None
    x = float(v)
    return x if math.isfinite(x) else None


def _suggest(key: str, choices: Iterable[str]) -> str:
    close = difflib.get_close_matches(key, list(choices), n=1, cutoff=0.6)
    return f"; did you mean {close[0]!r}?" if close else ""


# --------------------------------------------------------------------------- one entry


def parse_dist(file: str, key: str, raw: Any, errs: _Collector, base: Path | None = None) -> Dist | None:
    """Parse one input's value (a number or a distribution table). Appends problems to ``errs``.

    ``base`` is the folder of the file that gave the value (``empirical`` data paths are relative
    to it); None means the current directory.
    """
    if _is_number(raw):
        x = float(raw)
        if not math.isfinite(x):
            errs.add(file, key, raw, "must be a finite number")
            return None
        return Dist("constant", (x,), spec={"value": x}, file=file)
    if not isinstance(raw, Mapping):
        errs.add(
            file, key, raw, 'must be a number or a distribution table such as { dist = "lognormal", p5 = 1, p95 = 3 }'
        )
        return None
    table = dict(raw)
    source = table.get("source")
    if source is not None and not isinstance(source, str):
        errs.add(file, key, raw, "source must be a string")
        return None
    n_before = len(errs.lines)
    lower = _bound(file, key, raw, table.get("lower"), "lower", -math.inf, errs)
    upper = _bound(file, key, raw, table.get("upper"), "upper", math.inf, errs)
    if len(errs.lines) > n_before:
        return None
    if lower >= upper:
        errs.add(file, key, raw, f"lower ({_fmt(lower)}) must be below upper ({_fmt(upper)})")
        return None

    if "value" in table:  # a constant with a source
        extra = set(table) - {"value", "source"}
        if extra:
            errs.add(file, key, raw, f"a constant takes only value and source, not {', '.join(sorted(extra))}")
            return None
        v = _num(table["value"])
        if v is None:
            errs.add(file, key, raw, "value must be a finite number")
            return None
        return Dist("constant", (v,), source=source, spec={"value": v}, file=file)

    if "ci90" in table:
        extra = set(table) - {"ci90", "source", "lower", "upper"}
        if extra:
            errs.add(file, key, raw, f"ci90 takes no other parameters, not {', '.join(sorted(extra))}")
            return None
        ci = table["ci90"]
        if not (isinstance(ci, list) and len(ci) == 2 and all(_num(c) is not None for c in ci)):
            errs.add(file, key, raw, "ci90 must be two finite numbers [p5, p95]")
            return None
        a, b = float(ci[0]), float(ci[1])
        if a >= b:
            errs.add(file, key, raw, f"ci90 needs p5 < p95, got [{_fmt(a)}, {_fmt(b)}]; swap them")
            return None
        fam = "lognormal" if a > 0 else "normal"
        spec = {"dist": fam, "p5": a, "p95": b}
        return _build(file, key, raw, fam, {"p5": a, "p95": b}, lower, upper, source, spec, errs)

    fam = table.get("dist")
    if fam is None:
        errs.add(file, key, raw, 'a distribution table needs dist = "..." (or value = ..., or ci90 = [p5, p95])')
        return None
    if fam == "empirical":
        return _empirical(file, key, raw, table, lower, upper, source, base, errs)
    if not isinstance(fam, str) or fam not in FAMILIES:
        families = [*FAMILIES, "empirical"]
        errs.add(
            file,
            key,
            raw,
            f"unknown family {_fmt(fam)}; use one of {', '.join(families)}{_suggest(str(fam), families)}",
        )
        return None
    params = {k: v for k, v in table.items() if k not in META_KEYS}
    if fam in ("uniform", "triangular", "pert", "discrete") and (math.isfinite(lower) or math.isfinite(upper)):
        if fam == "discrete":
            errs.add(file, key, raw, "lower/upper truncation applies to continuous families only")
            return None
    given = set(params)
    if given not in FAMILIES[fam]:
        options = " or ".join("{" + ", ".join(sorted(s)) + "}" for s in FAMILIES[fam])
        missing = min((s - given for s in FAMILIES[fam]), key=len)
        extra = given - set().union(*FAMILIES[fam])
        hint = []
        if extra:
            hint.append(f"unexpected {', '.join(sorted(extra))}")
        if missing and not extra:
            hint.append(f"missing {', '.join(sorted(missing))}")
        why = "; ".join(hint) if hint else "this combination of parameters is not accepted"
        errs.add(file, key, raw, f"{fam} takes {options} ({why})")
        return None
    spec = {"dist": fam, **params}
    if math.isfinite(lower):
        spec["lower"] = lower
    if math.isfinite(upper):
        spec["upper"] = upper
    return _build(file, key, raw, fam, params, lower, upper, source, spec, errs)


def _empirical(
    file: str,
    key: str,
    raw: Any,
    table: Mapping[str, Any],
    lower: float,
    upper: float,
    source: str | None,
    base: Path | None,
    errs: _Collector,
) -> Dist | None:
    """``{ dist = "empirical", file = "x.csv", column = "c" }``: the column's numbers, sorted.

    The path is relative to the priors file that names it. Empty cells are skipped; anything else
    that is not a finite number is an error naming its row. Sampling is by the inverse of the
    data's piecewise-linear CDF (see :func:`mcroi.distributions.ppf`).
    """
    extra = set(table) - {"dist", "file", "column", "source", "lower", "upper"}
    if extra:
        errs.add(
            file, key, raw, f"empirical takes file, column (and source, lower, upper), not {', '.join(sorted(extra))}"
        )
        return None
    data_file, column = table.get("file"), table.get("column")
    if not (isinstance(data_file, str) and data_file and isinstance(column, str) and column):
        errs.add(file, key, raw, 'empirical needs file = "data.csv" (relative to this priors file) and column = "name"')
        return None
    path = (base or Path(".")) / data_file
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as e:
        errs.add(
            file,
            key,
            raw,
            f"cannot read {_display(path)} ({getattr(e, 'strerror', None) or e}); the path is relative to the priors file",
        )
        return None
    rows = list(csv.reader(io.StringIO(text)))
    if not rows or column not in rows[0]:
        cols = rows[0] if rows else []
        errs.add(
            file,
            key,
            raw,
            f"{_display(path)} has no column {column!r}{_suggest(column, cols)}; columns: {', '.join(cols[:12])}",
        )
        return None
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
            errs.add(file, key, raw, f"{_display(path)} line {n}: {column} = {cell!r} is not a finite number")
            return None
        values.append(x)
    if len(values) < 2 or min(values) == max(values):
        errs.add(
            file,
            key,
            raw,
            f"{_display(path)} column {column!r} needs at least two distinct numbers, has {len(values)} values",
        )
        return None
    values.sort()
    spec: dict[str, Any] = {"dist": "empirical", "file": data_file, "column": column, "n": len(values)}
    if math.isfinite(lower):
        spec["lower"] = lower
    if math.isfinite(upper):
        spec["upper"] = upper
    dist = Dist("empirical", tuple(values), lower, upper, source, spec, file)
    s_lo, s_hi = dist.support()
    if s_lo >= s_hi:
        errs.add(
            file,
            key,
            raw,
            f"the truncation [{_fmt(lower)}, {_fmt(upper)}] leaves no data inside [{_fmt(values[0])}, {_fmt(values[-1])}]",
        )
        return None
    return dist


def _bound(file: str, key: str, raw: Any, v: Any, which: str, default: float, errs: _Collector) -> float:
    if v is None:
        return default
    x = _num(v)
    if x is None:
        errs.add(file, key, raw, f"{which} must be a finite number")
        return default
    return x


def _build(
    file: str,
    key: str,
    raw: Any,
    fam: str,
    p: Mapping[str, Any],
    lower: float,
    upper: float,
    source: str | None,
    spec: Mapping[str, Any],
    errs: _Collector,
) -> Dist | None:
    def bad(msg: str) -> None:
        errs.add(file, key, raw, msg)

    if fam == "discrete":
        vals, wts = p.get("values"), p.get("weights")
        if not (isinstance(vals, list) and vals and all(_num(x) is not None for x in vals)):
            return bad("discrete values must be a non-empty list of finite numbers")
        if wts is None:
            wts = [1.0] * len(vals)
        if not (isinstance(wts, list) and len(wts) == len(vals) and all(_num(x) is not None for x in wts)):
            return bad(f"discrete weights must be {len(vals)} finite numbers, one per value")
        if any(w < 0 for w in wts) or sum(wts) <= 0:
            return bad("discrete weights must be >= 0 with a positive sum")
        total = float(sum(wts))
        params = tuple(float(x) for x in vals) + tuple(float(w) / total for w in wts)
        return Dist("discrete", params, lower, upper, source, spec, file)

    nums: dict[str, float] = {}
    for k, v in p.items():
        x = _num(v)
        if x is None:
            return bad(f"{k} must be a finite number, got {_fmt(v)}")
        nums[k] = x

    if fam == "normal":
        if "sd" in nums:
            if nums["sd"] <= 0:
                return bad(f"sd must be > 0, got {_fmt(nums['sd'])}")
            mu, sigma = nums["mean"], nums["sd"]
        else:
            if nums["p5"] >= nums["p95"]:
                return bad(f"needs p5 < p95, got p5 = {_fmt(nums['p5'])}, p95 = {_fmt(nums['p95'])}")
            mu = 0.5 * (nums["p5"] + nums["p95"])
            sigma = (nums["p95"] - nums["p5"]) / (2 * Z95)
        dist = Dist("normal", (mu, sigma), lower, upper, source, spec, file)
    elif fam == "lognormal":
        if "gsd" in nums:
            if nums["median"] <= 0:
                return bad(f"median must be > 0, got {_fmt(nums['median'])}")
            if nums["gsd"] <= 1:
                return bad(f"gsd must be > 1, got {_fmt(nums['gsd'])}")
            mu, sigma = math.log(nums["median"]), math.log(nums["gsd"])
        elif "sigma" in nums:
            if nums["sigma"] <= 0:
                return bad(f"sigma must be > 0, got {_fmt(nums['sigma'])}")
            mu, sigma = nums["mu"], nums["sigma"]
        else:
            if nums["p5"] <= 0:
                return bad(f"a lognormal needs p5 > 0, got {_fmt(nums['p5'])}; use normal for values that can be <= 0")
            if nums["p5"] >= nums["p95"]:
                return bad(f"needs p5 < p95, got p5 = {_fmt(nums['p5'])}, p95 = {_fmt(nums['p95'])}")
            lo, hi = math.log(nums["p5"]), math.log(nums["p95"])
            mu, sigma = 0.5 * (lo + hi), (hi - lo) / (2 * Z95)
        dist = Dist("lognormal", (mu, sigma), lower, upper, source, spec, file)
    elif fam == "uniform":
        if nums["min"] >= nums["max"]:
            return bad(f"needs min < max, got min = {_fmt(nums['min'])}, max = {_fmt(nums['max'])}")
        dist = Dist("uniform", (nums["min"], nums["max"]), lower, upper, source, spec, file)
    elif fam in ("triangular", "pert"):
        a, c, b = nums["min"], nums["mode"], nums["max"]
        if a >= b:
            return bad(f"needs min < max, got min = {_fmt(a)}, max = {_fmt(b)}")
        if not a <= c <= b:
            return bad(f"mode {_fmt(c)} is outside [min, max] = [{_fmt(a)}, {_fmt(b)}]")
        if fam == "triangular":
            dist = Dist("triangular", (a, c, b), lower, upper, source, spec, file)
        else:
            lam = nums.get("lambda", 4.0)
            if lam <= 0:
                return bad(f"lambda must be > 0, got {_fmt(lam)}")
            alpha = 1 + lam * (c - a) / (b - a)
            beta = 1 + lam * (b - c) / (b - a)
            dist = Dist("beta", (alpha, beta, a, b), lower, upper, source, spec, file)
    elif fam == "beta":
        lo, hi = nums.get("min", 0.0), nums.get("max", 1.0)
        if lo >= hi:
            return bad(f"needs min < max, got min = {_fmt(lo)}, max = {_fmt(hi)}")
        if "alpha" in nums:
            alpha, beta = nums["alpha"], nums["beta"]
            if alpha <= 0 or beta <= 0:
                return bad(f"alpha and beta must be > 0, got alpha = {_fmt(alpha)}, beta = {_fmt(beta)}")
        else:
            m = (nums["mean"] - lo) / (hi - lo)
            s = nums["sd"] / (hi - lo)
            if not 0 < m < 1:
                return bad(f"mean {_fmt(nums['mean'])} must lie strictly inside [{_fmt(lo)}, {_fmt(hi)}]")
            if s <= 0:
                return bad(f"sd must be > 0, got {_fmt(nums['sd'])}")
            if not 0 < s * s < math.inf:
                return bad(f"sd {_fmt(nums['sd'])} is too small or too large relative to [min, max] to compute with")
            nu = m * (1 - m) / (s * s) - 1
            if nu <= 0:
                return bad(
                    f"sd {_fmt(nums['sd'])} is too large for a beta with mean {_fmt(nums['mean'])}; "
                    f"it must be below {_fmt(math.sqrt(m * (1 - m)) * (hi - lo))}"
                )
            alpha, beta = m * nu, (1 - m) * nu
        dist = Dist("beta", (alpha, beta, lo, hi), lower, upper, source, spec, file)
    else:  # pragma: no cover
        raise AssertionError(fam)

    if not all(math.isfinite(x) for x in dist.params) or (
        fam in ("uniform", "triangular", "pert", "beta")
        and not math.isfinite(dist.params[-1] - dist.params[-2 if fam != "triangular" else 0])
    ):
        return bad(
            "the numbers are too large to compute with (a derived parameter or the range overflows); rescale them"
        )
    s_lo, s_hi = dist.support()
    if s_lo >= s_hi:
        return bad(f"the truncation [{_fmt(lower)}, {_fmt(upper)}] leaves no probability inside the family's support")
    return dist


def _check_domain(file: str, key: str, raw: Any, dist: Dist, errs: _Collector) -> None:
    spec = INPUTS[key]
    dom = spec.domain
    if dist.is_constant:
        if not dom.contains(dist.params[0]):
            errs.add(file, key, raw, f"must be {dom.text}")
        return
    if dist.family == "discrete":
        bad = [v for v in dist.params[: len(dist.params) // 2] if not dom.contains(v)]
        if bad:
            errs.add(file, key, raw, f"every value must be {dom.text}; {_fmt(bad[0])} is not")
        return
    lo, hi = dist.support()
    if dom.contains_support(lo, hi):
        return
    fam = str(dist.spec.get("dist", dist.family))
    side = "below" if lo < dom.low else "above"
    edge = dom.low if lo < dom.low else dom.high
    if dist.family == "normal" and dom.low == 0 and lo < 0:
        fix = "use lognormal, or add lower = 0"
    elif lo < dom.low:
        fix = f"add lower = {_fmt(dom.low)} or choose a family whose support stays {dom.text}"
    else:
        fix = f"add upper = {_fmt(dom.high)} or choose a family whose support stays {dom.text}"
    errs.add(file, key, raw, f"a {fam} can go {side} {_fmt(edge)} but this input must be {dom.text}; {fix}")


# --------------------------------------------------------------------------- files


def _display(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


def _read_toml(path: Path, shown: str, errs: _Collector) -> dict[str, Any] | None:
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        errs.add(shown, "", None, "file not found")
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


def _load_layers(path: Path, errs: _Collector, stack: tuple[Path, ...]) -> list[_Layer]:
    real = path.resolve()
    shown = _display(path)
    if real in stack:
        chain = " -> ".join(_display(p) for p in (*stack, real))
        errs.add(shown, "scenario.extends", None, f"extends cycle: {chain}")
        return []
    if len(stack) > 32:
        errs.add(shown, "scenario.extends", None, "extends chain is deeper than 32 files")
        return []
    doc = _read_toml(path, shown, errs)
    if doc is None:
        return []
    layer = _flatten(shown, doc, errs)
    layer.base = path.parent
    layers: list[_Layer] = []
    ext = layer.scenario.get("extends", [])
    if isinstance(ext, str):
        ext = [ext]
    if not (isinstance(ext, list) and all(isinstance(e, str) and e for e in ext)):
        errs.add(shown, "scenario.extends", ext, "must be a list of paths relative to this file")
        ext = []
    for e in ext:
        target = path.parent / e
        if not target.exists():
            errs.add(shown, "scenario.extends", e, f"file not found: {_display(target)}")
            continue
        layers.extend(_load_layers(target, errs, (*stack, real)))
    layers.append(layer)
    return layers


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
        if not (isinstance(k, list) and len(k) == 2 and all(_num(x) is not None for x in k)):
            errs.add(file, CURVE_KEY, raw, f"each knot must be two finite numbers, got {_fmt(k)}")
            return None
        x, y = float(k[0]), float(k[1])
        if x <= 0 or y <= 0:
            errs.add(file, CURVE_KEY, raw, f"knot {_fmt(k)} must have interactivity > 0 and throughput > 0")
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
            pair, rho = raw.get("between"), _num(raw.get("spearman"))
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
    vals = [[_num(x) for x in row] for row in matrix]
    for i in range(k):
        for j in range(k):
            x = vals[i][j]
            if x is None:
                errs.add(file, key, raw, f"matrix[{i}][{j}] must be a finite number")
                return None
            if i == j and x != 1:
                errs.add(file, key, raw, f"matrix[{i}][{i}] = {_fmt(x)}: the diagonal must be 1")
                return None
            if i != j and not -1 < x < 1:
                errs.add(
                    file,
                    key,
                    raw,
                    f"matrix[{i}][{j}] = {_fmt(x)}: Spearman correlations must lie strictly between -1 and 1",
                )
                return None
            if i < j and x != vals[j][i]:
                errs.add(
                    file,
                    key,
                    raw,
                    f"matrix[{i}][{j}] = {_fmt(x)} but matrix[{j}][{i}] = {_fmt(vals[j][i])}: it must be symmetric",
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
    if not layers:
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
    top = layers[-1]
    merged: dict[str, tuple[Any, str]] = {}
    correlations: list[tuple[Any, str]] = []
    for layer in layers:
        merged.update(layer.entries)
        correlations.extend(layer.correlations)

    name = top.scenario.get("name", stem)
    if not isinstance(name, str) or not name.strip():
        errs.add(top.file, "scenario.name", name, "must be a non-empty string")
        name = stem
    desc = top.scenario.get("description", "")
    if not isinstance(desc, str):
        errs.add(top.file, "scenario.description", desc, "must be a string")
        desc = ""
    strict = top.scenario.get("strict", False)
    if not isinstance(strict, bool):
        errs.add(top.file, "scenario.strict", strict, "must be true or false")
        strict = False

    horizon = DEFAULT_HORIZON
    if HORIZON_KEY in merged:
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
        else:
            horizon = int(raw)

    curve = curve_source = None
    if CURVE_KEY in merged:
        raw, file = merged.pop(CURVE_KEY)
        parsed = _parse_curve(file, raw, errs)
        if parsed:
            curve, curve_source = parsed

    bases = {layer.file: layer.base for layer in layers}
    dists: dict[str, Dist] = {}
    for key, (raw, file) in merged.items():
        d = parse_dist(file, key, raw, errs, bases.get(file))
        if d is not None:
            _check_domain(file, key, raw, d, errs)
            dists[key] = d

    # alternatives and required inputs
    tps = "throughput.output_tokens_per_s_per_gpu"
    if curve is not None and tps in merged:
        errs.add(top.file, tps, merged[tps][0], f"give either {tps} or {CURVE_KEY}, not both")
    if curve is None and not partial:
        for k in ("throughput.curve_scale", "workload.interactivity_tok_s_user"):
            if k in merged:
                errs.add(
                    merged[k][1], k, merged[k][0], f"only applies with {CURVE_KEY}; add a curve or remove this key"
                )
    if partial:
        pass
    elif curve is None and tps not in merged:
        errs.add(
            top.file, "", None, f"missing required input {tps} (or {CURVE_KEY} with workload.interactivity_tok_s_user)"
        )
    if curve is not None and "workload.interactivity_tok_s_user" not in merged and not partial:
        errs.add(
            top.file,
            "",
            None,
            "missing required input workload.interactivity_tok_s_user (the service level read off throughput.curve)",
        )
    if "cluster.gpus" in merged and "capex.budget_usd" in merged:
        errs.add(
            top.file,
            "capex.budget_usd",
            merged["capex.budget_usd"][0],
            "give either cluster.gpus or capex.budget_usd, not both",
        )
    if "cluster.gpus" not in merged and "capex.budget_usd" not in merged and not partial:
        errs.add(top.file, "", None, "missing required input cluster.gpus (or capex.budget_usd)")
    if "capex.budget_usd" in dists and "capex.usd_per_gpu" in dists:
        lo, _ = dists["capex.usd_per_gpu"].support()
        # a lognormal's support starts at 0 but it never draws 0
        if lo < 0 or (lo == 0 and dists["capex.usd_per_gpu"].family != "lognormal"):
            errs.add(
                top.file,
                "capex.usd_per_gpu",
                merged["capex.usd_per_gpu"][0],
                "must be > 0 when capex.budget_usd sets the GPU count",
            )
    for k in REQUIRED:
        if k not in merged and not partial:
            errs.add(top.file, "", None, f"missing required input {k} ({INPUTS[k].long_name}, {INPUTS[k].unit})")

    # defaults, then contract order
    for k, spec in INPUTS.items():
        if k in dists or spec.default is None or partial:
            continue
        if k in ("throughput.curve_scale",) and curve is None:
            continue
        dists[k] = Dist("constant", (spec.default,), source="mcroi default (contract v1)", spec={"value": spec.default})
    if "finance.useful_life_months" not in dists and not partial:
        dists["finance.useful_life_months"] = Dist(
            "constant", (float(horizon),), source="mcroi default: the horizon", spec={"value": float(horizon)}
        )
    ordered = {k: dists[k] for k in INPUTS if k in dists}
    corr = _parse_correlations(correlations, set(ordered), errs)
    if corr and strict and not errs.lines:
        # numpy-only check (no JAX): a non-PSD matrix under strict = true is a load-time error
        from mcroi.priors._correlation import check

        errs.lines.extend(check([k for k in ordered], corr, top.file, strict=True))
    errs.raise_if_any()
    return PriorSet(
        name=name.strip(),
        description=desc,
        inputs=ordered,
        horizon_months=horizon,
        curve=curve,
        curve_source=curve_source,
        correlations=tuple(corr),
        files=tuple(layer.file for layer in layers),
        strict=strict,
    )
