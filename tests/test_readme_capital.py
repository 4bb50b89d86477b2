"""The README's capital-structure compare runs as written (fewer draws), with the lender's figures."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from mcroi.cli import main

README = Path(__file__).resolve().parents[1] / "README.md"


def test_readme_capital_compare_runs_as_written(tmp_path: Path) -> None:
    cmd = re.search(r"^mcroi (compare scenarios/capital/[^\n]*)$", README.read_text(), re.M)
    assert cmd is not None, "the README's capital-structure example is gone"
    args = cmd.group(1).split()
    args[args.index("--draws") + 1] = "1500"  # the README's 20,000 draws, fewer
    out = tmp_path / "capital"
    res = CliRunner().invoke(main, [*args, "--independent-draws", "0", "--out", str(out)])
    assert res.exit_code == 0, res.output
    assert "P(min DSCR < 1.2)" in res.output and "no debt" in res.output
    summary = json.loads((out / "summary.json").read_text())
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["covenant"] == 1.2 and summary["baseline"] == "capital-ig-70"
    caps = {k: v["capital"] for k, v in summary["per_platform"].items()}
    assert caps["capital-equity"]["has_debt"] is False
    assert caps["capital-ig-70"]["has_debt"] and caps["capital-merchant-70"]["has_debt"]
    # common random numbers: the merchant structure is the all-equity project with another financing
    # (to rounding: the two scenarios compile to different programs, which may round a last bit apart)
    merchant, equity = caps["capital-merchant-70"]["returns"]["project"], caps["capital-equity"]["returns"]["project"]
    assert merchant.keys() == equity.keys()
    for k, v in equity.items():
        assert merchant[k] == pytest.approx(v, rel=1e-12, abs=1e-12), k
    assert 'id="lender"' in (out / "report.html").read_text()
