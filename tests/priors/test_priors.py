"""Priors format v1: parsing, layering and one-line errors for every kind of bad input."""

from __future__ import annotations

import json
import math
import os

import pytest

from mcroi import priors
from mcroi.priors import PriorsError
from tests.helpers import BASE, parse_one, write_priors


def test_minimal_file_loads_with_contract_defaults(tmp_path):
    ps = priors.load(write_priors(tmp_path, BASE))
    assert ps.name == "p"
    assert ps.horizon_months == 60
    assert ps.inputs["power.idle_fraction"].params == (0.3,)
    assert ps.inputs["finance.useful_life_months"].params == (60.0,)
    assert ps.inputs["price.usd_per_mtok_input"].params == (0.0,)
    # contract order
    from mcroi.priors import INPUTS

    order = [k for k in INPUTS if k in ps.inputs]
    assert ps.names == order


def test_extends_layers_later_files_override(tmp_path):
    (tmp_path / "lib").mkdir()
    write_priors(tmp_path, BASE, "lib/base.toml")
    write_priors(tmp_path, '[price]\nusd_per_mtok_output = { ci90 = [1, 3], source = "market" }\n', "lib/market.toml")
    top = write_priors(
        tmp_path,
        """
        [scenario]
        name = "mine"
        extends = ["lib/base.toml", "lib/market.toml"]
        [power]
        usd_per_kwh = 0.05
        """,
        "top.toml",
    )
    ps = priors.load(top)
    assert ps.name == "mine"
    assert ps.inputs["price.usd_per_mtok_output"].family == "lognormal"
    assert ps.inputs["price.usd_per_mtok_output"].source == "market"
    assert ps.inputs["power.usd_per_kwh"].params == (0.05,)
    assert ps.inputs["cluster.gpus"].params == (100.0,)
    assert len(ps.files) == 3


def test_hash_changes_with_any_number(tmp_path):
    a = priors.load(write_priors(tmp_path, BASE, "a.toml"))
    b = priors.load(write_priors(tmp_path, BASE.replace("0.08", "0.081"), "b.toml"))
    assert a.sha256() != b.sha256()
    assert a.sha256() == priors.load(tmp_path / "a.toml").sha256()


def test_default_scenario_is_shipped_and_valid():
    ps = priors.load(priors.default_path())
    assert ps.name == "default"
    for name, d in ps.inputs.items():
        if not d.is_constant:
            assert d.source, f"{name} has no source"


BAD = [
    # (label, replacement text appended/edited, expected key, expected words)
    ("toml syntax", BASE + "\n[price\n", "", "TOML syntax error"),
    ("unknown key", BASE.replace("pue = 1.2", "pue = 1.2\npeu = 1.3"), "power.peu", "did you mean 'power.pue'"),
    ("unknown table", BASE + "\n[pricing]\nx = 1\n", "pricing", "did you mean 'price'"),
    ("unknown family", BASE.replace("pue = 1.2", 'pue = { dist = "gama", mean = 1 }'), "power.pue", "unknown family"),
    ("missing param", BASE.replace("pue = 1.2", 'pue = { dist = "uniform", min = 1.1 }'), "power.pue", "missing max"),
    (
        "extra param",
        BASE.replace("pue = 1.2", 'pue = { dist = "uniform", min = 1.1, max = 1.3, sd = 2 }'),
        "power.pue",
        "unexpected sd",
    ),
    (
        "p5 >= p95",
        BASE.replace("usd_per_mtok_output = 2.0", 'usd_per_mtok_output = { dist = "lognormal", p5 = 3, p95 = 2 }'),
        "price.usd_per_mtok_output",
        "p5 < p95",
    ),
    (
        "sd <= 0",
        BASE.replace("discount_rate = 0.1", 'discount_rate = { dist = "normal", mean = 0.1, sd = 0 }'),
        "finance.discount_rate",
        "sd must be > 0",
    ),
    (
        "min >= max",
        BASE.replace("pue = 1.2", 'pue = { dist = "uniform", min = 1.3, max = 1.1 }'),
        "power.pue",
        "min < max",
    ),
    (
        "mode outside",
        BASE.replace("pue = 1.2", 'pue = { dist = "triangular", min = 1.1, mode = 2, max = 1.5 }'),
        "power.pue",
        "outside",
    ),
    (
        "normal price can go negative",
        BASE.replace("usd_per_mtok_output = 2.0", 'usd_per_mtok_output = { dist = "normal", mean = 2, sd = 1 }'),
        "price.usd_per_mtok_output",
        "use lognormal, or add lower = 0",
    ),
    (
        "fraction above 1",
        BASE.replace("steady_state = 0.5", "steady_state = 1.5"),
        "utilization.steady_state",
        "between 0 and 1",
    ),
    (
        "pue below 1",
        BASE.replace("pue = 1.2", 'pue = { dist = "uniform", min = 0.9, max = 1.3 }'),
        "power.pue",
        "can go below 1",
    ),
    ("missing required", BASE.replace("usd_per_kwh = 0.08", ""), "", "missing required input power.usd_per_kwh"),
    (
        "missing throughput",
        BASE.replace("output_tokens_per_s_per_gpu = 1000", ""),
        "",
        "missing required input throughput",
    ),
    (
        "gpus and budget",
        BASE.replace("usd_per_gpu = 50000", "usd_per_gpu = 50000\nbudget_usd = 5e6"),
        "capex.budget_usd",
        "not both",
    ),
    (
        "curve and tps",
        BASE.replace("output_tokens_per_s_per_gpu = 1000", "output_tokens_per_s_per_gpu = 1000\ncurve = [[10, 100]]"),
        "throughput.output_tokens_per_s_per_gpu",
        "not both",
    ),
    ("nan value", BASE.replace("pue = 1.2", "pue = nan"), "power.pue", "finite"),
    ("string value", BASE.replace("pue = 1.2", 'pue = "1.2"'), "power.pue", "number or a distribution"),
    ("bool value", BASE.replace("pue = 1.2", "pue = true"), "power.pue", "number or a distribution"),
    ("horizon not integer", BASE + "\n[finance.x]\n", "finance.x", "unknown input"),
    (
        "horizon as distribution",
        BASE.replace("discount_rate = 0.1", "discount_rate = 0.1\nhorizon_months = { ci90 = [1, 2] }"),
        "finance.horizon_months",
        "whole number",
    ),
    (
        "beta sd too large",
        BASE.replace("steady_state = 0.5", 'steady_state = { dist = "beta", mean = 0.5, sd = 0.6 }'),
        "utilization.steady_state",
        "too large",
    ),
    (
        "discrete weights mismatch",
        BASE.replace("pue = 1.2", 'pue = { dist = "discrete", values = [1.1, 1.2], weights = [1] }'),
        "power.pue",
        "one per value",
    ),
    (
        "truncation empty",
        BASE.replace("pue = 1.2", 'pue = { dist = "uniform", min = 1.1, max = 1.3, lower = 2 }'),
        "power.pue",
        "leaves no probability",
    ),
    (
        "correlation unknown input",
        BASE + '\n[[correlation]]\nbetween = ["power.pue", "power.puee"]\nspearman = 0.3\n',
        "correlation",
        "did you mean",
    ),
    (
        "correlation out of range",
        BASE + '\n[[correlation]]\nbetween = ["power.pue", "power.usd_per_kwh"]\nspearman = 1.5\n',
        "correlation",
        "strictly between -1 and 1",
    ),
]


@pytest.mark.parametrize(("label", "text", "key", "words"), BAD, ids=[b[0] for b in BAD])
def test_bad_priors_give_one_clear_line(tmp_path, label, text, key, words):
    path = write_priors(tmp_path, text)
    with pytest.raises(PriorsError) as ei:
        priors.load(path)
    lines = ei.value.lines
    assert len(lines) >= 1
    hit = [ln for ln in lines if words in ln]
    assert hit, lines
    line = hit[0]
    assert "\n" not in line
    assert line.startswith(str(path.name)) or str(path) in line or "p.toml" in line
    if key:
        assert f"{key} = " in line or f"{key}" in line, line


def test_all_problems_in_a_file_are_reported(tmp_path):
    text = (
        BASE.replace("pue = 1.2", "pue = 0.5")
        .replace("steady_state = 0.5", "steady_state = 2")
        .replace("usd_per_kwh = 0.08", "usd_per_kwh = -1")
    )
    with pytest.raises(PriorsError) as ei:
        priors.load(write_priors(tmp_path, text))
    keys = " ".join(ei.value.lines)
    for k in ("power.pue", "utilization.steady_state", "power.usd_per_kwh"):
        assert k in keys


def test_extends_cycle_and_missing_file(tmp_path):
    write_priors(tmp_path, '[scenario]\nextends = ["b.toml"]\n', "a.toml")
    write_priors(tmp_path, '[scenario]\nextends = ["a.toml"]\n', "b.toml")
    with pytest.raises(PriorsError) as ei:
        priors.load(tmp_path / "a.toml")
    assert any("extends cycle" in ln for ln in ei.value.lines)
    write_priors(tmp_path, '[scenario]\nextends = ["nope.toml"]\n' + BASE, "c.toml")
    with pytest.raises(PriorsError) as ei:
        priors.load(tmp_path / "c.toml")
    assert any("scenario.extends" in ln and "file not found" in ln for ln in ei.value.lines)


def test_missing_file_and_binary_garbage(tmp_path):
    with pytest.raises(PriorsError, match="file not found"):
        priors.load(tmp_path / "absent.toml")
    (tmp_path / "bin.toml").write_bytes(b"\x00\xff\xfe garbage")
    with pytest.raises(PriorsError, match="not UTF-8|TOML syntax"):
        priors.load(tmp_path / "bin.toml")


def test_priors_are_never_evaluated(tmp_path):
    text = BASE.replace("pue = 1.2", "pue = \"__import__('os').system('touch pwned')\"")
    with pytest.raises(PriorsError):
        priors.load(write_priors(tmp_path, text))
    assert not (tmp_path / "pwned").exists()


def test_dist_describe_and_support():
    d = parse_one({"dist": "pert", "min": 1.1, "mode": 1.2, "max": 1.58}, "power.pue")
    assert d.family == "beta" and d.describe().startswith("pert(")
    assert d.support() == (1.1, 1.58)
    n = parse_one({"dist": "normal", "mean": 0, "sd": 1, "lower": -0.5}, "finance.discount_rate")
    assert n.support() == (-0.5, math.inf)


# ------------------------------------------------------------------ root causes only (issue 16)


def _lines(tmp_path, text: str, name: str = "my.toml") -> list[str]:
    p = tmp_path / name
    p.write_text(text)
    with pytest.raises(PriorsError) as e:
        priors.load(p)
    return e.value.lines


FULL = '[scenario]\nname = "x"\nextends = ["default.toml"]\n'


def test_a_percentage_for_a_fraction_suggests_the_fraction(tmp_path):
    lines = _lines(tmp_path, FULL + "[utilization]\nsteady_state = 45\n")
    assert lines == [lines[0]] and "did you mean 0.45?" in lines[0]


def test_one_bad_override_gives_one_line_that_blames_the_override(tmp_path):
    for bad in ("{ ci90 = [6.0, 2.0] }", '{ dist = "lognormel", p5 = 1, p95 = 3 }', '{ dist = "normal", mean = 2 }'):
        lines = _lines(tmp_path, FULL + f"[price]\nusd_per_mtok_output = {bad}\n")
        assert len(lines) == 1, lines
        assert "my.toml: price.usd_per_mtok_output" in lines[0], lines


def test_broken_extends_reports_the_root_cause_alone(tmp_path):
    cyc = _lines(tmp_path, '[scenario]\nextends = ["c.toml"]\n', "c.toml")
    assert len(cyc) == 1 and "extends cycle" in cyc[0]
    missing = _lines(tmp_path, '[scenario]\nextends = ["nope.toml"]\n')
    assert len(missing) == 1 and "file not found" in missing[0] and "nope.toml" in missing[0]


def test_file_not_found_shows_the_path_it_tried(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(PriorsError) as e:
        priors.load("nothere.toml")
    assert str(tmp_path / "nothere.toml") in e.value.lines[0]


@pytest.mark.parametrize(
    ("field", "value", "needle"),
    [("name", "a\x00b", "NUL"), ("description", "d\x00", "NUL"), ("name", "x" * 20_000, "at most 10,000")],
)
def test_nul_and_huge_text_are_refused_at_parse_time(tmp_path, field, value, needle):
    """Issue 18: a NUL in the scenario name crashed netCDF at write time; a 10 MB name hung the plots."""
    text = f'[scenario]\n{field} = {json.dumps(value)}\nextends = ["default.toml"]\n'
    lines = _lines(tmp_path, text)
    assert len(lines) == 1 and needle in lines[0] and f"scenario.{field}" in lines[0]
    assert "\x00" not in lines[0]


def test_a_nul_in_a_source_is_refused(tmp_path):
    lines = _lines(tmp_path, FULL + '[price]\nannual_decline = { ci90 = [0.2, 0.6], source = "a\\u0000b" }\n')
    assert len(lines) == 1 and "NUL" in lines[0]


def test_an_extends_diamond_resolves_at_once(tmp_path):
    """Issue 18: two layers x 20 levels, each extending both of the level below, hung for minutes."""
    import time

    (tmp_path / "l0a.toml").write_text(
        '[scenario]\nextends = ["' + str(priors.default_path()) + '"]\n[price]\nannual_decline = 0.3\n'
    )
    (tmp_path / "l0b.toml").write_text('[scenario]\nextends = ["l0a.toml"]\n[price]\nannual_decline = 0.4\n')
    for i in range(1, 21):
        for side, val in (("a", 0.3), ("b", 0.4)):
            (tmp_path / f"l{i}{side}.toml").write_text(
                f'[scenario]\nextends = ["l{i - 1}a.toml", "l{i - 1}b.toml"]\n[price]\nannual_decline = {val}\n'
            )
    t = time.perf_counter()
    ps = priors.load(tmp_path / "l20b.toml")
    assert time.perf_counter() - t < 5
    assert ps.inputs["price.annual_decline"].params == (0.4,)  # the last layer wins, as before
    assert len(ps.files) == len(set(ps.files))
    assert ps.sha256() == priors.load(tmp_path / "l20b.toml").sha256()


@pytest.mark.parametrize(
    "table",
    [
        '{ dist = "beta", alpha = 1e20, beta = 1e22 }',
        '{ dist = "beta", mean = 0.5, sd = 1e-9 }',
        '{ dist = "pert", min = 0.1, mode = 0.5, max = 0.9, lambda = 1e12 }',
    ],
)
def test_extreme_beta_shapes_are_refused_with_the_bound_not_hung(tmp_path, table):
    """Issue 18: beta with alpha = 1e20, beta = 1e22 never returned from sampling."""
    import time

    t = time.perf_counter()
    lines = _lines(tmp_path, FULL + f"[utilization]\nsteady_state = {table}\n")
    assert time.perf_counter() - t < 5
    assert len(lines) == 1 and "cannot be sampled" in lines[0] and "normal" in lines[0]


# ------------------------------------------------------------------ hostile files (issue 18)


def _one_problem(tmp_path, text: str, needle: str) -> str:
    lines = _lines(tmp_path, text)
    assert any(needle in ln for ln in lines), lines
    assert all("Traceback" not in ln for ln in lines)
    return next(ln for ln in lines if needle in ln)


def test_integers_beyond_the_float_range_are_one_line(tmp_path):
    big = "9" * 400
    line = _one_problem(tmp_path, FULL + f"[cluster]\ngpus = {big}\n", "must be a finite number")
    assert "400 digits" in line and big not in line
    _one_problem(tmp_path, FULL + f"[price]\nannual_decline = {{ ci90 = [{big}, 1e999999] }}\n", "ci90")
    _one_problem(
        tmp_path,
        FULL + f'[utilization]\nsteady_state = {{ dist = "discrete", values = [0.5, 0.6], weights = [1, {big}] }}\n',
        "weights",
    )


def test_discrete_weights_summing_to_infinity_are_refused(tmp_path):
    text = FULL + '[utilization]\nsteady_state = { dist = "discrete", values = [0.4, 0.6], weights = [1e308, 1e308] }\n'
    _one_problem(tmp_path, text, "finite sum")


def test_deep_nesting_is_one_line(tmp_path):
    _one_problem(tmp_path, "x = " + "[" * 3000 + "]" * 3000 + "\n", "nested too deeply")
    _one_problem(tmp_path, "x = " + "{ a = " * 3000 + "1" + " }" * 3000 + "\n", "nested too deeply")


@pytest.mark.parametrize("target", ["/dev/zero", "FIFO", "DIR"])
def test_extends_reads_regular_files_only(tmp_path, target):
    if target == "FIFO":
        target = str(tmp_path / "pipe")
        os.mkfifo(target)
    elif target == "DIR":
        target = str(tmp_path)
    lines = _lines(tmp_path, f'[scenario]\nextends = ["{target}"]\n')
    assert len(lines) == 1 and target in lines[0]


def test_errors_never_echo_another_files_content(tmp_path):
    secret = tmp_path / "secrets.csv"
    secret.write_text("API_KEY=sk-live-12345,PASSWORD=hunter2\n1,2\n")
    text = FULL + f'[price]\nannual_decline = {{ dist = "empirical", file = "{secret}", column = "rate" }}\n'
    line = _one_problem(tmp_path, text, "no column")
    assert "sk-live" not in line and "hunter2" not in line
    toml_secret = tmp_path / "env.toml"
    toml_secret.write_text("TOKEN: abc123secret\n")
    lines = _lines(tmp_path, f'[scenario]\nextends = ["{toml_secret}"]\n')
    assert not [ln for ln in lines if "abc123secret" in ln]


def test_a_huge_csv_field_and_a_nul_in_a_data_path_are_one_line(tmp_path):
    (tmp_path / "big.csv").write_text("rate\n" + "1" * 200_000 + "\n0.5\n")
    _one_problem(
        tmp_path,
        FULL + '[price]\nannual_decline = { dist = "empirical", file = "big.csv", column = "rate" }\n',
        "big.csv",
    )
    _one_problem(
        tmp_path,
        FULL + '[price]\nannual_decline = { dist = "empirical", file = "a\\u0000b.csv", column = "rate" }\n',
        "NUL",
    )
    long = "a/" * 3000
    _one_problem(tmp_path, f'[scenario]\nextends = ["{long}"]\n', "not a usable path")


def test_a_truncation_far_in_the_tail_is_refused_not_sampled_on_the_bound(tmp_path):
    """Issue 18: a normal truncated far into its upper tail put every draw exactly on the bound."""
    line = _one_problem(
        tmp_path,
        FULL + '[price]\nannual_decline = { dist = "normal", mean = 0.1, sd = 0.01, lower = 0.5, upper = 0.9 }\n',
        "keeps",
    )
    assert "on the bound" in line
    ok = parse_one({"dist": "normal", "mean": 0.1, "sd": 0.01, "lower": 0.12, "upper": 0.9}, "price.annual_decline")
    assert ok.lower == 0.12  # 2 sd out is fine
