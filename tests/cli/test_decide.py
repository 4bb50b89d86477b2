"""``mcroi voi``, ``stress``, ``reverse-stress`` and ``goal`` on a real compare run of two platforms
(the shipped hopper-vs-blackwell scenarios), their report section, and their one-line errors."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from mcroi import report
from mcroi.runs import open_run
from tests.helpers import ROOT, assert_one_line_error, cli, mcroi_subprocess, subprocess_env

SCENARIOS = ROOT / "priors" / "scenarios" / "hopper-vs-blackwell"
H200, GB200 = "hopper-vs-blackwell-h200", "hopper-vs-blackwell-gb200-nvl72"
DRAWS = 4000


@pytest.fixture(scope="module")
def compare_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("decide") / "run"
    res = cli(
        "compare", SCENARIOS / "h200.toml", SCENARIOS / "gb200-nvl72.toml", "--draws", DRAWS, "--seed", 7,
        "--independent-draws", 0, "--out", out,
    )  # fmt: skip
    assert res.exit_code == 0, res.output
    return out


def run_json(*args: Any) -> dict[str, Any]:
    res = cli(*args, "--json")
    assert res.exit_code == 0, res.output
    doc = json.loads(res.stdout)
    assert isinstance(doc, dict)
    return doc


@pytest.fixture(scope="module")
def decided(compare_folder: Path) -> dict[str, dict[str, Any]]:
    """Every decision command once on the compare run (each writes its file into the folder)."""
    return {
        "voi": run_json("voi", compare_folder, "--or-nothing", "--study", "utilization.steady_state:0.05"),
        "stress": run_json("stress", compare_folder, "--input", "utilization.steady_state", "--band", "0:10"),
        "reverse": run_json("reverse-stress", compare_folder, "--target", "P(npv_usd < 0) = 20%", "--boot", 20),
        "goal": run_json(
            "goal",
            compare_folder,
            "--input",
            "capex.usd_per_gpu",
            "--target",
            "P(npv_usd < 0) <= 50%",
            "--platform",
            GB200,
        ),  # fmt: skip
    }


def test_voi_chooses_between_the_platforms(decided: dict[str, dict[str, Any]], compare_folder: Path) -> None:
    doc = decided["voi"]
    assert doc["decisions"] == ["build nothing", H200, GB200]
    # the best decision without more information: the largest mean NPV, or nothing when both lose on average
    ds = open_run(compare_folder)
    means = {p: float(ds["npv_usd"].sel(platform=p).mean()) for p in (H200, GB200)}
    want = max(means, key=means.__getitem__) if max(means.values()) > 0 else "build nothing"
    assert doc["best"] == want
    ev = doc["evpi"]
    assert ev["value"] >= 0 and ev["se"] >= 0
    for row in doc["inputs"] + doc["groups"]:
        assert 0 <= row["value"] <= ev["value"] + 1e-6, row  # a decision rule never beats perfect information
    assert json.loads((compare_folder / "voi.json").read_text())["evpi"]["value"] == pytest.approx(ev["value"])
    (study,) = doc["studies"]
    util = next(r for r in doc["inputs"] if r["name"] == "utilization.steady_state")
    assert study["name"] == "utilization.steady_state" and study["error_sd"] == 0.05
    assert 0 <= study["value"] <= util["value"]
    assert (compare_folder / "voi.png").is_file()


def test_stress_holds_the_input_to_its_band(decided: dict[str, dict[str, Any]], compare_folder: Path) -> None:
    doc = decided["stress"]
    key = doc["this"]
    assert key.startswith("utilization.steady_state in its 0-10 percentile band") and H200 in key
    band = doc["bands"][key]
    assert band["draws"] == DRAWS // 10
    npv = band["outputs"]["npv_usd"]
    assert npv["band"]["p50"] < npv["all"]["p50"]  # low utilization, lower NPV
    assert {r["input"] for r in doc["every"]} >= {"utilization.steady_state", "price.usd_per_mtok_output"}
    assert (compare_folder / "stress.png").is_file()


def test_reverse_stress_meets_its_target(decided: dict[str, dict[str, Any]]) -> None:
    doc = decided["reverse"]
    assert doc["platform"] == H200
    assert doc["achieved"] == pytest.approx(0.2)
    assert 0 < doc["ess"] <= DRAWS
    price = next(r for r in doc["inputs"] if r["input"] == "price.usd_per_mtok_output")
    assert price["shift_sd"] > 0  # fewer losses than the run's 68 %: a higher price
    assert price["shift_sd_se"] > 0


def test_goal_seek_on_a_compare_platform(decided: dict[str, dict[str, Any]]) -> None:
    doc = decided["goal"]
    assert doc["platform"] == GB200 and doc["feasible"] == "at most"
    # the shipped market loses money in most draws: only a far cheaper cluster meets P(NPV < 0) <= 50 %
    assert doc["statistic"] <= 0.5 < doc["base_statistic"]
    assert doc["value"] < doc["base_value"] and doc["se_value"] > 0
    assert doc["base_statistic"] == pytest.approx(doc["stored_statistic"])


def test_the_report_renders_every_decision_section(decided: dict[str, dict[str, Any]], compare_folder: Path) -> None:
    page = report.build_html(compare_folder)
    assert 'id="decisions"' in page and 'href="#decisions"' in page
    for heading in ("Value of information", "Stress: outputs", "Reverse stress", "Goal seek"):
        assert f"<h3>{heading}" in page
    assert page.count("<svg") >= 3
    written = (compare_folder / "report.html").read_text()
    assert 'id="decisions"' in written  # the commands refreshed the run's report


@pytest.mark.parametrize(
    "args, needles",
    [
        (("stress", "{run}", "--input", "nope.input"), ("--input = nope.input", "not a varying input")),
        (("stress", "{run}", "--input", "utilization.steady_state", "--band", "5:200"), ("--band = 5:200",)),
        (("stress", "{run}", "--input", "utilization.steady_state", "--band", "ten"), ("--band = ten",)),
        (("stress", "{run}", "--platform", "tpu"), ("--platform = tpu",)),
        (("reverse-stress", "{run}", "--target", "P(npv_usd < -1e15) = 20%"), ("--target = P(npv_usd < -1e15)", "unreachable")),
        (("reverse-stress", "{run}", "--target", "npv below zero"), ("--target = npv below zero",)),
        (("goal", "{run}", "--input", "nope", "--target", "P(npv_usd < 0) <= 10%"), ("--input = nope",)),
        (("voi", "{run}", "--study", "nope.input:0.1"), ("--study = nope.input", "not a varying input")),
        (("voi", "{run}", "--study", "utilization.steady_state:-1"), ("--study = utilization.steady_state:-1",)),
        (("goal", "{run}", "--input", "capex.usd_per_gpu", "--target", "P(foo < 0) <= 10%"), ("--target = P(foo < 0)",)),
    ],
)  # fmt: skip
def test_bad_options_are_one_line_exit_2(compare_folder: Path, args: tuple[str, ...], needles: tuple[str, ...]) -> None:
    res = cli(*(str(compare_folder) if a == "{run}" else a for a in args))
    assert_one_line_error(res, *needles)


def test_unreachable_goal_in_a_real_subprocess(compare_folder: Path) -> None:
    proc = mcroi_subprocess(
        "goal", compare_folder, "--input", "capex.usd_per_gpu", "--target", "P(npv_usd < 0) <= 10%",
        "--platform", H200, env=subprocess_env(drop=("PYTEST",)), capture_output=True,
    )  # fmt: skip
    assert proc.returncode == 2, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in proc.stderr
    assert lines[0].startswith("--target = P(npv_usd < 0) <= 10%: unreachable")
