"""Decision analytics in the report: value of information, stress, reverse stress, goal seek.

Drawn from the JSON files that ``mcroi voi``, ``mcroi stress``, ``mcroi reverse-stress`` and
``mcroi goal`` write into a run folder (``voi.json``, ``stress.json``, ``reverse-stress.json``,
``goal.json``); :func:`section` is None when none has been run. The chart functions return a
matplotlib figure, so the commands save the same chart as a PNG.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import numpy as np

from mcroi.report import _figures as figures
from mcroi.report._text import esc
from mcroi.runs import format_value, money, pct

#: The files the decision commands write into a run folder.
FILES = {"voi": "voi.json", "stress": "stress.json", "reverse": "reverse-stress.json", "goal": "goal.json"}
#: Inputs shown in the value-of-information chart.
TOP = 14


def _money(x: Any) -> str:
    return money(x) if isinstance(x, int | float) and math.isfinite(x) else "n/a"


def voi_figure(doc: dict[str, Any]) -> Any:
    """Bars: EVPPI of each group and of the top inputs, +-2 SE; the dashed line is the EVPI."""
    rows = [(f"[group] {g['name']}", g) for g in doc["groups"]] + [(i["name"], i) for i in doc["inputs"][:TOP]]
    rows += [(f"[study] {st['name']} +-{st['error_sd']:g}", st) for st in doc.get("studies", [])]
    rows = sorted(rows, key=lambda r: r[1]["value"])
    fig, ax = figures._fig((7.4, 0.32 * len(rows) + 1.4))
    y = np.arange(len(rows))
    v = np.array([r[1]["value"] for r in rows]) / 1e6
    se = np.array([r[1]["se"] for r in rows]) / 1e6
    colors = [
        figures.GREY if r[0].startswith("[group]") else figures.GREEN if r[0].startswith("[study]") else figures.BLUE
        for r in rows
    ]
    ax.barh(y, v, xerr=2 * np.nan_to_num(se), color=colors, ecolor=figures.INK, capsize=2, height=0.6)
    ax.axvline(
        doc["evpi"]["value"] / 1e6, color=figures.RED, ls="--", lw=1.2, label="EVPI (perfect information on all)"
    )
    ax.set_yticks(y, [r[0] for r in rows], fontsize=8)
    ax.set_xlabel("expected value of perfect information (USD million), bars +-2 SE")
    ax.set_title("What it is worth to learn each input before deciding")
    ax.legend(loc="lower right", fontsize=8, frameon=False)
    return fig


def stress_figure(doc: dict[str, Any]) -> Any:
    """Every input's low and high band: NPV P5-P95 (thin), P25-P75 (thick) and median, vs all draws."""
    rows = doc["every"]
    rows = sorted(rows, key=lambda r: abs(r["high"]["p50"] - r["low"]["p50"]))
    fig, ax = figures._fig((7.4, 0.42 * len(rows) + 1.6))
    for i, r in enumerate(rows):
        for off, key, color in ((-0.17, "low", figures.BLUE), (0.17, "high", "#d68910")):
            s = r[key]
            ax.plot([s["p5"] / 1e6, s["p95"] / 1e6], [i + off] * 2, color=color, lw=1)
            ax.plot([s["p25"] / 1e6, s["p75"] / 1e6], [i + off] * 2, color=color, lw=5, solid_capstyle="butt")
            ax.plot([s["p50"] / 1e6], [i + off], "|", color=figures.INK, ms=9)
    base = doc["all"]
    ax.axvline(base["p50"] / 1e6, color=figures.GREY, ls="--", lw=1, label="median NPV, all draws")
    ax.axvline(0, color=figures.INK, lw=0.8)
    ax.plot([], [], color=figures.BLUE, lw=5, label=f"input in its low band ({doc['low'][0]:g}-{doc['low'][1]:g} pct)")
    ax.plot([], [], color="#d68910", lw=5, label=f"input in its high band ({doc['high'][0]:g}-{doc['high'][1]:g} pct)")
    ax.set_yticks(np.arange(len(rows)), [r["input"] for r in rows], fontsize=8)
    ax.set_xlabel("NPV (USD million): P5-P95 thin, P25-P75 thick, | median")
    ax.set_title("NPV when one input is held to its low or high band")
    ax.legend(loc="lower right", fontsize=7.5, frameon=False)
    return fig


def reverse_figure(entry: dict[str, Any]) -> Any:
    """Each input's mean shift under the reverse stress, in its own SDs, +-2 SE."""
    rows = sorted(entry["inputs"], key=lambda r: abs(r["shift_sd"]))[-TOP:]
    fig, ax = figures._fig((7.4, 0.32 * len(rows) + 1.4))
    y = np.arange(len(rows))
    v = np.array([r["shift_sd"] for r in rows])
    se = np.array([r.get("shift_sd_se", math.nan) for r in rows])
    ax.barh(y, v, xerr=2 * np.nan_to_num(se), color=np.where(v < 0, "#d68910", figures.BLUE), ecolor=figures.INK,
            capsize=2, height=0.6)  # fmt: skip
    ax.axvline(0, color=figures.INK, lw=0.8)
    ax.set_yticks(y, [r["input"] for r in rows], fontsize=8)
    ax.set_xlabel("shift of the input's mean (in its standard deviations), bars +-2 SE")
    ax.set_title(f"What the stress {entry['target']} looks like in the inputs")
    return fig


def _load(run: Path, key: str) -> Any:
    p = run / FILES[key]
    if not p.is_file():
        return None
    try:
        return json.loads(p.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def _group_label(r: dict[str, Any]) -> str:
    rule = str(r.get("rule") or "")
    return f"group: {r['name']}" + (
        f" (via {rule.removeprefix('its member ')})" if rule.startswith("its member") else ""
    )


def _voi_html(doc: dict[str, Any]) -> str:
    ev = doc["evpi"]
    named = [(f"study: measure {r['name']} with error SD {r['error_sd']:g} (EVSI)", r) for r in doc.get("studies", [])]
    named += [(_group_label(r), r) for r in doc["groups"]] + [(r["name"], r) for r in doc["inputs"][:TOP]]
    rows = "".join(
        f"<tr><td>{esc(name)}</td><td class=num>{_money(r['value'])}</td><td class=num>{_money(r['se'])}</td>"
        f"<td class=num>{pct(r['value'] / ev['value']) if ev['value'] > 0 else 'n/a'}</td></tr>"
        for name, r in named
    )
    svg = figures._svg(voi_figure(doc), "fig-voi")
    return (
        f"<h3>Value of information</h3><p>Decision: <strong>{esc(doc['decision'])}</strong>; on current information "
        f"the best choice is <strong>{esc(doc['best'])}</strong>. Knowing every input exactly before committing "
        f"would be worth <strong>{_money(ev['value'])}</strong> (EVPI, &plusmn;{_money(ev['se'])} Monte Carlo SE). "
        "Learning one input (or group) exactly is worth its EVPPI below: an upper bound on what a study of it is worth. "
        "Each EVPPI is the gain of the best decision rule on that input found in the draws (a conservative estimate).</p>"
        '<table class="compact"><thead><tr><th>input or group</th><th class=num>EVPPI</th><th class=num>SE</th>'
        f"<th class=num>share of EVPI</th></tr></thead><tbody>{rows}</tbody></table>"
        f"<figure>{svg}<figcaption>{esc(doc['method'])}</figcaption></figure>"
    )


def _value(output: str, v: Any) -> str:
    """An output's value as stored in JSON: +inf is stored as null (a payback that never happens)."""
    if v is None:
        return "never" if "payback" in output else ("no debt" if "dscr" in output else "n/a")
    return format_value(output, v)


def _stress_html(doc: dict[str, Any]) -> str:
    parts = ["<h3>Stress: outputs with one input held to a band</h3>"]
    for key, b in doc.get("bands", {}).items():
        rows = "".join(
            f"<tr><td>{esc(o)}</td><td class=num>{_value(o, s['all']['p50'])}</td>"
            f"<td class=num>{_value(o, s['band']['p50'])}</td>"
            f"<td class=num>{_value(o, s['band']['p5'])} &ndash; {_value(o, s['band']['p95'])}</td></tr>"
            for o, s in b["outputs"].items()
        )
        neg = b.get("p_npv_negative")
        extra = f" P(NPV &lt; 0) {pct(neg['all'])} over all draws, {pct(neg['band'])} in the band." if neg else ""
        parts.append(
            f"<p><strong>{esc(key)}</strong>: {b['draws']:,} draws.{extra}</p>"
            '<table class="compact"><thead><tr><th>output</th><th class=num>median, all</th>'
            f"<th class=num>median, band</th><th class=num>P5 &ndash; P95, band</th></tr></thead><tbody>{rows}</tbody></table>"
        )
    if doc.get("every"):
        svg = figures._svg(stress_figure(doc), "fig-stress")
        parts.append(
            f"<figure>{svg}<figcaption>NPV over the draws in which each input lies in its lowest or highest "
            f"{doc['low'][1] - doc['low'][0]:g} % ({esc(doc.get('platform') or 'this run')}); the other inputs keep "
            "the values they took in those draws.</figcaption></figure>"
        )
    return "".join(parts)


def _reverse_html(doc: dict[str, Any]) -> str:
    parts = ["<h3>Reverse stress: what it takes</h3>"]
    for i, (key, e) in enumerate(doc.items()):
        rows = "".join(
            f"<tr><td>{esc(r['input'])}</td><td class=num>{r['shift_sd']:+.3f} &plusmn; {r.get('shift_sd_se', math.nan):.3f}</td>"
            f"<td class=num>{r['base']['p50']:.4g} &rarr; {r['stressed']['p50']:.4g}</td></tr>"
            for r in sorted(e["inputs"], key=lambda r: -abs(r["shift_sd"]))[:8]
        )
        svg = figures._svg(reverse_figure(e), f"fig-reverse{i}")
        parts.append(
            f"<p><strong>{esc(key)}</strong>: the draws reweighted as little as possible (minimum relative entropy) "
            f"to meet it. Effective sample size {e['ess']:,.0f} of {e['draws']:,}.</p>"
            '<table class="compact"><thead><tr><th>input</th><th class=num>mean shift (SDs) &plusmn; SE</th>'
            f"<th class=num>median: run &rarr; stressed</th></tr></thead><tbody>{rows}</tbody></table>"
            f"<figure>{svg}</figure>"
        )
    return "".join(parts)


def _goal_html(doc: dict[str, Any]) -> str:
    rows = "".join(
        f"<tr><td>{esc(g['target'])}</td><td>{esc(g['input'])}{' (' + esc(g['platform']) + ')' if g.get('platform') else ''}</td>"
        f"<td class=num>{esc(g['feasible'])} {g['value']:.6g} &plusmn; {g['se_value']:.2g}</td>"
        f"<td class=num>{g['base_value']:.6g}</td><td class=num>{g['base_statistic']:.4g} &rarr; {g['statistic']:.4g}</td></tr>"
        for g in doc.values()
    )
    return (
        "<h3>Goal seek</h3><p>Each answer moves one input in every draw and re-evaluates the same draws "
        "(common random numbers); &plusmn; is the Monte Carlo SE of the answer.</p>"
        '<table class="compact"><thead><tr><th>target</th><th>input</th><th class=num>answer &plusmn; SE</th>'
        f"<th class=num>run's value</th><th class=num>statistic: run &rarr; answer</th></tr></thead><tbody>{rows}</tbody></table>"
    )


def section(run: str | Path) -> str | None:
    """The report's decision-analytics section, or None when no decision command has been run."""
    run = Path(run)
    docs = {k: _load(run, k) for k in FILES}
    render = {"voi": _voi_html, "stress": _stress_html, "reverse": _reverse_html, "goal": _goal_html}
    parts = [render[k](d) for k, d in docs.items() if isinstance(d, dict) and d]
    return "".join(parts) if parts else None
