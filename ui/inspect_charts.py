"""Figure builders for the Inspect page: one digit read step by step (or all at once: its class probabilities, a
Transformer's attention, a CNN's feature maps), and a model's confusion matrix."""

from __future__ import annotations

import base64
import io
import math
import re

import numpy as np
import plotly.graph_objects as go

from ui.charts import PALETTE, PRIMARY, bars, class_lines, digit, dots, heatmap, style
from ui.i18n import t, tc

STEPS = list(range(1, 29))  # step numbers 1..28 on the y axes
MARK = PRIMARY  # the current step's outline, as on the digit


def reading(image, lines: list[int], axis: int, step: int, title: str = "", height: int = 360) -> go.Figure:
    """The digit with the line read at `step` outlined and the lines not read yet dimmed."""
    return digit(image, line=lines[step - 1], axis=axis, read=lines[:step], title=title, height=height)


def _mark_step(fig: go.Figure, step: int) -> go.Figure:
    """Outline row `step` of a steps-on-y heatmap."""
    fig.add_shape(type="rect", xref="x domain", x0=0, x1=1, y0=step - 0.5, y1=step + 0.5,
                  line=dict(color=MARK, width=3))
    return fig


def step_probs(probs, step: int, title: str = "", height: int = 520) -> go.Figure:
    """(28, 10) probabilities as a steps x classes heatmap with the current step outlined."""
    fig = heatmap(np.asarray(probs), [str(c) for c in range(10)], STEPS, title, xtitle=t("class"),
                  ytitle=t("step (lines read)"), colorscale="Blues", zmin=0, zmax=1, height=height)
    fig.update_traces(hovertemplate=t("after step %{y}: class %{x} has %{z:.1%}") + "<extra></extra>")
    fig.update_yaxes(dtick=1)
    return _mark_step(fig, step)


def prob_lines(probs, step: int, title: str = "", height: int = 380) -> go.Figure:
    """One line per class over the steps, with a vertical marker at the current step."""
    fig = class_lines(probs, title, height=height)
    fig.update_xaxes(title=t("lines read"))
    fig.update_yaxes(title=t("probability"))
    fig.add_vline(x=step, line=dict(color=MARK, width=2, dash="dot"))
    fig.update_layout(legend=dict(orientation="v", x=1.01, y=1, yanchor="top", title=t("class")))  # clear of the title
    return fig


def states(values, step: int, title: str = "", zmin=None, zmax=None, colorscale="RdBu",
           height: int = 420, scale: bool = True) -> go.Figure:
    """(28, H) values per step and unit (hidden state or a gate) with the current step outlined; scale: colour bar."""
    values = np.asarray(values)
    fig = heatmap(values, list(range(values.shape[1])), STEPS, title, xtitle=t("unit"), ytitle=tc("time", "step"),
                  colorscale=colorscale, zmin=zmin, zmax=zmax, height=height)
    fig.update_traces(hovertemplate=t("step %{y}, unit %{x}: %{z:.2f}") + "<extra></extra>", showscale=scale)
    return _mark_step(fig, step)


def arranged(image, lines: list[int], axis: int, title: str = "", height: int = 360) -> go.Figure:
    """(28, 28) uint8 lines as a model that takes them all at once receives them; the y axis names each line's
    original row (or column), counted from 1."""
    fig = digit(image, title=title, height=height)
    line, pixel = np.mgrid[1:29, 1:29]  # counted from 1, as in the captions
    where = np.stack([line, np.asarray(lines)[line - 1] + 1, pixel], -1)  # (28, 28, 3): line, original line, pixel
    tokens = dict(k="%{customdata[0]}", o="%{customdata[1]}", p="%{customdata[2]}", v="%{z:.0f}")  # plotly's
    hover = (t("line {k} (original row {o}), pixel {p}: {v}", **tokens) if axis == 1 else
             t("line {k} (original column {o}), pixel {p}: {v}", **tokens))
    fig.update_traces(customdata=where, hovertemplate=hover + "<extra></extra>")
    ticks = list(range(0, 28, 3))
    fig.update_yaxes(visible=True, showgrid=False, zeroline=False, tickvals=ticks,
                     ticktext=[str(lines[k] + 1) for k in ticks],
                     title=t("original row") if axis == 1 else t("original column"))
    return fig


def class_probs(probs, title: str = "", height: int = 340) -> go.Figure:
    """(10,) probabilities as bars, the top class in the primary colour."""
    probs = [float(p) for p in probs]
    top = int(np.argmax(probs))
    fig = bars([str(c) for c in range(10)], probs, title, colors=[PRIMARY if c == top else PALETTE[1]
                                                                   for c in range(10)],
               yrange=[0, 1.1], height=height, digits=1)
    fig.update_traces(hovertemplate=t("class %{x}: %{y:.1%}") + "<extra></extra>")
    fig.update_xaxes(title=t("class"))
    fig.update_yaxes(title=t("probability"))
    return fig


def attention(weights, lines: list[int], axis: int, title: str = "", height: int | None = None) -> go.Figure:
    """(L, 28) attention of the class token to each input line, per layer; columns in input order, each labelled
    with the line's original row (or column) number."""
    weights = np.asarray(weights)
    layers = [t("layer {n}", n=k + 1) for k in range(len(weights))]
    fig = heatmap(weights, [str(k + 1) for k in lines], layers, title,
                  xtitle=t("original row, in the order the model receives the lines") if axis == 1 else
                  t("original column, in the order the model receives the lines"),
                  colorscale="Blues", zmin=0, zmax=max(float(weights.max()), 1e-6),  # plotly needs both ends
                  height=height or 200 + 60 * len(weights))
    hover = t("%{y}, row %{x}: %{z:.1%}") if axis == 1 else t("%{y}, column %{x}: %{z:.1%}")
    fig.update_traces(hovertemplate=hover + "<extra></extra>", colorbar=dict(tickformat=".0%"))
    fig.update_xaxes(tickangle=0, tickfont=dict(size=11))
    return fig


def feature_grid(maps, most: int = 25, title: str = "", gap: int = 6, height: int = 520) -> go.Figure:
    """(C, 28, 28) feature maps, the first `most`, tiled into one square-ish heatmap with each map's filter number
    above it (one trace: far lighter than a subplot per map)."""
    maps = np.asarray(maps, dtype=float)[:most]
    n, (h, w) = len(maps), maps.shape[1:]
    cols = math.ceil(math.sqrt(n))
    rows = math.ceil(n / cols)
    z = np.full((rows * (h + gap), cols * (w + gap)), np.nan)
    info = np.zeros(z.shape + (3,), dtype=int)  # filter, line, pixel (from 1) under the mouse
    labels = []
    for k, fmap in enumerate(maps):
        top, left = (k // cols) * (h + gap) + gap, (k % cols) * (w + gap)
        z[top:top + h, left:left + w] = fmap
        info[top:top + h, left:left + w] = np.stack(np.broadcast_arrays(k + 1, np.arange(1, h + 1)[:, None],
                                                                        np.arange(1, w + 1)[None, :]), -1)
        labels.append(dict(x=left + w / 2, y=top - gap / 2, text=str(k + 1), showarrow=False,
                           font=dict(size=12)))
    high = float(np.nanmax(z)) if n and np.nanmax(z) > 0 else 1.0
    fig = go.Figure(go.Heatmap(z=z, customdata=info, colorscale="Viridis", zmin=0, zmax=high, hoverongaps=False,
                               hovertemplate=t("filter {f}, line {k}, pixel {p}: {v}", f="%{customdata[0]}",
                                               k="%{customdata[1]}", p="%{customdata[2]}", v="%{z:.2f}")
                               + "<extra></extra>"))
    fig.update_layout(annotations=labels)
    fig.update_xaxes(visible=False)
    fig.update_yaxes(visible=False, autorange="reversed", scaleanchor="x")
    return style(fig, title, height, legend=False)


def confusion(counts, title: str = "", height: int = 520) -> go.Figure:
    """10 x 10 counts (true rows, predicted columns); colour on a log scale so rare mistakes still show."""
    counts = np.asarray(counts, dtype=float)
    labels = [str(c) for c in range(10)]
    fig = go.Figure(go.Heatmap(z=np.log10(1 + counts), x=labels, y=labels, text=counts.astype(int),
                               texttemplate="%{text}", colorscale="Blues", showscale=False,
                               hovertemplate=t("true %{y}, predicted %{x}: %{text} digits") + "<extra></extra>"))
    fig.update_xaxes(title=t("predicted class"), type="category")
    fig.update_yaxes(title=t("true class"), type="category", autorange="reversed")
    return style(fig, title, height, legend=False)


def class_accuracy(accuracy: list[float], title: str = "", height: int = 520) -> go.Figure:
    """Test accuracy of each class as dots on an honest axis (cut, and saying so, when every class is high)."""
    fig = dots([str(c) for c in range(10)], accuracy, t("test accuracy"), title, height=height)
    fig.update_traces(texttemplate="%{y:.1%}", hovertemplate=t("class %{x}: %{y:.2%} right") + "<extra></extra>",
                      marker_color=PRIMARY)
    fig.update_xaxes(title=t("class"), type="category")
    return fig


def enlarge(image, factor: int = 3) -> np.ndarray:
    """(28, 28) uint8 -> (28*factor, 28*factor) with crisp square pixels."""
    img = np.asarray(image, dtype=np.uint8)
    return img.repeat(factor, axis=0).repeat(factor, axis=1)


def digit_markdown(image, alt: str, factor: int = 3) -> str:
    """A digit as a Markdown image with a text alternative (`![alt](data:…)`, for st.markdown): st.image has none
    (its alt is the image's index, "0", which a screen reader reads as a digit). Pixels enlarged `factor` times."""
    from PIL import Image  # Pillow comes with Streamlit

    buffer = io.BytesIO()
    Image.fromarray(enlarge(image, factor)).save(buffer, format="PNG")
    alt = re.sub(r"[\[\]\\]", " ", alt)  # nothing that would end the Markdown alt text early
    return f"![{alt}](data:image/png;base64,{base64.b64encode(buffer.getvalue()).decode()})"
