"""The report's figures as inline SVG text (matplotlib, Agg, no files, no fonts fetched).

Each function returns an ``<svg>`` element ready to paste into an HTML page: no XML prolog, no
DOCTYPE, no metadata, no fixed size (the page's CSS sizes it), and every ``id`` prefixed so that
several figures can share one document.
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

import numpy as np

from mcroi._numbers import money as money

if TYPE_CHECKING:
    from matplotlib.typing import RcKeyType

INK = "#1d2b3a"
BLUE = "#2a6f97"
BAND = "#a9cce3"
RED = "#b23a48"
GREEN = "#2e7d32"
GREY = "#7f8c8d"

_RC: dict[RcKeyType, Any] = {
    "svg.fonttype": "none",  # text stays text: selectable, small, in the page's font
    "svg.hashsalt": "mcroi",  # deterministic ids
    "font.family": "DejaVu Sans",
    "font.size": 10,
    "axes.edgecolor": "#9aa5b1",
    "axes.labelcolor": INK,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "xtick.color": "#4a5866",
    "ytick.color": "#4a5866",
    "axes.titlesize": 11,
    "axes.titleweight": "bold",
    "axes.titlelocation": "left",
}


def pyplot() -> Any:
    """matplotlib's pyplot, off screen, drawing every text literally.

    User text (scenario names, sources) reaches titles and labels: with mathtext on, ``$...$`` or
    an unknown ``\\symbol`` in a scenario name would be parsed as TeX and crash the plot.
    """
    import matplotlib

    matplotlib.use("Agg")
    matplotlib.rcParams["text.parse_math"] = False
    import matplotlib.pyplot as plt

    return plt


@contextmanager
def plain_style() -> Iterator[None]:
    """matplotlib's own default style for the figures drawn inside, whatever was set before (a report
    figure's style, the user's matplotlibrc), with text drawn literally and SVG ids that do not
    change from run to run: a run folder's charts are the same bytes in every process."""
    import matplotlib

    pyplot()
    with matplotlib.rc_context():
        matplotlib.rcdefaults()
        matplotlib.rcParams["text.parse_math"] = False
        matplotlib.rcParams["svg.hashsalt"] = "mcroi"
        yield


def _fig(figsize: tuple[float, float]) -> tuple[Any, Any]:
    plt = pyplot()
    plt.rcParams.update(_RC)
    fig, ax = plt.subplots(figsize=figsize, constrained_layout=True)
    return fig, ax


SVG_NS = "http://www.w3.org/2000/svg"
XLINK_NS = "http://www.w3.org/1999/xlink"
#: The SVG elements a chart needs; anything else (script, foreignObject, a, image, style, animation,
#: HTML such as a meta refresh) is dropped with its content.
SVG_ELEMENTS = frozenset(
    "svg g defs path use clipPath rect circle ellipse line polyline polygon text tspan title desc "
    "linearGradient radialGradient stop mask".split()
)
SVG_ATTRIBUTES = frozenset(
    "id class d x y x1 y1 x2 y2 cx cy r rx ry width height viewBox transform points fill fill-opacity "
    "fill-rule stroke stroke-width stroke-opacity stroke-linecap stroke-linejoin stroke-dasharray "
    "stroke-dashoffset stroke-miterlimit opacity clip-path clip-rule mask font-family font-size "
    "font-weight font-style text-anchor dominant-baseline offset stop-color stop-opacity "
    "gradientUnits gradientTransform clipPathUnits preserveAspectRatio version style".split()
)
#: CSS properties allowed in a ``style`` attribute: paint and type, nothing that positions a box.
SVG_STYLE = frozenset(
    "fill fill-opacity fill-rule stroke stroke-width stroke-opacity stroke-linecap stroke-linejoin "
    "stroke-dasharray stroke-dashoffset stroke-miterlimit opacity font font-family font-size "
    "font-weight font-style text-anchor dominant-baseline clip-path stop-color stop-opacity".split()
)
_URL = re.compile(r"url\(\s*([^)]*)\)")


def _local(name: str) -> str:
    return name.rsplit("}", 1)[-1]


def _namespace(name: str) -> str:
    return name[1:].split("}", 1)[0] if name.startswith("{") else ""


def _safe_value(value: str) -> bool:
    """No reference outside the document, no CSS escape hatch."""
    low = value.lower()
    if any(bad in low for bad in ("javascript:", "expression(", "@import", "<", "\\")):
        return False
    return all(u.strip().strip("'\"").startswith("#") for u in _URL.findall(value))


def _safe_style(style: str) -> str:
    keep = []
    for decl in style.split(";"):
        prop, _, value = decl.partition(":")
        if prop.strip().lower() in SVG_STYLE and value.strip() and _safe_value(value):
            keep.append(f"{prop.strip()}: {value.strip()}")
    return "; ".join(keep)


def _sanitize(el: Any, prefix: str, root: bool) -> None:
    """Keep only allowed children and attributes of ``el`` (in place), ids prefixed with ``prefix``."""
    for child in list(el):
        if (
            not isinstance(child.tag, str)
            or _namespace(child.tag) not in ("", SVG_NS)
            or _local(child.tag) not in SVG_ELEMENTS
        ):
            el.remove(child)  # comments, processing instructions and foreign or disallowed elements
            continue
        _sanitize(child, prefix, root=False)
    for name in list(el.attrib):
        value = el.attrib.pop(name)
        local = _local(name)
        if local == "href" and name in ("href", f"{{{XLINK_NS}}}href"):
            if value.startswith("#"):
                el.set(f"{{{XLINK_NS}}}href", f"#{prefix}-{value[1:]}")
            continue
        if "}" in name or local not in SVG_ATTRIBUTES or not _safe_value(value):
            continue
        if local == "style":
            value = "" if root else _safe_style(value)  # the root is a CSS box: no style may move it
            if not value:
                continue
        if root and local in ("width", "height"):
            continue  # sized by the page: the viewBox stays
        if local == "id":
            value = f"{prefix}-{value}"
        value = _URL.sub(lambda m: f"url(#{prefix}-{m.group(1).strip().strip(chr(39) + chr(34))[1:]})", value)
        el.set(name, value)


def clean_svg(text: str, prefix: str) -> str:
    """An SVG document reduced to one safe, responsive ``<svg>`` element with prefixed ids.

    The SVG is parsed and rebuilt element by element from a whitelist (:data:`SVG_ELEMENTS`,
    :data:`SVG_ATTRIBUTES`, :data:`SVG_STYLE`): no script, event handler, ``<style>`` sheet,
    foreign HTML (a meta refresh), link, image or reference outside the document survives, and
    no style can position the chart over the page. Ids (and the ``url(#..)``/``href="#.."``
    references to them) get ``prefix``. Text that is not SVG gives an empty figure.
    """
    import xml.etree.ElementTree as ET

    body = re.sub(r"<!DOCTYPE[^>\[]*(\[.*?\])?\s*>", "", text, flags=re.S | re.I)  # no entities: no expansion
    try:
        root = ET.fromstring(body)
    except ET.ParseError:
        return '<svg role="img" xmlns="http://www.w3.org/2000/svg"></svg>'
    if root.tag not in ("svg", f"{{{SVG_NS}}}svg"):
        return '<svg role="img" xmlns="http://www.w3.org/2000/svg"></svg>'
    _sanitize(root, prefix, root=True)
    ET.register_namespace("", SVG_NS)
    ET.register_namespace("xlink", XLINK_NS)
    out = ET.tostring(root, encoding="unicode")
    return out.replace("<svg ", '<svg role="img" ', 1)


def _svg(fig: Any, prefix: str) -> str:
    import matplotlib.pyplot as plt

    buf = io.StringIO()
    fig.savefig(buf, format="svg", metadata={"Date": None, "Creator": None, "Format": None, "Type": None})
    plt.close(fig)
    return clean_svg(buf.getvalue(), prefix)


def histogram(x: np.ndarray, label: str, fmt: Any, prefix: str, zero_line: bool = False, title: str = "") -> str:
    """Density histogram of ``x`` (finite values) with P10/P50/P90 marked; SVG text."""
    fig, ax = _fig((6.2, 3.4))
    x = np.asarray(x, float)
    x = x[np.isfinite(x)]
    if x.size == 0:
        ax.text(0.5, 0.5, "no finite values", ha="center", va="center", transform=ax.transAxes, color=GREY)
        ax.set_xlabel(label)
        ax.set_yticks([])
        return _svg(fig, prefix)
    lo, hi = np.quantile(x, [0.002, 0.998])
    if hi <= lo:
        lo, hi = lo - 0.5 * max(abs(lo), 1.0), hi + 0.5 * max(abs(hi), 1.0)
    dens, edges = np.histogram(x, bins=80, range=(lo, hi), density=True)
    ax.stairs(dens, edges, fill=True, color=BAND)
    ax.stairs(dens, edges, color=BLUE, lw=0.6)
    ymax = ax.get_ylim()[1]
    ax.set_ylim(0, ymax * 1.22)
    for p, v in zip((10, 50, 90), np.percentile(x, (10, 50, 90)), strict=True):
        ax.axvline(v, color=RED if p == 50 else BLUE, lw=1.6 if p == 50 else 1.1, ls="-" if p == 50 else "--")
        ax.text(v, ymax * 1.2, f" P{p}\n {fmt(v)}", va="top", ha="left", fontsize=8.5, color=RED if p == 50 else BLUE)
    if zero_line and lo < 0 < hi:
        ax.axvline(0, color=INK, lw=0.9)
    ax.set_xlabel(label)
    ax.set_yticks([])
    ax.spines["left"].set_visible(False)
    if title:
        ax.set_title(title)
    return _svg(fig, prefix)


def fan_chart(
    months: np.ndarray,
    quantiles: np.ndarray,
    capex_median: float,
    payback: tuple[float, float, float],
    prefix: str,
) -> str:
    """Cumulative cash by month: P10-P90 band, P50 line, capex at month 0, payback region.

    ``quantiles`` is (3, H + 1) USD for P10, P50, P90; ``payback`` is (P10, P50, P90) months
    (``inf`` where not reached within the horizon).
    """
    fig, ax = _fig((10.5, 4.2))
    q = np.asarray(quantiles, float) / 1e6
    h = int(months[-1])
    # summary.json stores +inf (never paid back) as null
    p10, p50, p90 = (np.inf if v is None else float(v) for v in payback)
    if np.isfinite(p10):
        right = p90 if np.isfinite(p90) else h
        ax.axvspan(p10, right, color=GREEN, alpha=0.09, lw=0)
        txt = (
            f"payback P10-P90: months {p10:.0f}-{p90:.0f}"
            if np.isfinite(p90)
            else f"payback P10: month {p10:.0f}; P90 beyond month {h}"
        )
        ax.text(
            p10 + 0.4,
            0.97,
            txt,
            transform=ax.get_xaxis_transform(),
            color=GREEN,
            fontsize=8.5,
            va="top",
            bbox={"boxstyle": "round,pad=0.2", "fc": "white", "ec": "none", "alpha": 0.85},
        )
    if np.isfinite(p50):
        ax.axvline(p50, color=GREEN, lw=1.1, ls="--")
    ax.fill_between(months, q[0], q[2], color=BAND, alpha=0.75, lw=0, label="P10-P90 of draws")
    ax.plot(months, q[0], color=BLUE, lw=0.8)
    ax.plot(months, q[2], color=BLUE, lw=0.8)
    ax.plot(months, q[1], color=INK, lw=2.0, label="P50 (median)")
    ax.axhline(0, color=INK, lw=0.8)
    ax.plot([0], [-capex_median / 1e6], "o", color=RED, ms=6, zorder=5)
    ax.annotate(
        f"capex at month 0\n(median {money(capex_median)})",
        (0, -capex_median / 1e6),
        xytext=(8, -6),
        textcoords="offset points",
        color=RED,
        fontsize=8.5,
        va="top",
        bbox={"boxstyle": "round,pad=0.2", "fc": "white", "ec": "none", "alpha": 0.85},
    )
    lo, hi = min(float(q.min()), -capex_median / 1e6), max(float(q.max()), 0.0)
    ax.set_ylim(lo - 0.14 * (hi - lo), hi + 0.06 * (hi - lo))
    ax.set_xlim(-0.5, h + 0.5)
    ax.set_xticks(np.arange(0, h + 1, 6 if h <= 72 else 12))
    ax.set_xlabel("month")
    ax.set_ylabel("cumulative cash (USD million)")
    ax.grid(alpha=0.25)
    ax.legend(loc="lower right", frameon=False, fontsize=9)
    return _svg(fig, prefix)


def payback_cdf(months: np.ndarray, p: np.ndarray, se: np.ndarray, prefix: str) -> str:
    """Probability of having paid back by month m (a step curve), with a 2-SE band."""
    fig, ax = _fig((10.5, 3.2))
    ax.fill_between(
        months, np.clip(p - 2 * se, 0, 1), np.clip(p + 2 * se, 0, 1), step="post", color=BAND, alpha=0.8, lw=0
    )
    ax.step(months, p, where="post", color=INK, lw=1.8)
    ax.axhline(0.5, color=GREY, lw=0.8, ls=":")
    h = int(months[-1])
    ax.text(h, p[-1] - 0.04, f"{p[-1]:.0%} by month {h}", va="top", ha="right", fontsize=8.5, color=INK)
    ax.set_ylim(0, 1.02)
    ax.set_xlim(0, h + 0.5)
    ax.set_xticks(np.arange(0, h + 1, 6 if h <= 72 else 12))
    ax.set_yticks([0, 0.25, 0.5, 0.75, 1.0], ["0%", "25%", "50%", "75%", "100%"])
    ax.set_xlabel("month")
    ax.set_ylabel("P(paid back by month)")
    ax.grid(alpha=0.25)
    return _svg(fig, prefix)


def forest(names: Sequence[str], p10: np.ndarray, p50: np.ndarray, p90: np.ndarray, label: str, prefix: str) -> str:
    """One row per platform: median with a P10-P90 whisker."""
    n = len(names)
    fig, ax = _fig((8.0, 0.55 * n + 1.2))
    y = np.arange(n)[::-1]
    ax.hlines(y, np.asarray(p10) / 1e6, np.asarray(p90) / 1e6, color=BLUE, lw=2.2)
    ax.plot(np.asarray(p50) / 1e6, y, "o", color=INK, ms=6)
    ax.axvline(0, color=INK, lw=0.8)
    ax.set_yticks(y, list(names))
    ax.set_xlabel(label)
    ax.grid(alpha=0.25, axis="x")
    return _svg(fig, prefix)
