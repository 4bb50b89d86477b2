"""Regenerate the "Every default number" section of docs/priors-library.md from the library.

Run from the repository root:  PYTHONPATH=$PWD python priors/tools/doc_table.py
Each row is one input a layer file sets itself (inherited inputs are shown in the file that sets
them), the distribution as written, and its source. Platform TCO rate layers show only their rate.
"""

from __future__ import annotations

import tomllib
from pathlib import Path

from mcroi import priors

ROOT = Path(__file__).resolve().parent.parent
DOC = ROOT.parent / "docs" / "priors-library.md"
HEAD = "## Every default number"
FOLDERS = ["platforms", "curves", "workloads", "markets", "finance", "optimization"]
INTRO = """Generated from the library by `priors/tools/doc_table.py` (`input`, the distribution as written,
and its source). Platform TCO rate layers show only their rate (their other entries are zeros "included
in the rate"); a layer shows only what it sets itself.
"""


def own_keys(path: Path) -> list[str]:
    doc = tomllib.loads(path.read_text())
    return [f"{g}.{k}" for g, t in doc.items() if isinstance(t, dict) and g != "scenario" for k in t]


def fmt(x: object) -> str:
    return f"{x:g}" if isinstance(x, float | int) and not isinstance(x, bool) else str(x)


def value_text(spec: dict[str, object]) -> str:
    if set(spec) == {"value"}:
        return fmt(spec["value"])
    args = ", ".join(f"{k}={fmt(v)}" for k, v in spec.items() if k not in ("dist", "source"))
    return f"{spec.get('dist', '?')}({args})"


def rows(path: Path) -> list[str]:
    rel = path.relative_to(ROOT).as_posix()
    ps = priors.load(path, partial=True)
    mine = own_keys(path)
    out = []
    for name in [n for n in ps.inputs if n in mine]:
        if "/tco/" in rel and name != "opex.usd_per_gpu_hour":
            continue
        d = ps.inputs[name]
        out.append(f"| {rel} | `{name}` | {value_text(d.spec)} | {d.source} |")
    for name in ("finance.retire_when_unprofitable", "finance.tax_loss_carryforward"):
        if name in mine:
            raw = tomllib.loads(path.read_text())["finance"][name.split(".")[1]]
            val, src = (raw["value"], raw.get("source", "")) if isinstance(raw, dict) else (raw, "")
            out.append(f"| {rel} | `{name}` | {str(val).lower()} | {src} |")
    if "throughput.curve" in mine and ps.curve:
        knots = ", ".join(f"[{fmt(x)}, {fmt(y)}]" for x, y in ps.curve)
        out.append(f"| {rel} | `throughput.curve` | {knots} | {ps.curve_source} |")
    if "finance.horizon_months" in mine:
        out.append(f"| {rel} | `finance.horizon_months` | {ps.horizon_months} | scenario constant (see the file's header) |")
    return out


def section() -> str:
    parts = [HEAD, "", INTRO]
    for folder in FOLDERS:
        parts += [f"### {folder}/", "", "| file | input | value / distribution | source (and date) |", "|---|---|---|---|"]
        for path in sorted((ROOT / folder).rglob("*.toml")):
            parts += rows(path)
        parts.append("")
    return "\n".join(parts)


def main() -> None:
    text = DOC.read_text()
    i = text.index(HEAD)
    j = text.find("\n## ", i + len(HEAD))
    DOC.write_text(text[:i] + section().rstrip() + "\n" + ("\n" + text[j + 1 :] if j >= 0 else ""))


if __name__ == "__main__":
    main()
