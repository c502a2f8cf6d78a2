"""One plotly style for the whole app (large, projector-readable) and the figure builders the pages use."""

from __future__ import annotations

import numpy as np

# pandas is imported here, fully, before any chart is drawn: plotly checks `sys.modules.get("pandas")` when it
# validates data, so while one session's thread was still importing pandas (Streamlit imports it lazily, e.g. for
# st.dataframe), another session's chart saw a half-initialised module and raised "partially initialized module
# 'pandas' has no attribute 'Series'" (seen once in `python -m bench.load --sessions 30`).
import pandas  # noqa: F401
import plotly.graph_objects as go
import plotly.io as pio

from ui.i18n import t

# Text on charts in the theme's text colour; the first colour is the theme's primary (5.1:1 behind white text, which
# the per-class bars print inside): docs/accessibility.md.
FONT = dict(family="Inter, Segoe UI, Helvetica, Arial, sans-serif", size=15, color="#0E1117")
PRIMARY = "#C4401A"
PALETTE = [PRIMARY, "#2E86AB", "#4CAF50", "#9C27B0", "#F2A541", "#17BECF", "#8C564B", "#E377C2",
           "#7F7F7F", "#BCBD22"]
# plotly_white's look, only for the trace types drawn here: plotly deep-copies the template into every figure, and
# the full one (defaults for every trace type) made a chart ~1.45x slower to build and its JSON larger (bench.charts).
_WHITE = pio.templates["plotly_white"]
LOOK = go.layout.Template(layout=_WHITE.layout,
                          data={kind: _WHITE.data[kind] for kind in ("bar", "heatmap", "scatter")})


LABEL_ROOM = 26  # px between a heading and the plot area: a dot's value printed above it reaches ~20 px out
SUBTITLED_TOP = 66 + LABEL_ROOM  # px above the plot area: the title from 8 px down, its subtitle ending by 66 px


def style(fig: go.Figure, title: str = "", height: int = 360, legend: bool = True, subtitle: str = "") -> go.Figure:
    """Apply the app's look: white background, big fonts, light grid, legend on top; a subtitle under the title.

    A title with a subtitle hangs from the top of the figure and the plot area starts LABEL_ROOM below the subtitle,
    so neither line meets what reaches out of the plot: a value printed above a dot at the top, or the y axis's
    title, which is centred on the plot's height and fits in it (share_axis writes a cut axis's title on two lines;
    tests/test_browser.py measures both languages as drawn)."""
    heading = dict(text=title, x=0.0, font=dict(size=18), subtitle=dict(text=subtitle) if subtitle else None)
    if subtitle:
        heading.update(yref="container", y=1.0, yanchor="top", pad=dict(t=8))
    fig.update_layout(title=heading if title else None, height=height,
                      font=FONT, template=LOOK, colorway=PALETTE, showlegend=legend,
                      margin=dict(l=10, r=10, t=(SUBTITLED_TOP if subtitle else 50) if title else 20, b=10),
                      legend=dict(orientation="h", yanchor="top", y=-0.28, x=0, title=None))
    return fig


CUT_FROM = 0.2  # an accuracy axis starts at 0 unless every value is above this: then it is cut, and says so


def share_axis(fig: go.Figure, ytitle: str, values, errors=None, top: float = 1.0, fmt: str = ".0%") -> go.Figure:
    """A y axis of shares (accuracies) that does not mislead: from 0 when some value is near it; cut just below the
    lowest value (minus its error) when all are high, its title then saying where it starts, so a gap of 7 points is
    never drawn as most of a bar. Cut axes go with dots, never with bars (lib's callers choose the mark)."""
    found = [v - (e or 0) for v, e in zip(values, errors or [0] * len(values)) if v is not None]
    low = min(found, default=0.0)
    if low <= CUT_FROM:
        fig.update_yaxes(title=ytitle, range=[0, top], tickformat=fmt)
        return fig
    start = max(0.0, int((low - 0.005) * 50) / 50)  # the 2-point step at least half a point below the lowest
    # two lines: on one, the vertical title outgrew a short plot and ran into the chart's title and subtitle
    return fig.update_yaxes(title=ytitle + "<br>" + t("(axis cut: starts at {low:.0%})", low=start),
                            range=[start, top], tickformat=fmt)


def lines(series: list[dict], xtitle: str, ytitle: str, title: str = "", yrange=None, percent=False,
          height: int = 340, whole_x: bool = False) -> go.Figure:
    """One line per series: each {'name', 'x', 'y', optional 'color', 'dash', 'width'}; shares (percent) on an
    honest axis (share_axis) unless `yrange` fixes it."""
    fig = go.Figure()
    for s in series:
        fig.add_trace(go.Scatter(x=s["x"], y=s["y"], name=s["name"], mode="lines+markers" if len(s["x"]) < 30
                                 else "lines", line=dict(color=s.get("color"), dash=s.get("dash"),
                                                         width=s.get("width", 3))))
    fig.update_xaxes(title=xtitle, tickformat="d" if whole_x else None, dtick=1 if whole_x else None)
    if percent and yrange is None:
        share_axis(fig, ytitle, [v for s in series for v in s["y"]], top=1.02)
    else:
        fig.update_yaxes(title=ytitle, range=yrange, tickformat=".0%" if percent else None)
    return style(fig, title, height, legend=len(series) > 1)


def dots(labels: list[str], values: list[float], ytitle: str, title: str = "", colors=None,
         errors: list[float] | None = None, height: int = 400, subtitle: str = "",
         symbols: list[str] | None = None) -> go.Figure:
    """Accuracies as dots with ± error bars on an honest axis (share_axis), each value printed beside its dot."""
    text = [f"{v:.2%}" + (f" ± {e * 100:.2f}" if errors is not None else "") for v, e in
            zip(values, errors or [0] * len(values))]
    # labels above and below in turn: neighbours a few hundredths apart would print over each other side by side
    where = ["top center" if i % 2 == 0 else "bottom center" for i in range(len(values))]
    fig = go.Figure(go.Scatter(x=labels, y=values, mode="markers+text", text=text, textposition=where,
                               marker=dict(size=16, color=colors, symbol=symbols, line=dict(width=1,
                                                                                            color="#0E1117")),
                               textfont=dict(size=14), cliponaxis=False,
                               error_y=dict(type="data", array=errors, visible=errors is not None, thickness=2)))
    share_axis(fig, ytitle, values, errors, top=1.0, fmt=".1%")
    return style(fig, title, height, legend=False, subtitle=subtitle)


def bars(labels: list[str], values: list[float], title: str = "", colors=None, percent=True,
         yrange=None, height: int = 340, digits: int = 2, errors: list[float] | None = None,
         subtitle: str = "") -> go.Figure:
    """One bar per label, its value printed on it; `errors` draws ± error bars and prints them beside the value.
    A bar's length is its value, so the axis always starts at 0 (shares near 100% are drawn with dots())."""
    if yrange is not None and yrange[0] != 0:
        raise ValueError("a bar chart's axis starts at 0; draw dots() on a cut axis instead")
    text = [f"{v:.{digits}%}" if percent else f"{v:.3g}" for v in values]
    if errors is not None:
        text = [f"{s} ± {e * 100:.{digits}f}" if percent else f"{s} ± {e:.2g}" for s, e in zip(text, errors)]
    fig = go.Figure(go.Bar(x=labels, y=values, text=text, textposition="outside", marker_color=colors,
                           textfont=dict(size=14), cliponaxis=False,
                           error_y=dict(type="data", array=errors, visible=errors is not None, thickness=2)))
    fig.update_yaxes(tickformat=".0%" if percent else None, range=yrange)
    return style(fig, title, height, legend=False, subtitle=subtitle)


def heatmap(z, x, y, title: str = "", xtitle: str = "", ytitle: str = "", colorscale="Blues", zmin=None,
            zmax=None, text_fmt: str | None = None, height: int = 380, reverse_y=True) -> go.Figure:
    """A labelled heatmap; text_fmt like '{:.0%}' writes each value in its cell."""
    z = np.asarray(z, dtype=float)
    text = [[text_fmt.format(v) for v in row] for row in z] if text_fmt else None
    fig = go.Figure(go.Heatmap(z=z, x=x, y=y, colorscale=colorscale, zmin=zmin, zmax=zmax, text=text,
                               texttemplate="%{text}" if text_fmt else None, hoverongaps=False))
    fig.update_xaxes(title=xtitle, type="category" if isinstance(x[0], str) else None)
    fig.update_yaxes(title=ytitle, autorange="reversed" if reverse_y else True,
                     type="category" if isinstance(y[0], str) else None)
    return style(fig, title, height, legend=False)


def digit(image, line: int | None = None, axis: int = 1, read: list[int] | None = None, title: str = "",
          height: int = 340) -> go.Figure:
    """A 28x28 uint8 digit; `line` is outlined (row if axis=1, column if 2), lines in `read` stay bright."""
    img = np.asarray(image, dtype=float)
    if read is not None:  # dim what the network has not read yet
        mask = np.full(28, 0.25)
        mask[read] = 1.0
        img = img * (mask[:, None] if axis == 1 else mask[None, :])
    fig = go.Figure(go.Heatmap(z=img, colorscale="gray", zmin=0, zmax=255, showscale=False,
                               hovertemplate=t("row %{y}, column %{x}: %{z:.0f}") + "<extra></extra>"))
    if line is not None:
        box = dict(x0=-0.5, x1=27.5, y0=line - 0.5, y1=line + 0.5) if axis == 1 else \
            dict(x0=line - 0.5, x1=line + 0.5, y0=-0.5, y1=27.5)
        fig.add_shape(type="rect", line=dict(color=PRIMARY, width=3), **box)
    fig.update_xaxes(visible=False, range=[-0.6, 27.6])
    fig.update_yaxes(visible=False, autorange="reversed", scaleanchor="x")
    return style(fig, title, height, legend=False)


def class_lines(probs, title: str = "", height: int = 340) -> go.Figure:
    """(28, 10) probabilities -> one line per class over the steps."""
    probs = np.asarray(probs)
    series = [{"name": str(c), "x": list(range(1, 29)), "y": probs[:, c].tolist(), "color": PALETTE[c]}
              for c in range(10)]
    return lines(series, t("rows read"), t("probability"), title, yrange=[0, 1.02], height=height)


def grouped_dots(groups: list[str], series: list[dict], ytitle: str, title: str = "",
                 height: int = 380) -> go.Figure:
    """Dots side by side in each group on an honest axis: each series {'name', 'y' (one value per group, None =
    missing), 'color', optional 'symbol', 'errors'}."""
    fig = go.Figure([go.Scatter(x=groups, y=s["y"], name=s["name"], mode="markers", offsetgroup=s["name"],
                                marker=dict(size=15, color=s.get("color"), symbol=s.get("symbol"),
                                            line=dict(width=1, color="#0E1117")),
                                error_y=dict(type="data", array=s.get("errors"), visible=bool(s.get("errors")),
                                             thickness=2),
                                hovertemplate="%{x}: %{y:.2%}<extra>" + s["name"] + "</extra>") for s in series])
    fig.update_layout(scattermode="group")
    share_axis(fig, ytitle, [v for s in series for v in s["y"]],
               [e for s in series for e in (s.get("errors") or [0] * len(s["y"]))], top=1.0, fmt=".1%")
    return style(fig, title, height, legend=True)


def log_lines(series: list[dict], xtitle: str, ytitle: str, title: str = "", height: int = 380,
              log_x: bool = True) -> go.Figure:
    """Lines with markers on log axes (x too unless log_x is False): each {'name', 'x', 'y', 'color', 'dash'};
    a None in 'y' leaves a gap (a size the device could not hold)."""
    fig = go.Figure([go.Scatter(x=s["x"], y=s["y"], name=s["name"], mode="lines+markers", connectgaps=False,
                                line=dict(color=s.get("color"), dash=s.get("dash"), width=3)) for s in series])
    fig.update_xaxes(title=xtitle, type="log" if log_x else None, tickvals=series[0]["x"] if series else None)
    fig.update_yaxes(title=ytitle, type="log")
    return style(fig, title, height, legend=True)


def scatter(points: list[dict], xtitle: str, ytitle: str, title: str = "", height: int = 400) -> go.Figure:
    """Labelled points, one trace per group: each {'group', 'x', 'y', 'label', 'color', 'symbol'}; log x."""
    fig = go.Figure()
    for group in dict.fromkeys(p["group"] for p in points):
        mine = [p for p in points if p["group"] == group]
        fig.add_trace(go.Scatter(x=[p["x"] for p in mine], y=[p["y"] for p in mine], name=group, mode="markers",
                                 text=[p["label"] for p in mine], hovertemplate="%{text}<extra></extra>",
                                 marker=dict(size=13, color=mine[0]["color"], symbol=mine[0].get("symbol"),
                                             line=dict(width=1, color="#0E1117"))))
    fig.update_xaxes(title=xtitle, type="log")
    share_axis(fig, ytitle, [p["y"] for p in points], top=1.0, fmt=".1%")
    return style(fig, title, height, legend=True)
