"""Fuzzing the priors reader: no input file may crash it.

Every generated document ends in either a valid :class:`PriorSet` or a :class:`PriorsError`
whose every line starts with the file that holds the problem. Four generators: random TOML
documents (wrong types, nested tables, NaN/inf, huge and tiny numbers, unicode and empty keys),
the default scenario with one value replaced by a hostile one, byte-level mutations and binary
garbage, and ``extends`` graphs (deep, cyclic, missing, self-referencing).

The default run uses a few hundred examples; ``-m slow`` runs >= 10,000.
"""

from __future__ import annotations

import copy
import json
import math
import tempfile
import tomllib
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mcroi import priors, runs
from mcroi.priors import ALL_KEYS

DEFAULT_TEXT = priors.default_path().read_text()
DEFAULT_DOC = tomllib.loads(DEFAULT_TEXT)
# the default with its curve and throughput constants replaced, so single-key edits stay valid
DEFAULT_LEAVES = [(group, key) for group, body in DEFAULT_DOC.items() if isinstance(body, dict) for key in body]

FAST = settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
SLOW = settings(max_examples=2600, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)

# --------------------------------------------------------------------------- strategies

hostile_floats = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from([0.0, -0.0, 1e-308, 5e-324, -5e-324, 1e308, -1e308, 1.7976931348623157e308, 1e-30, 1e30, 0.5]),
)
hostile_ints = st.one_of(
    st.integers(min_value=-(2**63), max_value=2**63 - 1),
    st.sampled_from([0, 1, -1, 2**63 - 1, -(2**63), 60, 1200, 1201]),
)
families = st.sampled_from(
    ["normal", "lognormal", "uniform", "triangular", "pert", "beta", "discrete", "empirical", "", "Normal", "x" * 300]
)
param_names = st.sampled_from(
    [
        "dist",
        "mean",
        "sd",
        "p5",
        "p95",
        "median",
        "gsd",
        "mu",
        "sigma",
        "min",
        "max",
        "mode",
        "lambda",
        "alpha",
        "beta",
        "values",
        "weights",
        "lower",
        "upper",
        "source",
        "value",
        "ci90",
        "knots",
        "",
        "é",
        "\u0000",
        "between",
        "spearman",
    ]
)
keys = st.one_of(
    st.sampled_from(sorted({k.split(".")[1] for k in ALL_KEYS})),
    st.text(max_size=8),
)
scalars = st.one_of(hostile_floats, hostile_ints, st.booleans(), st.text(max_size=12), families)


def values(depth: int = 3) -> st.SearchStrategy[Any]:
    """Any TOML value, nested up to ``depth``."""
    return st.recursive(
        scalars,
        lambda inner: st.one_of(
            st.lists(inner, max_size=5),
            st.dictionaries(st.one_of(param_names, keys), inner, max_size=5),
        ),
        max_leaves=12,
    )


def dist_tables() -> st.SearchStrategy[dict[str, Any]]:
    """Tables that look like distributions: a family plus a few (often bad) parameters."""
    return st.builds(
        lambda fam, ps: {"dist": fam, **ps},
        families,
        st.dictionaries(
            param_names,
            st.one_of(hostile_floats, hostile_ints, st.lists(hostile_floats, max_size=4), scalars),
            max_size=5,
        ),
    )


def well_formed_tables() -> st.SearchStrategy[dict[str, Any]]:
    """A family with one of its accepted parameter sets, filled with hostile numbers."""

    def build(fam: str, which: int, nums: list[float], bounds: list[float | None]) -> dict[str, Any]:
        sets = priors.FAMILIES[fam].param_sets
        names = sorted(sets[which % len(sets)])
        table: dict[str, Any] = {"dist": fam}
        for i, k in enumerate(names):
            x = nums[i % len(nums)]
            table[k] = [x, nums[(i + 1) % len(nums)]] if k in ("values", "weights") else x
        if bounds[0] is not None:
            table["lower"] = bounds[0]
        if bounds[1] is not None:
            table["upper"] = bounds[1]
        return table

    return st.builds(
        build,
        st.sampled_from(sorted(name for name, f in priors.FAMILIES.items() if f.written_with_dist)),
        st.integers(0, 3),
        st.lists(hostile_floats, min_size=1, max_size=5),
        st.lists(st.one_of(st.none(), hostile_floats), min_size=2, max_size=2),
    )


groups = st.sampled_from(
    [
        "scenario",
        "cluster",
        "capex",
        "throughput",
        "workload",
        "optimization",
        "utilization",
        "price",
        "power",
        "opex",
        "finance",
        "correlation",
        "",
        "ü",
        "a.b",
    ]
)

documents = st.dictionaries(
    groups,
    st.one_of(
        st.dictionaries(keys, st.one_of(values(), dist_tables()), max_size=6),
        st.lists(st.dictionaries(param_names, values(), max_size=4), max_size=3),
        scalars,
    ),
    max_size=8,
)

# --------------------------------------------------------------------------- TOML writer


def _toml_key(k: str) -> str:
    return json.dumps(k, ensure_ascii=False)


def _toml_value(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        if math.isnan(v):
            return "nan"
        if math.isinf(v):
            return "inf" if v > 0 else "-inf"
        return repr(v)
    if isinstance(v, str):
        return json.dumps(v, ensure_ascii=False)
    if isinstance(v, list):
        return "[" + ", ".join(_toml_value(x) for x in v) + "]"
    if isinstance(v, dict):
        return "{" + ", ".join(f"{_toml_key(k)} = {_toml_value(x)}" for k, x in v.items()) + "}"
    raise TypeError(type(v))


def to_toml(doc: dict[str, Any]) -> str:
    """Every top-level entry as ``key = value`` (tables inline): what any TOML file may say."""
    return "\n".join(f"{_toml_key(k)} = {_toml_value(v)}" for k, v in doc.items()) + "\n"


# --------------------------------------------------------------------------- the property


def check_file(path: Path, shown_prefix: str | None = None) -> priors.PriorSet | None:
    """Load ``path``: a PriorSet, or a PriorsError whose lines all name a file."""
    try:
        ps = priors.load(path)
    except priors.PriorsError as e:
        assert e.lines, "a PriorsError without a message"
        for line in e.lines:
            assert "\n" not in line
            assert line.split(":", 1)[0].endswith(".toml"), f"line does not name a file: {line!r}"
            if shown_prefix is not None:
                assert shown_prefix in line.split(":", 1)[0]
            assert "Traceback" not in line
        return None
    check_valid(ps)
    return ps


def check_valid(ps: priors.PriorSet) -> None:
    """A PriorSet the reader accepted must be usable: finite, ordered supports, JSON, a hash."""
    for name, d in ps.inputs.items():
        lo, hi = d.support()
        assert lo <= hi, name
        assert all(math.isfinite(p) for p in d.params), (name, d)
        d.describe()
    assert 1 <= ps.horizon_months
    runs.dumps(ps.resolved())
    assert len(ps.sha256()) == 64


def check_doc(doc: dict[str, Any]) -> None:
    try:
        ps = priors.from_dict(doc, file="fuzz.toml")
    except priors.PriorsError as e:
        assert e.lines
        assert all(line.startswith("fuzz.toml: ") for line in e.lines), e.lines
        return
    check_valid(ps)


def _write(text: str | bytes) -> tuple[tempfile.TemporaryDirectory[str], Path]:
    d = tempfile.TemporaryDirectory()
    p = Path(d.name) / "fuzz.toml"
    if isinstance(text, bytes):
        p.write_bytes(text)
    else:
        p.write_text(text, encoding="utf-8", errors="surrogatepass")
    return d, p


def _random_toml(doc: dict[str, Any]) -> None:
    check_doc(doc)
    d, p = _write(to_toml(doc).encode("utf-8", errors="surrogatepass"))
    with d:
        check_file(p)


def _one_bad_value(leaf: int, value: Any) -> None:
    doc = copy.deepcopy(DEFAULT_DOC)
    group, key = DEFAULT_LEAVES[leaf % len(DEFAULT_LEAVES)]
    doc[group][key] = value
    check_doc(doc)
    d, p = _write(to_toml(doc).encode("utf-8", errors="surrogatepass"))
    with d:
        check_file(p)


def _mutated_bytes(data: bytes) -> None:
    d, p = _write(data)
    with d:
        check_file(p)


def _extends_graph(edges: list[list[int]], missing: bool, depth: int) -> None:
    """Files 0..n-1 extending each other along ``edges`` (cycles allowed), plus a deep chain."""
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        n = len(edges)
        for i, targets in enumerate(edges):
            ext = [f"f{t % n}.toml" for t in targets]
            if missing and i == 0:
                ext.append("does-not-exist.toml")
            body = DEFAULT_TEXT if i == n - 1 else "[scenario]\n"
            body = body.replace("[scenario]\n", "[scenario]\nextends = " + json.dumps(ext) + "\n", 1)
            (root / f"f{i}.toml").write_text(body)
        check_file(root / "f0.toml")
        # a chain deeper than the reader allows
        for i in range(depth):
            (root / f"c{i}.toml").write_text(f'[scenario]\nextends = ["c{i + 1}.toml"]\n')
        (root / f"c{depth}.toml").write_text(DEFAULT_TEXT)
        check_file(root / "c0.toml")


bad_values = st.one_of(values(), dist_tables(), well_formed_tables(), well_formed_tables())
mutations = st.one_of(
    st.binary(max_size=400),
    st.builds(
        lambda cut, junk, keep: DEFAULT_TEXT.encode()[:cut] + junk + DEFAULT_TEXT.encode()[cut + keep :],
        st.integers(0, len(DEFAULT_TEXT)),
        st.one_of(
            st.binary(max_size=20),
            st.sampled_from([b"nan", b"inf", b"1e309", b"-", b"[", b"{", b"\xff\xfe", b"\x00", b"= 1"]),
        ),
        st.integers(0, 40),
    ),
)
graphs = st.lists(st.lists(st.integers(0, 5), max_size=3), min_size=1, max_size=5)

# --------------------------------------------------------------------------- tests (fast)


@FAST
@given(documents)
def test_random_documents(doc: dict[str, Any]) -> None:
    _random_toml(doc)


@FAST
@given(st.integers(0, 10**6), bad_values)
def test_default_with_one_hostile_value(leaf: int, value: Any) -> None:
    _one_bad_value(leaf, value)


@FAST
@given(mutations)
def test_mutated_and_binary_files(data: bytes) -> None:
    _mutated_bytes(data)


@settings(max_examples=20, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
@given(graphs, st.booleans(), st.integers(30, 40))
def test_extends_graphs(edges: list[list[int]], missing: bool, depth: int) -> None:
    _extends_graph(edges, missing, depth)


def test_known_hostile_cases(tmp_path: Path) -> None:
    """Hand-picked cases the fuzzer once found or that must keep naming file and key."""
    cases = {
        "nan.toml": "[capex]\nusd_per_gpu = nan\n",
        "huge.toml": '[capex]\nusd_per_gpu = { dist = "lognormal", median = 1e308, gsd = 1e308 }\n',
        "tiny.toml": '[capex]\nusd_per_gpu = { dist = "normal", mean = 1, sd = 5e-324 }\n',
        "nested.toml": "[capex.usd_per_gpu.deeper]\nx = 1\n",
        "unicode.toml": '["é"]\n"" = 1\n',
        "corr.toml": '[[correlation]]\nbetween = ["a", "a"]\nspearman = 2\n',
        "curve.toml": '[throughput]\ncurve = [[1, nan], ["x"]]\n',
        "garbage.toml": b"\x89PNG\r\n\x1a\n\x00\x00",
    }
    for name, text in cases.items():
        p = tmp_path / name
        p.write_bytes(text if isinstance(text, bytes) else text.encode())
        with pytest.raises(priors.PriorsError) as info:
            priors.load(p)
        assert all(line.split(":", 1)[0].endswith(name) for line in info.value.lines), info.value.lines
    with pytest.raises(priors.PriorsError, match="file not found"):
        priors.load(tmp_path / "missing.toml")


# --------------------------------------------------------------------------- slow: >= 10,000


@pytest.mark.slow
@SLOW
@given(documents)
def test_random_documents_many(doc: dict[str, Any]) -> None:
    _random_toml(doc)


@pytest.mark.slow
@SLOW
@given(st.integers(0, 10**6), bad_values)
def test_default_with_one_hostile_value_many(leaf: int, value: Any) -> None:
    _one_bad_value(leaf, value)


@pytest.mark.slow
@SLOW
@given(mutations)
def test_mutated_and_binary_files_many(data: bytes) -> None:
    _mutated_bytes(data)


@pytest.mark.slow
@settings(max_examples=2600, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
@given(graphs, st.booleans(), st.integers(30, 40))
def test_extends_graphs_many(edges: list[list[int]], missing: bool, depth: int) -> None:
    _extends_graph(edges, missing, depth)
