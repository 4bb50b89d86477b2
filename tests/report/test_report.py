"""The investment-committee report: content, escaping, fan-chart accuracy, and a real browser."""

from __future__ import annotations

import html.parser
import json
import math
import re
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

from mcroi import pipeline, priors, report
from tests import reference as ref
from tests.helpers import assert_one_line_error, cli, mcroi_subprocess, reference_doc, to_toml, write_priors

EVIL = "<script>alert(1)</script>"
DRAWS = 400


def uncertain_scenario(name: str = EVIL) -> priors.PriorSet:
    """The reference case with every economically important input uncertain (no curve)."""
    doc = reference_doc()
    doc["scenario"] = {"name": name, "description": 'a "quoted" <b>bold</b> & risky description'}
    doc["capex"]["usd_per_gpu"] = {
        "dist": "uniform",
        "min": 40000,
        "max": 60000,
        "source": "<img src=x onerror=alert(2)> vendor quote",
    }
    doc["throughput"]["output_tokens_per_s_per_gpu"] = {
        "dist": "lognormal",
        "median": 900,
        "gsd": 1.4,
        "source": "bench",
    }
    doc["utilization"] = {
        "steady_state": {"dist": "pert", "min": 0.2, "mode": 0.45, "max": 0.7},
        "ramp_months": {"dist": "uniform", "min": 0, "max": 6},
    }
    doc["price"]["usd_per_mtok_output"] = {"ci90": [2.5, 5.0]}
    doc["price"]["annual_decline"] = {"dist": "uniform", "min": 0.05, "max": 0.4}
    doc["optimization"] = {"max_gain": {"dist": "triangular", "min": 1, "mode": 1.5, "max": 3}, "half_life_months": 6}
    doc["finance"]["discount_rate"] = 0.1
    doc["finance"]["tax_rate"] = 0.21
    doc["finance"]["residual_value_pct"] = {"dist": "uniform", "min": 0, "max": 0.15}
    doc["finance"]["useful_life_months"] = {"dist": "triangular", "min": 36, "mode": 48, "max": 72}
    return priors.from_dict(doc)


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("report") / "evil-run"
    pipeline.simulate(
        uncertain_scenario(), draws=DRAWS, seed=11, out=out, command="mcroi simulate evil.toml -n 400 --seed 11"
    )
    return out


@pytest.fixture(scope="module")
def page(run_dir: Path) -> str:
    return (run_dir / "report.html").read_text()


class Collect(html.parser.HTMLParser):
    """Elements with their attributes and text, from a page (or a browser's DOM dump)."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.elements: list[tuple[str, dict[str, str | None]]] = []
        self.stack: list[tuple[str, dict[str, str | None], list[str]]] = []
        self.text_of: list[tuple[str, dict[str, str | None], str]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        self.elements.append((tag, a))
        if tag not in ("meta", "br", "img", "input", "link", "path", "use", "rect", "circle", "line"):
            self.stack.append((tag, a, []))

    def handle_endtag(self, tag: str) -> None:
        for i in range(len(self.stack) - 1, -1, -1):
            if self.stack[i][0] == tag:
                t, a, parts = self.stack[i]
                text = "".join(parts)
                self.text_of.append((t, a, text))
                del self.stack[i:]
                for _, _, outer in self.stack:
                    outer.append(text)
                return

    def handle_data(self, data: str) -> None:
        if self.stack:
            self.stack[-1][2].append(data)


def parse(text: str) -> Collect:
    c = Collect()
    c.feed(text)
    c.close()
    return c


# ----------------------------------------------------------------------------- content


def test_simulate_writes_a_report_into_the_run_folder(run_dir: Path, page: str) -> None:
    assert page.startswith("<!DOCTYPE html>")
    ids = [a.get("id") for _, a in parse(page).elements if a.get("id")]
    # committee order
    order = ["headline", "distributions", "cash", "payback", "sensitivity", "assumptions", "method"]
    assert [i for i in ids if i in order] == order
    assert "evil-run" in page and ".partial" not in page  # the final folder's name, not the temp one


def _parse_shown(text: str) -> float:
    """A shown value (``$102.3M``, ``95.7%``, ``7 mo``, ``5.52x``, ``$0.414``) as a number."""
    t = text.strip().replace(",", "")
    scale = 1.0
    if t.endswith("%"):
        return float(t[:-1]) / 100
    t = t.removesuffix(" mo").removesuffix("x")
    for suf, mult in (("B", 1e9), ("M", 1e6), ("k", 1e3)):
        if t.endswith(suf):
            t, scale = t[:-1], mult
    neg = t.startswith("-")
    t = t.lstrip("-").lstrip("$")
    return (-1 if neg else 1) * float(t) * scale


def test_headline_numbers_equal_summary_json(run_dir: Path, page: str) -> None:
    summary = json.loads((run_dir / "summary.json").read_text())
    kpis = {
        a["data-key"]: (a, text)
        for tag, a, text in parse(page).text_of
        if tag == "div" and "kpi" in (a.get("class") or "").split()
    }
    assert set(kpis) == {
        "p_npv_positive",
        "npv_usd",
        "irr_annual",
        "payback_months",
        "roi_multiple",
        "cost_per_mtok_usd",
    }
    p_neg = summary["risk"]["p_npv_negative"]
    assert float(kpis["p_npv_positive"][0]["data-value"]) == 1 - p_neg["p"]
    assert float(kpis["p_npv_positive"][0]["data-mcse"]) == p_neg["mcse"]
    # the shown text rounds the same number (0.1 percentage point)
    shown = re.search(r"([\d.]+%)", kpis["p_npv_positive"][1]).group(1)
    assert abs(_parse_shown(shown) - (1 - p_neg["p"])) <= 0.0005 + 1e-12
    # half a unit of the last shown digit
    tol = {
        "npv_usd": 0.05e6,
        "irr_annual": 0.0005,
        "payback_months": 0.5,
        "roi_multiple": 0.005,
        "cost_per_mtok_usd": 0.0005,
    }
    for key, (attrs, text) in kpis.items():
        if key == "p_npv_positive":
            continue
        row = summary["outputs"][key]
        assert float(attrs["data-value"]) == row["p50"], key
        assert float(attrs["data-mcse"]) == row["mcse_p50"], key
        value_div = [t for tag, a, t in parse(page).text_of if tag == "div" and a.get("class") == "kpi-value"]
        assert value_div  # sanity
        m = re.search(r"kpi-value\">([^<]+)<", page[page.index(f'data-key="{key}"') :])
        got = _parse_shown(m.group(1))
        scale = 1e6 if key == "npv_usd" else 1.0
        assert abs(got - row["p50"]) <= tol[key] * (1 if key != "npv_usd" else 1) + 1e-9 * scale, key
        assert f"{DRAWS - int(row['n_nan']):,} draws" in text


def test_user_strings_are_escaped(page: str) -> None:
    assert EVIL not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "<img src=x" not in page and "&lt;img src=x onerror=alert(2)&gt;" in page
    assert "<b>bold</b>" not in page
    # no script of any kind, no event handler attributes
    els = parse(page).elements
    assert not [t for t, _ in els if t in ("script", "iframe", "object", "embed", "link", "img")]
    assert not [(t, k) for t, a in els for k in a if k.startswith("on")]
    h1 = [text for tag, a, text in parse(page).text_of if tag == "h1"]
    assert h1 == [EVIL]


def test_page_is_self_contained(page: str) -> None:
    els = parse(page).elements
    csp = [a for t, a in els if t == "meta" and (a.get("http-equiv") or "").lower() == "content-security-policy"]
    assert csp and csp[0]["content"] == "default-src 'none'; style-src 'unsafe-inline'; img-src data:"
    for tag, a in els:
        for k in ("src", "href", "xlink:href", "action", "srcset"):
            v = a.get(k)
            if v is not None:
                assert v.startswith("#") or v.startswith("data:"), (tag, k, v)
    assert not re.search(r"url\(\s*['\"]?(?!#)(?!data:)", page)
    assert "@import" not in page
    assert "@media print" in page


def test_assumptions_list_every_input_with_quantiles_and_source(run_dir: Path, page: str) -> None:
    from mcroi.runs import open_run

    ds = open_run(run_dir)
    table = page[page.index('<table class="assumptions">') :]
    table = table[: table.index("</table>")]
    rows = [t for tag, a, t in parse(table).text_of if tag == "tr"][1:]
    names = [str(x) for x in ds["input"].values]
    assert len(rows) == len(names)
    for name, row in zip(names, rows, strict=True):
        assert row.startswith(name)
    cap = rows[names.index("capex.usd_per_gpu")]
    assert "uniform" in cap and "min=40000" in cap and "vendor quote" in cap
    p50 = float(np.quantile(ds["inputs"].sel(input="capex.usd_per_gpu").values, 0.5))
    assert report.fmt_num(p50) in cap
    assert "lognormal" in rows[names.index("price.usd_per_mtok_output")]


def test_method_section_reproduces_the_run(page: str) -> None:
    sec = page[page.index('id="method"') :]
    assert "mcroi simulate evil.toml -n 400 --seed 11" in sec
    for s in ("Seed", "Draws", "Precision", "float64", "Priors SHA-256", "Contract version"):
        assert s in sec


# ----------------------------------------------------------------------------- fan chart


def test_fan_chart_quantiles_agree_with_the_independent_cashflows(run_dir: Path, page: str) -> None:
    from mcroi.runs import open_run

    ds = open_run(run_dir)
    names = [str(x) for x in ds["input"].values]
    H = int(ds.attrs["horizon_months"])
    x = ds["inputs"].values
    got = report.cumulative_cash(x, names, H)
    want = np.array(
        [
            np.cumsum(
                ref.cashflows({**dict(zip(names, map(float, row), strict=True)), "finance.horizon_months": H})["cf"]
            )
            for row in x
        ]
    )
    np.testing.assert_allclose(got, want, rtol=1e-9, atol=1e-3)
    # the months end where the run's stored annual cashflows end
    np.testing.assert_allclose(
        got[:, -1], ds["annual_cashflow_usd"].values.sum(1) - ds["capex_usd"].values, rtol=1e-9, atol=1e-3
    )
    q_want = np.quantile(want, [0.1, 0.5, 0.9], axis=0)
    f = report.fan(got)
    np.testing.assert_allclose(f.quantiles, q_want, rtol=1e-9, atol=1e-3)
    # the numbers in the page's table are those quantiles
    cells = re.findall(r"data-p='(\d+)' data-value='([^']+)'", page)
    months = [int(m) for m in re.findall(r"<tr data-month='(\d+)'>", page)]
    assert months[0] == 0 and months[-1] == H
    vals = np.array([float(v) for _, v in cells]).reshape(len(months), 3).T
    np.testing.assert_allclose(vals, q_want[:, months], rtol=1e-9, atol=1e-3)
    # month 0 is the capex
    np.testing.assert_allclose(want[:, 0], -ds["capex_usd"].values, rtol=1e-12)
    assert f"first {DRAWS:,} of" in page and "standard error" in page


def test_fan_mcse_is_the_quantile_standard_error() -> None:
    # 400 independent "months" of n iid standard normal draws: the asymptotic standard error of
    # the median is sqrt(pi / 2) / sqrt(n); the stated MCSE must match it on average, and the
    # medians must actually scatter that much across months.
    rng = np.random.default_rng(0)
    n, cols = 2000, 400
    cum = rng.normal(0.0, 1.0, size=(n, cols))
    f = report.fan(cum)
    truth = math.sqrt(math.pi / 2) / math.sqrt(n)
    assert abs(f.mcse[1].mean() - truth) < 0.05 * truth
    spread = f.quantiles[1].std(ddof=1)
    assert abs(spread - truth) < 4 * truth / math.sqrt(2 * (cols - 1))  # 4 SE of a sample sd
    # P10/P90: sqrt(p (1 - p)) / (phi(z_p) sqrt(n))
    from scipy import stats

    t10 = math.sqrt(0.09) / stats.norm.pdf(stats.norm.ppf(0.1)) / math.sqrt(n)
    assert abs(f.mcse[0].mean() - t10) < 0.05 * t10 and abs(f.mcse[2].mean() - t10) < 0.05 * t10


def test_fan_uses_a_fixed_subsample(run_dir: Path) -> None:
    text = report.build_html(run_dir, fan_draws=100)
    assert 'data-fan-draws="100"' in text and f"first 100 of {DRAWS:,}" in text


def test_payback_cdf_counts_draws() -> None:
    pb = np.array([3.0, 5.0, 5.0, np.inf, 12.0])
    m, p, se = report.payback_cdf(pb, 12)
    assert m[0] == 0 and m[-1] == 12
    np.testing.assert_allclose(p[[0, 2, 3, 4, 5, 11, 12]], [0, 0, 0.2, 0.2, 0.6, 0.6, 0.8])
    np.testing.assert_allclose(se, np.sqrt(p * (1 - p) / 5))


# ----------------------------------------------------------------------------- optional sections


def test_tornado_is_embedded_when_present_and_sanitized(run_dir: Path, tmp_path: Path) -> None:
    run = tmp_path / "with-sens"
    shutil.copytree(run_dir, run)
    (run / "tornado-swing.svg").write_text(
        '<?xml version="1.0"?><!DOCTYPE svg PUBLIC "-//W3C//DTD SVG 1.1//EN" "http://www.w3.org/Graphics/SVG/1.1/DTD/svg11.dtd">'
        '<svg xmlns="http://www.w3.org/2000/svg" width="100pt" height="50pt" viewBox="0 0 100 50">'
        '<defs><clipPath id="c1"><rect width="10" height="10"/></clipPath></defs>'
        '<script>alert(3)</script><image href="https://example.com/x.png"/>'
        '<rect id="bar" clip-path="url(#c1)" onclick="alert(4)" width="40" height="10"/><text>price.usd_per_mtok_output</text></svg>'
    )
    text = report.build_html(run)
    sec = text[text.index('id="sensitivity"') : text.index('id="assumptions"')]
    assert "price.usd_per_mtok_output" in sec and "P10 to its P90" in sec
    assert "alert(3)" not in text and "onclick" not in text and "example.com" not in text
    assert 'clip-path="url(#fig-tornado0-c1)"' in sec and 'id="fig-tornado0-c1"' in sec


def test_tornado_is_embedded_and_its_absence_said_plainly(run_dir: Path, page: str, tmp_path: Path) -> None:
    import shutil

    assert "fig-tornado" in page and "No sensitivity analysis in this run folder" not in page
    bare = tmp_path / "bare"
    shutil.copytree(run_dir, bare)
    for svg in [*bare.glob("tornado-*.svg"), *(bare / "plots").glob("tornado-*.svg")]:
        svg.unlink()
    assert "No sensitivity analysis in this run folder" in report.build_html(bare)


def test_compare_runs_get_a_side_by_side_table(run_dir: Path, tmp_path: Path) -> None:
    import xarray as xr

    from mcroi.runs import open_run

    ds = open_run(run_dir)
    ds.attrs.pop("manifest", None)
    other = ds.copy(deep=True)
    other["npv_usd"] = other["npv_usd"] + 1e7  # platform B beats A on every draw
    both = xr.concat(
        [ds, other],
        dim=xr.DataArray(["A<i>", "B"], dims="platform", name="platform"),
        coords="minimal",
        compat="override",
    )
    run = tmp_path / "cmp"
    run.mkdir()
    both.to_netcdf(run / "results.nc", engine="h5netcdf")
    shutil.copy(run_dir / "manifest.json", run / "manifest.json")
    text = report.build_html(run)
    sec = text[text.index('id="compare"') : text.index('id="distributions"')]
    assert "A&lt;i&gt;" in sec and "<i>" not in sec and "baseline" in sec
    rows = re.findall(r"<tr><th scope=row>(.*?)</tr>", sec)
    assert rows[1].endswith("<td class=num>100.0%</td>")  # P(B beats A)
    assert "<svg" in sec


# ----------------------------------------------------------------------------- CLI


def test_cli_report_writes_the_file(run_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "r.html"
    res = cli("report", run_dir, "--out", out)
    assert res.exit_code == 0, res.output
    assert out.read_text().count("<section") == 8  # with "Compared with renting the GPU"


@pytest.mark.parametrize("bad", ["missing-folder", "empty-folder"])
def test_cli_report_bad_run_is_one_line_exit_2(tmp_path: Path, bad: str) -> None:
    run = tmp_path / bad
    if bad == "empty-folder":
        run.mkdir()
    assert_one_line_error(cli("report", run), str(run))


def test_cli_report_in_a_subprocess(run_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "sub.html"
    p = mcroi_subprocess("report", run_dir, "-o", out, timeout=300)
    assert p.returncode == 0, p.stderr
    assert out.exists() and "report written to" in p.stdout


def test_clean_svg_prefixes_ids_and_drops_outside_references() -> None:
    s = report.clean_svg(
        '<svg xmlns:xlink="http://www.w3.org/1999/xlink" width="10" height="5"><metadata>x</metadata>'
        '<path id="m1"/><use xlink:href="#m1"/><use xlink:href="http://x/y#z"/><g style="fill:url(http://x)"/></svg>',
        "f",
    )
    assert 'id="f-m1"' in s and 'xlink:href="#f-m1"' in s
    assert "http://x" not in s and "<metadata" not in s and 'width="10"' not in s


# ----------------------------------------------------------------------------- a real browser

BROWSERS = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable", "chrome")


def _browser() -> str:
    for b in BROWSERS:
        path = shutil.which(b)
        if path:
            return path
    pytest.skip(f"no Chromium binary on PATH (looked for {', '.join(BROWSERS)}); .ci/run installs Debian's chromium")


def _chromium(page: Path, tmp: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    profile = tmp / f"profile-{len(list(tmp.glob('profile-*')))}"
    cmd = [
        _browser(),
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        f"--user-data-dir={profile}",
        "--no-first-run",
        "--disable-extensions",
        "--disable-background-networking",
        "--disable-component-update",
        "--enable-logging=stderr",
        "--v=0",
        *extra,
        page.resolve().as_uri(),
    ]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=180)


def _console(stderr: str) -> list[str]:
    return [ln for ln in stderr.splitlines() if ":CONSOLE" in ln]


def test_browser_console_detector_sees_errors_and_blocked_requests(tmp_path: Path) -> None:
    # positive controls: the check below would notice a console error or a blocked request
    bad = tmp_path / "bad.html"
    bad.write_text(
        f'<!DOCTYPE html><html><head><meta http-equiv="Content-Security-Policy" content="{report.CSP}"></head>'
        '<body><img src="http://127.0.0.1:9/x.png"></body></html>'
    )
    p = _chromium(bad, tmp_path, "--dump-dom")
    assert any("127.0.0.1:9" in ln for ln in _console(p.stderr)), p.stderr[-2000:]
    noisy = tmp_path / "noisy.html"
    noisy.write_text('<!DOCTYPE html><html><body><script>console.error("boom-42")</script></body></html>')
    p = _chromium(noisy, tmp_path, "--dump-dom")
    assert any("boom-42" in ln for ln in _console(p.stderr)), p.stderr[-2000:]


def test_report_in_headless_chromium(run_dir: Path, tmp_path: Path) -> None:
    page = run_dir / "report.html"
    p = _chromium(page, tmp_path, "--dump-dom")
    assert p.returncode == 0, p.stderr[-2000:]
    assert _console(p.stderr) == [], _console(p.stderr)
    dom = parse(p.stdout)
    # the browser built the page: the escaped name is text, no script element exists
    assert [t for tag, _, t in dom.text_of if tag == "h1"] == [EVIL]
    assert not [t for t, _ in dom.elements if t == "script"]
    summary = json.loads((run_dir / "summary.json").read_text())
    kpi = {a["data-key"]: float(a["data-value"]) for t, a in dom.elements if a.get("data-key")}
    assert kpi["npv_usd"] == summary["outputs"]["npv_usd"]["p50"]
    assert kpi["p_npv_positive"] == 1 - summary["risk"]["p_npv_negative"]["p"]
    assert sum(1 for t, _ in dom.elements if t == "svg") >= 4
    # a screenshot, and it is not blank
    shot = tmp_path / "report.png"
    p = _chromium(page, tmp_path, "--hide-scrollbars", "--window-size=1280,2400", f"--screenshot={shot}")
    assert p.returncode == 0 and shot.exists(), p.stderr[-2000:]
    assert _console(p.stderr) == []
    import matplotlib.image as mpimg

    img = mpimg.imread(shot)
    assert img.shape[0] == 2400 and img.shape[1] == 1280
    assert float(img[..., :3].std()) > 0.05  # text and figures, not an empty page


@pytest.mark.parametrize("case", ["constant", "rent"])
def test_degenerate_runs_still_report(tmp_path: Path, case: str) -> None:
    # every draw identical (zero-width histograms), or no capex (ROI undefined, capex 0)
    doc = reference_doc(capex={"usd_per_gpu": 0}, opex={"usd_per_gpu_hour": 1.0}) if case == "rent" else reference_doc()
    out = tmp_path / case
    pipeline.simulate(priors.from_dict(doc), draws=20, seed=0, out=out)
    text = (out / "report.html").read_text()
    assert text.count("<section") == 8 and "<svg" in text
    if case == "constant":
        assert "20 mo" in text  # the contract's reference payback month
    else:
        assert "no finite values" in text  # the ROI histogram


def test_a_losing_project_reads_never_and_a_red_card(tmp_path: Path) -> None:
    """Issue 16: median payback of a project that never pays back is "never" (not n/a), its MC error a
    dash, the P(NPV > 0) card is not green at a low probability, and no error prints as +/-$0.000."""
    doc = reference_doc(price={"usd_per_mtok_output": {"dist": "uniform", "min": 0.05, "max": 0.6, "source": "test"}})
    out = tmp_path / "losing"
    pipeline.simulate(priors.from_dict(doc), draws=400, seed=0, out=out)
    text = (out / "report.html").read_text()
    dom = parse(text)
    cards = {a["data-key"]: a for t, a in dom.elements if a.get("data-key")}
    assert "kpi-bad" in (cards["p_npv_positive"].get("class") or "")
    payback = re.search(r'data-key="payback_months".*?</div></div>', text, re.S)
    assert payback is not None
    block = payback.group(0)
    assert ">never<" in block and "n/a" not in block and "&mdash;" in block
    assert "&plusmn;$0.000" not in text and "&plusmn;0.00x" not in text


def test_report_shows_the_tornados_mcroi_sensitivity_wrote(tmp_path: Path) -> None:
    """Issue 16: `mcroi sensitivity RUN` wrote RUN/sensitivity-npv_usd/, and the report never showed it."""
    doc = reference_doc(
        price={"usd_per_mtok_output": {"dist": "uniform", "min": 1.0, "max": 3.0, "source": "test"}},
        utilization={"steady_state": {"dist": "uniform", "min": 0.3, "max": 0.6, "source": "test"}},
    )
    src = write_priors(tmp_path, '[scenario]\nname = "sens"\n' + to_toml(doc), "s.toml")
    run = tmp_path / "run"
    assert cli("simulate", src, "-n", 2000, "-o", run, "-q").exit_code == 0
    res = cli("sensitivity", run, "--method", "rank", "--bootstrap", 20)
    assert res.exit_code == 0, res.output
    assert (run / "sensitivity-npv_usd" / "tornado-rank.svg").is_file()
    text = (run / "report.html").read_text()
    assert "rank (npv_usd, from mcroi sensitivity)" in text


@pytest.mark.parametrize(
    "name", ["$x^2$ cluster", r"$\frac{a}$", r"$\unknownsymbol$ z", "$" + "{" * 60 + "}" * 60 + "$", "≈ 5 ¥ ☃ $5M"]
)
def test_names_are_drawn_literally_in_every_plot(tmp_path: Path, name: str) -> None:
    """Issue 18: names with $...$, \\frac, an unknown \\symbol or deep braces crashed the plots (mathtext)."""
    doc = reference_doc(price={"usd_per_mtok_output": {"dist": "uniform", "min": 1.0, "max": 3.0, "source": name}})
    src = write_priors(tmp_path, "[scenario]\nname = " + json.dumps(name) + "\n" + to_toml(doc), "n.toml")
    out = tmp_path / "run"
    res = cli("simulate", src, "-n", 300, "-o", out, "-q")
    assert res.exit_code == 0, res.output
    assert (out / "plots" / "distribution.png").is_file() and (out / "report.html").is_file()
    assert any(p.name.startswith("tornado-") for p in (out / "plots").iterdir())


def test_a_planted_svg_cannot_redirect_or_cover_the_page() -> None:
    """Issue 18: a tornado SVG planted in a run folder passed the regex sanitiser: a meta refresh sent
    the page to another site and a full-page overlay replaced the numbers."""
    planted = (
        '<svg xmlns="http://www.w3.org/2000/svg" style="position:fixed;top:0;left:0;width:100vw;height:100vh;z-index:9">'
        '<foreignObject><meta xmlns="http://www.w3.org/1999/xhtml" http-equiv="refresh" content="0;url=http://evil.example"/>'
        "</foreignObject>"
        '<style>body{display:none}</style><script>alert(1)</script><a href="http://evil.example"><rect width="9"/></a>'
        '<rect width="10" height="10" style="fill:red;position:fixed" onload="alert(1)"/>'
        '<image href="http://evil.example/x.png"/><set attributeName="href" to="javascript:alert(1)"/></svg>'
    )
    s = report.clean_svg(planted, "t")
    for bad in (
        "position",
        "refresh",
        "meta",
        "foreignObject",
        "<style",
        "display:none",
        "script",
        "evil",
        "onload",
        "<image",
        "<set",
        "<a ",
    ):
        assert bad not in s, (bad, s)
    assert "fill: red" in s and "<rect" in s  # the drawing itself stays
    assert report.clean_svg("<html><body>not svg</body></html>", "t").startswith("<svg")
