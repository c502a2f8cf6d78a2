"""Figure builders for the Inspect page: one digit read step by step, and a model's confusion matrix."""

from __future__ import annotations

import base64
import io
import re

import numpy as np
import plotly.graph_objects as go

from ui.charts import PRIMARY, bars, class_lines, digit, heatmap, style
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
    """Test accuracy of each class as bars, zoomed to the range where the classes differ."""
    fig = bars([str(c) for c in range(10)], accuracy, title, yrange=[max(0.0, min(accuracy) - 0.05), 1.0],
               height=height)
    fig.update_traces(textposition="inside", insidetextanchor="end", textangle=0, textfont=dict(size=12, color="white"),
                      texttemplate="%{y:.1%}", hovertemplate=t("class %{x}: %{y:.2%} right") + "<extra></extra>")
    fig.update_xaxes(title=t("class"))
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
