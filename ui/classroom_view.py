"""The class view, live: students joined and runs done, the experiment's chart (the varied setting against test
accuracy and time, one point per run, median and interval per value), the class's curves overlaid, the row orders
pooled, the captions lib computed, and the students' own runs apart. Drawn from ClassStore.view() (plain data)."""

from __future__ import annotations

import plotly.graph_objects as go
import streamlit as st

from lib.classroom.experiment import value_label
from lib.classroom.recorder import UNREACHABLE
from lib.messages import Problem
from lib.training.limits import SETTINGS
from ui import charts, classroom
from ui.i18n import t, tr, tr_all

LIVE_S = 3.0  # the view redraws itself this often: new runs appear without a reload
PROJECTOR_CSS = """<style>
[data-testid="stMain"] p, [data-testid="stMain"] li, [data-testid="stMain"] label { font-size: 1.45rem; }
[data-testid="stMain"] [data-testid="stMetricValue"] { font-size: 3.2rem; }
[data-testid="stMain"] h1 { font-size: 3.4rem; } [data-testid="stMain"] h2 { font-size: 2.6rem; }
</style>"""


def setting_name(setting: str) -> str:
    """A setting's name as its declaration gives it ("the learning rate"), translated."""
    return t(SETTINGS[setting].label)


def value_text(setting: str, value) -> str:
    return t(str(value_label(setting, value)))


def _x(fig: dict, value):
    """Where a value sits on the chart's x axis: the number itself, or its name for a choice."""
    return value if isinstance(value, (int, float)) and not isinstance(value, bool) else value_text(fig["setting"],
                                                                                                      value)


def experiment_chart(fig: dict, y: str, big: bool) -> go.Figure:
    """One point per run (its 95% interval as an error bar when y is accuracy); per value with several runs its
    median (a diamond) and the 95% interval of its mean."""
    setting, figure = fig["setting"], go.Figure()
    points = fig["points"]
    accuracy = y == "acc"
    figure.add_trace(go.Scatter(
        x=[_x(fig, p["value"]) for p in points], y=[p[y if accuracy else "seconds"] for p in points],
        mode="markers", name=t("one student's run"), marker=dict(size=14 if big else 10, color=charts.PALETTE[1]),
        error_y=dict(type="data", symmetric=False, array=[p["high"] - p["acc"] for p in points],
                     arrayminus=[p["acc"] - p["low"] for p in points], thickness=1) if accuracy else None,
        text=[t("student {n}", n=p["number"]) for p in points], hovertemplate="%{text}: %{y}<extra></extra>"))
    several = [g for g in fig["per_value"] if g["runs"] > 1]
    if several and accuracy:
        figure.add_trace(go.Scatter(
            x=[_x(fig, g["value"]) for g in several], y=[g["median"] for g in several], mode="markers",
            name=t("median of the runs; bar: 95% interval of their mean"),
            marker=dict(symbol="diamond", size=20 if big else 15, color=charts.PRIMARY),
            error_y=dict(type="data", symmetric=False, array=[g["high"] - g["median"] for g in several],
                         arrayminus=[g["median"] - g["low"] for g in several], thickness=3)))
    figure.update_xaxes(title=setting_name(setting), type="log" if fig["log_x"] else None)
    figure.update_yaxes(title=t("test accuracy") if accuracy else t("training time (s)"),
                        tickformat=".1%" if accuracy else None)
    title = t("Test accuracy by {setting}", setting=setting_name(setting)) if accuracy else \
        t("Training time by {setting}", setting=setting_name(setting))
    styled = charts.style(figure, title, height=560 if big else 420)
    return styled.update_layout(font=dict(size=22)) if big else styled


def curves_chart(fig: dict, big: bool) -> go.Figure:
    """The class's training-loss curves overlaid, coloured by value, against the share of training done."""
    values = list(dict.fromkeys(str(c["value"]) for c in fig["curves"]))
    series = [{"name": f"{t('student {n}', n=c['number'])} · {value_text(fig['setting'], c['value'])}",
               "x": c["progress"], "y": c["loss"], "width": 2,
               "color": charts.PALETTE[values.index(str(c["value"])) % len(charts.PALETTE)]} for c in fig["curves"]]
    figure = charts.lines(series, t("share of training done"), t("training loss"), t("The class's curves"),
                          height=520 if big else 380)
    return figure.update_layout(font=dict(size=20)) if big else figure


def draw(view: dict, key: str, big: bool) -> None:
    """The whole view of one class (data from ClassStore.view)."""
    info, fig = view["class"], view["figures"]
    cols = st.columns(3)
    cols[0].metric(t("Students joined"), info["students"])
    cols[1].metric(t("Class runs in the figures"), len(fig["points"]))
    cols[2].metric(t("Own runs (shown apart)"), len(fig["free"]))
    if not info["open"]:
        st.caption(t("This class is closed."))
    for caption in fig["captions"]:
        st.markdown(tr(caption))
    if fig["setting"] and fig["points"]:
        left, right = st.columns([3, 2])
        left.plotly_chart(experiment_chart(fig, "acc", big), key=f"{key}_acc", width="stretch")
        right.plotly_chart(experiment_chart(fig, "seconds", big), key=f"{key}_time", width="stretch")
        st.plotly_chart(curves_chart(fig, big), key=f"{key}_curves", width="stretch")
        st.caption(table_text(fig))
    if view["unreadable"]:
        st.warning(t("{n} stored records could not be read and are left out.", n=view["unreadable"]))
    if fig["free"]:
        st.subheader(t("The students' own runs (not pooled)"))
        st.dataframe([{t("student"): r["number"], t("test accuracy"): f"{r['test_acc']:.2%}"
                       if r["test_acc"] is not None else "—", t("how it ended"): outcome_text(r["outcome"]),
                       **{setting_name(k): r["config"][k] for k in ("family", "hidden", "layers", "lr", "order")}}
                      for r in fig["free"]], hide_index=True, key=f"{key}_free")


def outcome_text(outcome: str) -> str:
    return {"done": t("done"), "not_learning": t("not learning"), "stopped": t("stopped"),
            "diverged": t("diverged"), "error": t("failed")}[outcome]


def table_text(fig: dict) -> str:
    """The charts' text alternative: per value, its runs, median and interval."""
    return t("; ").join(t("{value}: {n} runs, median {median:.2%} (95% interval {low:.2%} to {high:.2%}), "
                          "median time {s:.0f} s", value=value_text(fig["setting"], g["value"]), n=g["runs"],
                          median=g["median"], low=g["low"], high=g["high"], s=g["seconds"]) for g in fig["per_value"])


def live(code: str, key: str, show_all: bool = False, big: bool = False) -> None:
    """The class view, redrawn every LIVE_S seconds; says so when the database cannot be reached."""
    if big:
        st.html(PROJECTOR_CSS)

    @st.fragment(run_every=LIVE_S)
    def body() -> None:
        s = classroom.store()
        if s is None:
            classroom.unavailable()
            return
        try:
            view = s.view(code, show_all)
        except Problem as exc:
            st.error(tr_all(exc.messages))
            return
        except UNREACHABLE as exc:
            classroom.handle().error = str(exc).splitlines()[0][:200]
            classroom.unavailable()
            return
        draw(view, key, big)

    body()
