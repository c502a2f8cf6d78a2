"""The gradient through the steps drawn (log scale, with its interval) and read: every sentence here is computed from
the numbers it stands beside (lib.experiments.gradients), so it says the opposite when the numbers do."""

from __future__ import annotations

import plotly.graph_objects as go

from lib.experiments.compare import change
from lib.experiments.gradients import VANISH, clip_facts, compare_reach, reach
from lib.messages import N_
from lib.models.families import FAMILIES
from ui import charts
from ui.i18n import sentences, t

SUPERSCRIPT = str.maketrans("-0123456789", "⁻⁰¹²³⁴⁵⁶⁷⁸⁹")
QUANTITIES = {"grad": N_("each step's input x_t"), "hidden": N_("the hidden state h_t (and the LSTM's cell state c_t)")}
WITH_RESPECT_TO = {"grad": N_("the input x_t"), "hidden": N_("the hidden state h_t")}  # in the caption's sentence


def share(value: float) -> str:
    """A share of the last step's gradient as people read it: 31%, 2.5%, or 3.4×10⁻⁷ below 1%."""
    if value >= VANISH:
        return f"{value:.0%}" if value >= 0.1 else f"{value:.1%}"
    mantissa, exponent = f"{value:.1e}".split("e")
    return f"{mantissa}×10{str(int(exponent)).translate(SUPERSCRIPT)}"


def times(value: float) -> str:
    return f"{value:,.0f}" if value >= 10 else f"{value:.1f}"


def family_name(name: str) -> str:
    return t(FAMILIES[name].label)


def _band(x, low, high, color: str, name: str) -> go.Scatter:
    """The 95% interval as a filled band, drawn under its line and left out of the legend."""
    return go.Scatter(x=list(x) + list(x)[::-1], y=list(high) + list(low)[::-1], fill="toself", fillcolor=color,
                      opacity=0.18, line=dict(width=0), hoverinfo="skip", showlegend=False, name=name)


def figure(results: dict[str, dict], quantity: str, title: str, extra=(), by_family: bool = True) -> go.Figure:
    """One line per result (key: its label), `quantity`_rel over the steps on a log axis, each with its band;
    `extra`: (label, result, quantity, dash) more lines (the LSTM's cell state). Coloured by family (the app's
    family colours), or one colour per line when the lines are one model's."""
    fig = go.Figure()
    lines = [(label, r, quantity, None) for label, r in results.items()] + list(extra)
    for k, (label, r, q, dash) in enumerate(lines):
        color = FAMILIES[r["family"]].color if by_family else charts.PALETTE[k]
        fig.add_trace(_band(r["steps"], r[f"{q}_rel_low"], r[f"{q}_rel_high"], color, label))
        fig.add_trace(go.Scatter(x=r["steps"], y=r[f"{q}_rel"], name=label, mode="lines",
                                 line=dict(color=color, width=3, dash=dash or ("dot" if k % 2 else None))))
    fig.update_xaxes(title=t("step (rows read, or pieces of rows)"))
    fig.update_yaxes(title=t("share of the last step's gradient"), type="log", exponentformat="power")
    return charts.style(fig, title, 380)


def verdict(found: dict) -> str:
    if found["vanishes"] is None:
        return t("about 1%, within the noise")
    return t("vanished: below 1%") if found["vanishes"] else t("not vanished")


def reach_text(results: dict[str, dict], quantity: str) -> str:
    """What reaches the first step for each line of a chart, with its verdict."""
    parts = [t("{model}: {share} reaches step 1 ({verdict})", model=label, share=share(f["share"]), verdict=verdict(f))
             for label, r in results.items() for f in [reach(r, quantity)]]
    return t("{clauses}.", clauses=t("; ").join(parts)) if parts else ""


def about(quantity: str, n: int) -> str:
    return t("The gradient of the loss at the last step with respect to {what} at each step t, divided by its value "
             "at the last step: its geometric mean over {n} test digits, log scale; the band is its 95% interval.",
             what=t(WITH_RESPECT_TO[quantity]), n=n)


def comparison(found: dict) -> str:
    if found["verdict"] == "tie":
        return t("the same, within the noise")
    if found["verdict"] == "more":
        return t("{x} times as much", x=times(found["times"]))
    return t("{x} times less", x=times(1 / found["times"]))


def additive_path(init: dict[str, dict], trained: dict[str, dict]) -> str:
    """What the LSTM's cell state changes, read from both charts: its gradient at step 1 against the plain RNN's
    hidden state's, freshly initialised and trained."""
    if not {"lstm", "rnn"} <= set(init) & set(trained):
        return ""
    fresh, done = (compare_reach(r["lstm"], "cell", r["rnn"], "hidden") for r in (init, trained))
    return t("**What the cell state's additive path changes.** Going back one step along the plain RNN's h, the "
             "gradient is multiplied by the recurrent weights and by tanh's slope; along the LSTM's cell state, "
             "c_t = f ⊙ c_(t−1) + i ⊙ g, only by the forget gate f. Freshly initialised, {a} of the LSTM's cell-state "
             "gradient reaches step 1, against {b} of the plain RNN's hidden-state gradient: {fresh}. Trained: {c} "
             "against {d}: {done}.", a=share(fresh["a"]), b=share(fresh["b"]), fresh=comparison(fresh),
             c=share(done["a"]), d=share(done["b"]), done=comparison(done))


def plain_rnn_reading(trained: dict[str, dict], acc: float | None, steps: int) -> str:
    """Whether the trained plain RNN's gradient reaches the first step, and what that explains."""
    if "rnn" not in trained:
        return ""
    found = reach(trained["rnn"], "grad")
    if found["vanishes"] is False:
        why = t("That is why it still learns from every row and reaches {acc:.2%} here.", acc=acc) if acc else ""
        return sentences(t("Over {steps} steps the trained plain RNN's gradient with respect to its input does "
                           "not vanish: {share} of it reaches step 1.", steps=steps, share=share(found["share"])), why)
    if found["vanishes"]:
        return t("Over {steps} steps the trained plain RNN's gradient with respect to its input vanishes: only {share} "
                 "of it reaches step 1, so it can hardly learn what the first steps hold.", steps=steps,
                 share=share(found["share"]))
    return t("Over {steps} steps about 1% of the trained plain RNN's gradient with respect to its input reaches "
             "step 1: at the edge of vanishing, within the noise.", steps=steps)


def clipping_text(trained: dict[str, dict]) -> str:
    """How often the clipping threshold acted on the trained models' gradients, and so what clipping is for."""
    facts = {name: clip_facts(r) for name, r in trained.items()}
    if not facts:
        return ""
    any_clip = next(iter(facts.values()))
    parts = [t("{model} {over} of {batches} (largest {max:.2f}, {ratio} times the median)", model=family_name(name),
               over=f["over"], batches=f["batches"], max=f["max"], ratio=times(f["ratio"]))
             for name, f in facts.items()]
    head = t("**What gradient clipping is for.** Clipping rescales a gradient whose norm exceeds a threshold ({c}) "
             "down to that norm. Over {batches} batches of {b} training digits, the trained models' gradient norm "
             "exceeded it in: {list}.", c=any_clip["threshold"], batches=any_clip["batches"],
             b=any_clip["batch_size"], list=t("; ").join(parts))
    if any(f["over"] for f in facts.values()):
        tail = t("So clipping acts on the few batches whose gradient is far larger than the others': one such "
                 "batch cannot throw the weights far. It never makes a small gradient larger, so it does nothing "
                 "against vanishing.")
    else:
        tail = t("Here clipping never acted: it guards against the rare batch whose gradient explodes (grows "
                 "through the steps instead of shrinking). It never makes a small gradient larger, so it does "
                 "nothing against vanishing.")
    return sentences(head, tail)


def accuracy_change(short: dict, long: dict, model: str, labels=None) -> str:
    """One model's test accuracy read as 28 steps and as 112, and whether the change is beyond the noise
    (lib.experiments.compare.change: McNemar's test on the same test digits where the cards keep their answers and
    `labels` are given, else the binomial one)."""
    a, b = short["metrics"]["acc"], long["metrics"]["acc"]
    found = change([short["metrics"]], [long["metrics"]], labels)["verdict"]  # more errors: a drop
    verdict = {"same": t("within the noise"), "more": t("a real drop"), "fewer": t("a real gain")}[found]
    return t("{model}: {a:.2%} reading 28 steps, {b:.2%} reading {steps} ({d:+.2f} points, {change})", model=model,
             a=a, b=b, steps=28 * long["config"].get("steps_per_row", 1), d=(b - a) * 100, change=verdict)
