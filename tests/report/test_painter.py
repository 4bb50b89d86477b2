"""The plot helper (issue 16): a run folder's charts drawn in a second process are the same bytes,
its errors reach the caller, a dead helper costs nothing but time, and a failed run leaves nothing."""

from __future__ import annotations

import os
import pickle
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from mcroi import cli, engine, pipeline, report
from mcroi.pipeline import _sensitivity as sens
from mcroi.report import _painter

NAMES = ["price", "utilization", "capex", "power $price"]  # a "$": drawn literally, never as TeX


def _figures(draw):
    """Every kind of chart a run folder holds, each handed to ``draw(fn, *args)``."""
    rng = np.random.default_rng(3)
    npv, roi = rng.normal(5e6, 4e6, 20_000), rng.lognormal(0.2, 0.3, 20_000)
    lo, hi = np.array([-3e6, -1e6, 2e6, 1e5]), np.array([4e6, 2e6, -1e6, 3e5])
    ci = np.stack([lo - 2e5, lo + 2e5], axis=1)
    share = rng.dirichlet(np.ones(4), size=5).T
    return [
        draw(report.distribution_plot, npv, roi, Path("plots/distribution.png"), "a scenario"),
        draw(
            report.tornado,
            [Path("plots/tornado-x.png"), Path("plots/tornado-x.svg")],
            NAMES,
            lo,
            hi,
            base=0.0,
            title="t",
            subtitle="s",
            xlabel="NPV (USD)",
            low_ci=ci,
            footnote="a note",
        ),
        draw(report.heatmap, Path("plots/heatmap-x.png"), NAMES, [1, 2, 3, 4, 5], share, title="h", subtitle="s"),
    ]


def _drawn(helper: bool) -> dict[str, bytes]:
    files: dict[str, bytes] = {}
    with report.Painter(helper) as painter:
        assert painter.helper is helper
        futures = _figures(lambda fn, *a, **k: painter.submit(report.render, fn, *a, **k))
        for f in futures:
            files.update(f.result())
    return files


def test_a_chart_drawn_by_the_helper_is_the_same_file_as_one_drawn_here(tmp_path):
    here, there = _drawn(False), _drawn(True)
    assert sorted(here) == [
        "plots/distribution.png",
        "plots/heatmap-x.png",
        "plots/tornado-x.png",
        "plots/tornado-x.svg",
    ]
    assert here == there  # bytes: same style in both processes, no clock or random id in an SVG
    assert here["plots/tornado-x.png"].startswith(b"\x89PNG")
    written = report.land(there, tmp_path)
    assert sorted(p.relative_to(tmp_path).as_posix() for p in written) == sorted(here)
    assert (tmp_path / "plots" / "tornado-x.svg").read_bytes() == here["plots/tornado-x.svg"]


def test_a_style_left_behind_does_not_change_a_chart():
    """The report's figures (and a user's matplotlibrc) set a style; a chart drawn after is the same file."""
    before = _drawn(False)
    plt = report.pyplot()
    plt.rcParams.update({"font.size": 17, "axes.spines.top": False, "svg.hashsalt": None})
    try:
        assert _drawn(False) == before
    finally:
        plt.rcdefaults()
        plt.rcParams["text.parse_math"] = False


def _double(x: int) -> int:
    return 2 * x


def _fails(x: int) -> int:
    raise ValueError(f"bad figure input {x}")


DRAWN_HERE: list[int] = []


def _where(parent: int) -> str:
    """Ends the helper (a crash); in the caller's process it is a figure that works."""
    if os.getpid() != parent:
        os._exit(3)
    DRAWN_HERE.append(parent)
    return "drawn here"


def test_a_figure_error_in_the_helper_is_raised_in_the_caller():
    with pytest.raises(ValueError, match="bad figure input 7"):
        with report.Painter(True) as painter:
            assert painter.helper
            painter.submit(_fails, 7)


def test_a_job_that_cannot_travel_is_refused_at_once():
    with report.Painter(True) as painter:
        with pytest.raises((AttributeError, TypeError, pickle.PicklingError)):
            painter.submit(lambda: 1)
        assert painter.submit(_double, 7).result() == 14  # the helper goes on
        assert painter.wait() == [14]  # the refused job is not one of its figures


def test_a_dead_helper_costs_only_time_its_figures_are_drawn_here():
    with report.Painter(True) as painter:
        assert painter.helper
        painter.submit(_where, os.getpid())
        DRAWN_HERE.clear()
        assert painter.wait() == ["drawn here"]
        assert painter.wait() == ["drawn here"] and len(DRAWN_HERE) == 1  # drawn here once, not per wait
        # every later figure is drawn here at once
        assert painter.submit(_where, os.getpid()).result() == "drawn here"


def test_the_helper_can_be_turned_off(monkeypatch):
    monkeypatch.setenv("MCROI_PLOT_HELPER", "0")
    with report.Painter(True) as painter:
        assert not painter.helper
        assert painter.submit(_where, os.getpid()).result() == "drawn here"


def _folder(out: Path) -> dict[str, bytes]:
    return {p.relative_to(out).as_posix(): p.read_bytes() for p in sorted(out.rglob("*")) if p.is_file()}


def test_a_run_folder_is_the_same_with_or_without_the_helper(tmp_path):
    a, b = tmp_path / "with" / "run", tmp_path / "without" / "run"  # one name: the report shows it
    pipeline.simulate(None, draws=2000, seed=5, out=a, plot_helper=True)
    pipeline.simulate(None, draws=2000, seed=5, out=b, plot_helper=False)
    fa, fb = _folder(a), _folder(b)
    assert sorted(fa) == sorted(fb)
    assert {k for k in fa if k.startswith("plots/")} >= {
        "plots/distribution.png",
        "plots/tornado-swing.png",
        "plots/tornado-swing.svg",
        "plots/tornado-conditional.svg",
        "plots/heatmap-conditional.png",
    }
    for name in fa:
        if name.startswith("plots/"):
            assert fa[name] == fb[name], name
    stamp = re.compile(rb"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+00:00")
    assert stamp.sub(b"", fa["report.html"]) == stamp.sub(b"", fb["report.html"])
    assert fa["report.html"].count(b"<figure><svg") == fb["report.html"].count(b"<figure><svg")


def test_a_run_that_fails_while_the_helper_draws_leaves_nothing(tmp_path):
    def stop(name: str) -> None:
        if name == "writing the report":  # the charts are with the helper now
            raise RuntimeError("stopped")

    out = tmp_path / "runs" / "r"
    with pytest.raises(RuntimeError, match="stopped"):
        pipeline.simulate(None, draws=2000, seed=5, out=out, plot_helper=True, on_phase=stop)
    assert not out.exists()
    assert list((tmp_path / "runs").iterdir()) == []  # no partial folder, no chart written late


def test_the_helper_loads_its_charts_without_jax_xarray_or_scipy():
    """The helper imports only what its charts need (lazy ``mcroi`` and ``mcroi.report``): on the
    old code ``import mcroi.report._painter`` loaded JAX, xarray and SciPy, a second of CPU taken
    from the draws."""
    code = (
        "import sys; import mcroi.report._painter, mcroi.report._plots, mcroi.report._tornado; "
        "print(sorted(m for m in ('jax', 'xarray', 'scipy', 'pandas', 'mcroi.engine') if m in sys.modules))"
    )
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300, check=True)
    assert res.stdout.strip() == "[]"


def test_a_helper_started_early_is_taken_by_the_next_painter():
    _painter.start_early()
    early = _painter._EARLY[0]
    with report.Painter(True) as painter:
        assert painter._proc is early and not _painter._EARLY
        (files,) = [f.result() for f in _figures(lambda fn, *a, **k: painter.submit(report.render, fn, *a, **k))][:1]
    assert set(files) == {"plots/distribution.png"}
    assert early.wait(timeout=60) == 0  # it ended with its last job


def test_a_helper_started_early_ends_when_the_run_draws_here():
    _painter.start_early()
    early = _painter._EARLY[0]
    with report.Painter(False) as painter:
        assert not painter.helper and not _painter._EARLY
    assert early.poll() is not None  # stopped and reaped, not left running


@pytest.mark.parametrize(
    ("args", "starts"),
    [
        (["simulate"], True),
        (["simulate", "--draws", "1e6", "--out", "x"], True),
        (["simulate", "--help"], False),
        (["simulate", "--distributed", "--num-processes", "2"], False),
        (["report", "runs/x"], False),
        (["--version"], False),
        ([], False),
    ],
)
def test_only_mcroi_simulate_starts_the_helper_early(args, starts):
    assert cli.starts_chart_helper(args) is starts


def test_the_early_swing_charts_are_those_of_both_methods(tmp_path):
    """``simulate`` draws the swing's charts before the conditional means exist, from the swing
    alone: the same files as from both methods (its notes name the derived inputs it holds)."""
    ps = pipeline.load_priors(None)
    arrays = engine.run(ps, 4096, seed=2)
    swing = sens.default_swing(ps)
    both = sens.default_sensitivity(ps, arrays, swing)
    alone = sens.default_sensitivity(ps, arrays, swing, ["swing"])
    assert both is not None and alone is not None
    assert alone.names == both.names and list(alone.results) == ["swing"]
    assert [n for n in alone.notes if n.startswith("swing:")] == [n for n in both.notes if n.startswith("swing:")]
    assert any("held" in n for n in alone.notes)  # the default priors have a price path
    files = {}
    for tag, c in (("alone", alone), ("both", both)):
        ds = sens.sensitivity_dataset(c, ps.name, sens.DEFAULT_SOURCE)
        written = sens.plot(c, ds, tmp_path / tag, ps.name, methods=["swing"])
        files[tag] = {p.name: p.read_bytes() for p in written}
    assert sorted(files["alone"]) == ["heatmap-swing.png", "tornado-swing.png", "tornado-swing.svg"]
    assert files["alone"] == files["both"]
