"""The Conclusion page's pieces: a prediction asked before its chart, the measurements' charts and their readings."""

from __future__ import annotations

import streamlit as st

from lib.data.orders import ORDERS
from lib.experiments.conclusion import (
    BASELINE,
    COMPARED,
    PER_IMAGE,
    VARIANTS,
    against,
    best_per_family,
    fastest_growing,
    growth,
    order_drops,
    split_by_prior,
)
from lib.experiments.scaling import enlargement
from lib.experiments.tuning import same_budget
from lib.messages import LIST_SEPARATOR
from lib.models.families import FAMILIES
from lib.training.config import TrainConfig
from lib.training.devices import resolve_device
from ui import charts, resources, state
from ui.captions import digit_counts
from ui.i18n import and_list, sentences, t

MARKERS = {False: "circle", True: "diamond"}  # shipped models, the student's own runs (a cue beyond colour)


def sentence(parts: list[str]) -> str:
    """Computed clauses joined into one sentence, with the visitor's language's punctuation ("" without any)."""
    return t("{clauses}.", clauses=t("; ").join(parts)) if parts else ""


def family_name(name: str) -> str:
    return t(FAMILIES[name].label)


def variant_name(name: str) -> str:
    return t(VARIANTS[name].label)


def predict(key: str, question: str, choices: dict[str, str], answers: list[str]) -> bool:
    """Ask first: a choice with nothing picked; once picked, say whether the measurement agrees. `answers`: what the
    measurement says, more than one when they tie within sampling noise ([] when there is no measurement yet). True
    when the student has answered (the page then shows the chart)."""
    guess = st.radio(question, list(choices), format_func=choices.get, index=None, key=key, horizontal=True)
    if guess is None:
        st.caption(t("Pick an answer to see the measurement."))
        return False
    named = dict(guess=choices[guess], answer=and_list(choices[a] for a in answers))
    if not answers:
        st.info(t("You predicted: {guess}. There is no measurement to compare with yet.", **named))
    elif guess in answers and len(answers) > 1:
        st.success(t("You predicted: {guess}. The measurement agrees, with a tie: {answer} are within sampling noise "
                     "of each other.", **named))
    elif guess in answers:
        st.success(t("You predicted: {guess}. The measurement agrees.", **named))
    elif len(answers) > 1:
        st.warning(t("You predicted: {guess}. The measurement says: a tie between {answer}, within sampling noise of "
                     "each other.", **named))
    else:
        st.warning(t("You predicted: {guess}. The measurement says: {answer}.", **named))
    return True


def order_chart(acc: dict[str, dict[str, float]], key: str, title: str) -> None:
    """Grouped bars: for each variant, its test accuracy in each compared order; a caption reads the drops."""
    variants = list(acc)
    series = [{"name": t(ORDERS[o].title), "color": ORDERS[o].color, "symbol": ORDERS[o].marker,
               "y": [acc[v].get(o) for v in variants]}
              for o in COMPARED if any(o in acc[v] for v in variants)]  # no legend entry for an order not run
    st.plotly_chart(charts.grouped_dots([variant_name(v) for v in variants], series, t("test accuracy"), title),
                    key=key, width="stretch")
    parts = [t("{model}: {a:.2%} {base}, {b:.2%} {other} ({d:+.1f} points)", model=variant_name(v),
               a=acc[v][BASELINE], base=t(ORDERS[BASELINE].title), b=acc[v][PER_IMAGE],
               other=t(ORDERS[PER_IMAGE].title), d=d * 100) for v, d in order_drops(acc).items()]
    st.caption(sentences(t("Test accuracy of each model in each row order."), sentence(parts)))


def scaling_charts(out: dict, kind: str) -> None:
    """Time per step against the image's height (log axes), and the steps that must run one after another."""
    heights = out["heights"]
    series = [{"name": family_name(f), "x": heights, "y": out[kind][f], "color": FAMILIES[f].color}
              for f in out[kind]]
    what = t("ms per training step") if kind == "train_ms" else t("ms per prediction")
    left, right = st.columns([3, 2])
    left.plotly_chart(charts.log_lines(series, t("image height and width (pixels)"), what,
                                       t("{what} at batch {b}, {device}", what=what, b=out["batch_size"],
                                         device=state.device_text(out))), key=f"scaling_{kind}", width="stretch")
    grown = growth(out, kind)
    growths = [t("{model} {g:.1f}× from {a} to {z} pixels", model=family_name(f), g=g, a=heights[0], z=heights[-1])
               for f, g in grown.items() if g]
    weights = t(LIST_SEPARATOR).join(f"{family_name(f)} {p:,}" for f, p in out["params"].items())
    left.caption(sentences(t("Time for one batch of {b} digits as the image grows, both axes logarithmic.",
                             b=out["batch_size"]), sentence(growths),
                           t("Weights at hidden {h} and {n} layers: {list}.", h=out["hidden"], n=out["layers"],
                             list=weights)))
    steps = [{"name": family_name(f), "x": heights, "y": out["sequential_steps"][f], "color": FAMILIES[f].color,
              "dash": "dot" if k % 2 else None}  # a dotted line stays visible where two families' counts agree
             for k, f in enumerate(out["sequential_steps"])]
    right.plotly_chart(charts.log_lines(steps, t("image height and width (pixels)"), t("steps in sequence"),
                                        t("Steps that must wait for the one before")),
                       key=f"scaling_steps_{kind}", width="stretch")
    right.caption(sentences(t("How many computations must run one after another in a forward pass: a recurrent "
                              "layer's steps each wait for the previous row, a CNN's and a Transformer's layers each "
                              "process every position at once."),
                            sentence([f"{family_name(f)} {v[0]} → {v[-1]}"
                                      for f, v in out["sequential_steps"].items()])))
    gaps = [(f, h) for f, values in out[kind].items() for h, v in zip(heights, values) if v is None]
    for f, h in gaps:
        st.warning(t("At {h} × {h} pixels the {model} did not fit in the memory of {device}: that point is left "
                     "out, the others are measured.", h=h, model=family_name(f), device=state.device_text(out)))


def speed_text(facts: dict | None) -> str:
    """Which of the two was faster, height by height (lib.experiments.conclusion.against), in one sentence."""
    if facts is None:
        return ""
    values = dict(rnn=family_name(facts["recurrent"]), cnn=family_name(facts["parallel"]), h0=facts["first_height"],
                  h1=facts["last_height"], a0=facts["first"][0], b0=facts["first"][1], a1=facts["last"][0],
                  b1=facts["last"][1])
    if facts["faster"] == facts["heights"]:
        return t("Measured here, the {rnn}'s training step is faster than the {cnn}'s at every size, {a0:,.0f} "
                 "against {b0:,.0f} ms at {h0} pixels and {a1:,.0f} against {b1:,.0f} ms at {h1}: the gap the lesson "
                 "describes does not appear.", **values)
    if not facts["faster"]:
        return t("Measured here, the {rnn}'s training step is slower than the {cnn}'s at every size, {a0:,.0f} "
                 "against {b0:,.0f} ms at {h0} pixels and {a1:,.0f} against {b1:,.0f} ms at {h1}.", **values)
    return t("Measured here, the {rnn}'s training step is faster than the {cnn}'s at {faster} pixels and slower at "
             "the other sizes ({a0:,.0f} against {b0:,.0f} ms at {h0} pixels, {a1:,.0f} against {b1:,.0f} ms at "
             "{h1}).", faster=and_list(map(str, facts["faster"])), **values)


def scaling_why(out: dict) -> str:
    """Why the step times grow as they do on the measuring device; on a GPU, read from the measurement, which may or
    may not bear the lesson out."""
    if out["threads"]:
        return sentences(speed_text(against(out)), t(
            "**Why, on this CPU.** A CPU computes in parallel too, over its {n} threads and the vector units of each "
            "core, but with a few dozen lanes, not a GPU's thousands, so its time follows the total arithmetic. The "
            "CNN's work grows with the pixels in every layer: {pixels} times at {side}. The LSTM reads {times} times "
            "as many rows, each {times} times longer, but only its input weights see the longer rows: updating its "
            "memory from one row to the next costs the same at every size. A GPU runs thousands of operations at "
            "once: there the CNN's extra work can spread over its cores while the LSTM's steps still wait for each "
            "other. Press the button on a server with a GPU to see whether the steps in sequence then decide.",
            n=out["threads"], **enlargement(out["heights"])))
    grown_most = fastest_growing(out)
    if not grown_most:  # no family measured at both the smallest and the largest size: the notices above say which
        return ""
    top = grown_most[0]
    if FAMILIES[top].recurrent:
        return t("**Why, on this GPU.** A GPU runs thousands of operations at once: the CNN's and the Transformer's "
                 "extra work spreads over its cores, while each of the recurrent network's steps is too small to "
                 "fill it and must wait for the one before. Here the steps in sequence decide: {model}'s step grew "
                 "the most.", model=family_name(top))
    return t("**Why, on this GPU.** A GPU runs thousands of operations at once, yet on this one the extra work of "
             "the larger images outweighs the steps that wait for each other: {model}'s step grew the most, so this "
             "measurement does not bear the lesson's claim out.", model=family_name(top))


def point_name(point: dict) -> str:
    """A point's model in words: a shipped model's translated title, or the student's run label."""
    return point["name"] if point["mine"] else state.model_title(point["name"], TrainConfig.from_dict(point["config"]))


def time_chart(points: list[dict]) -> None:
    """Accuracy against training time, shipped models and the student's runs; a caption names each family's best."""
    marks = [{"group": t("yours: {model}", model=family_name(p["family"])) if p["mine"] else
              t("shipped: {model}", model=family_name(p["family"])),
              "x": p["seconds"], "y": p["acc"], "color": FAMILIES[p["family"]].color, "symbol": MARKERS[p["mine"]],
              "label": t("{name}: {acc:.2%} of {n:,} test digits, trained in {s:,.0f} s", name=point_name(p),
                         acc=p["acc"], n=p["n"], s=p["seconds"])} for p in points]
    st.plotly_chart(charts.scatter(marks, t("training time (seconds, log scale)"), t("test accuracy"),
                                   t("Test accuracy against training time")), key="conclusion_time",
                    width="stretch")
    best = best_per_family(points)
    shipped, mine = [p for p in points if not p["mine"]], [p for p in points if p["mine"]]
    scored = [t("the shipped models on {n} test digits", n=digit_counts(p["n"] for p in shipped))] if shipped else []
    scored += [t("your runs on {n}", n=digit_counts(p["n"] for p in mine))] if mine else []
    bests = t("; ").join(t("{model} {acc:.2%} in {s:,.0f} s ({name})", model=family_name(f), acc=p["acc"],
                           s=p["seconds"], name=point_name(p)) for f, p in best.items())
    st.caption(sentences(t("Each point is one model: diamonds are your runs, circles the shipped models, each timed on "
                           "the machine that trained it."), t("Scored: {list}.", list=t(LIST_SEPARATOR).join(scored)),
                         t("The best of each family: {list}.", list=bests)))


def time_why(points: list[dict], answers: list[str]) -> str:
    """Why the most accurate family is what it is, with the sizes and training of each family's best shipped model
    (a tie with the family built for images reads differently from its clear win)."""
    best = best_per_family([p for p in points if not p["mine"]])
    sizes = sentence([t("{model} {acc:.2%}, {w:,} weights, {e} epochs", model=family_name(f), acc=p["acc"],
                        w=p["weights"], e=p["epochs"]) for f, p in best.items()]) if best else ""
    prior, others = split_by_prior(answers)
    if prior and others:
        why = t("**Why.** A {model} is built for images: its filters assume that nearby pixels belong together and "
                "that a stroke means the same wherever it is. {others} have to learn that from the data; here their "
                "best models come within sampling noise of it on these test digits. Compare what each best model "
                "had: {sizes}", model=family_name(prior[0]), others=and_list(family_name(f) for f in others),
                sizes=sizes)
    elif prior:
        why = t("**Why.** A {model} is built for images: its filters assume that nearby pixels belong together and "
                "that a stroke means the same wherever it is. The other families have to learn that from the data, "
                "and here they do not catch up. Compare what each best model had: {sizes}", model=family_name(prior[0]),
                sizes=sizes)
    else:
        why = t("**Why.** Compare what each family's best model had: {sizes}", sizes=sizes)
    devices = and_list(dict.fromkeys(state.device_text(p["device"]) for p in points if not p["mine"]))
    return sentences(why, t("The shipped models' times come from their cards ({devices}); they were trained two at a "
                            "time on a machine doing other work, so their times compare only roughly. Your own runs, "
                            "from the Train page, appear as diamonds, timed on this server.", devices=devices))


def my_runs() -> list[dict]:
    """The student's finished runs scored on the test set, as lib.experiments.conclusion.time_points wants them."""
    return [{"name": state.run_label(j), "config": j.config.to_dict(), "acc": j.result["acc"], "n": j.result["n"],
             "seconds": j.seconds, "device": j.last("start") or {}}
            for j in state.runs() if j.comparable and j.result.get("split") == "test"]


def server_device() -> str:
    """The device type this server trains and measures on when asked for "auto" (cuda, mps or cpu)."""
    return resolve_device("auto").type


def measurement_job(device: str):
    """Start (or join) the server's measurement on `device` through the job queue."""
    return resources.measurements().start(
        device, lambda task: resources.jobs().submit_task(task, state.owner(), "scaling", device))


def budget_text(found: dict[str, dict]) -> str:
    """How the shipped models being compared were chosen, from their tuning records: the same budget for every
    family, or what differed; the lesson models are the exception by design."""
    if not found:
        return ""
    lesson = t("The two lesson models are the exception: they reproduce the source's way, scoring the test set after "
               "every epoch.")
    if same_budget(found):
        b = next(iter(found.values()))
        return sentences(t("Every family here had the same tuning budget: {k} learning rates, at most {e} epochs each, "
                           "the rate and the epoch chosen on {v:,} held-out validation digits; the test set was "
                           "scored once, at the end.", k=len(b["lrs"]), e=b["epochs"], v=b["validation"] or 0),
                         lesson)
    each = t("; ").join(t("{model}: {k} learning rates, at most {e} epochs", model=family_name(f), k=len(b["lrs"]),
                          e=b["epochs"]) for f, b in found.items())
    return sentences(t("The families were not tuned alike, so read their comparison with care: {each}.", each=each),
                     lesson)
