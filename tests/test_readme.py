"""The README's examples run as written (issue 16: its priors example failed with "file not found")."""

from __future__ import annotations

import re
from pathlib import Path

from click.testing import CliRunner

from mcroi.cli import main

README = Path(__file__).resolve().parents[1] / "README.md"


def test_readme_priors_example_runs_as_written(tmp_path: Path) -> None:
    text = README.read_text()
    block = re.search(r"```toml\n(\[scenario\]\nname = \"my-cluster\".*?)```", text, re.S)
    assert block is not None, "the README's priors example is gone"
    (tmp_path / "my.toml").write_text(block.group(1))
    cmd = re.search(r"mcroi (simulate my\.toml [^\n]*)", text)
    assert cmd is not None
    args = cmd.group(1).split()
    args[args.index("--draws") + 1] = "2000"  # the README's million draws, smaller
    args[args.index("--out") + 1] = str(tmp_path / "runs" / "demo")
    args[1] = str(tmp_path / "my.toml")
    res = CliRunner().invoke(main, args)
    assert res.exit_code == 0, res.output
    assert "my-cluster: 2,000 draws" in res.output
    assert (tmp_path / "runs" / "demo" / "report.html").is_file()
