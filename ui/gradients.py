"""Why the LSTM needs gates, measured on the shipped models (the Lesson page) and on any one-way model (Inspect):
the gradient of the loss at the last step with respect to each step, freshly initialised and trained, over 28
steps and over 112 (each row read in 4 pieces)."""

from __future__ import annotations

import streamlit as st

from lib.experiments.gradients import COMPARED, LONG, least_reached, long_setting_differences
from lib.storage.pretrained import FOLDER
from ui import experiment_results as results
from ui import gradient_charts as gc
from ui import resources
from ui.conclusion import predict, sentence
from ui.i18n import and_list, sentences, t


def _quantity(key: str) -> str:
    """Which gradient the charts draw: with respect to each step's input, or to the state."""
    names = {q: t(text) for q, text in gc.QUANTITIES.items()}  # translated now: see ui.i18n.labels
    return st.radio(t("Gradient with respect to"), list(names), format_func=names.get, horizontal=True, key=key)


def _charts(init: dict, trained: dict, quantity: str, key: str) -> None:
    """Freshly initialised beside trained, one line per family (the LSTM's cell state too, for the state)."""
    labelled = [{gc.family_name(f): r for f, r in group.items()} for group in (init, trained)]
    for column, group, raw, title, name in zip(st.columns(2), labelled, (init, trained),
                                               (t("Freshly initialised"), t("Trained")), ("init", "trained")):
        extra = [(t("LSTM cell state c"), raw["lstm"], "cell", "dash")] if quantity == "hidden" and "lstm" in raw \
            else []
        column.plotly_chart(gc.figure(group, quantity, title, extra), key=f"{key}_{name}", width="stretch")
        texts = [gc.reach_text(group, quantity)] + [gc.reach_text({label: r}, "cell") for label, r, _, _ in extra]
        column.caption(sentences(gc.about(quantity, next(iter(group.values()))["n"]), *texts))


def _missing(names) -> str:
    missing = [n for n in names if n not in resources.shipped()]
    return and_list(f"`{FOLDER.name}/{n}.safetensors`" for n in missing)


def lesson_section() -> None:
    """Section 6 of the Lesson page: predict, then see the gradients of the three cells over 28 steps, then 112."""
    st.subheader(t("6 · Why does the LSTM need gates?"))
    st.markdown(t("Training moves every weight against the gradient of the loss, and the lesson's loss is computed "
                  "after the last row only. To learn what to keep from row 5, the gradient must travel back from "
                  "the last step to step 5, one step at a time, and each step back multiplies it by that step's "
                  "derivative. If the factors are below 1 it shrinks at every step: it **vanishes**, and the early "
                  "rows teach the network almost nothing."))
    shipped = {f: n for f, n in COMPARED.items() if n in resources.shipped()}
    if not shipped:
        st.warning(t("The shipped models for this comparison are missing: run `python -m lib.cli make-pretrained`."))
        return
    init = {f: results.shipped_gradients(n, init=True) for f, n in shipped.items()}
    choices = {f: gc.family_name(f) for f in shipped}
    if not predict("predict_gradients", t("Predict first: freshly initialised, before any training, in which network "
                                          "does the smallest share of the last step's gradient reach step 1?"),
                   choices, least_reached(init, "grad")):
        return
    trained = {f: results.shipped_gradients(n) for f, n in shipped.items()}
    quantity = _quantity("gradients_quantity")
    _charts(init, trained, quantity, "gradients_28")
    rnn_card = resources.shipped().get(COMPARED["rnn"], (None, None))[1]
    st.markdown(sentences(gc.additive_path(init, trained),
                          gc.plain_rnn_reading(trained, rnn_card["metrics"]["acc"] if rnn_card else None, 28)))
    st.markdown(gc.clipping_text(trained))
    longer_reading(quantity)


def longer_reading(quantity: str) -> None:
    """The same digits read as 112 steps (each row in 4 pieces of 7 pixels): accuracy and gradients of the shipped
    plain RNN and LSTM beside their 28-step twins, or what is missing while they are not shipped."""
    st.markdown(t("**Where the difference appears: longer sequences.** 28 steps is a short sequence. Read each row in "
                  "4 pieces of 7 pixels and the same digits become 112 steps: the gradient must travel four times "
                  "as far."))
    shipped = resources.shipped()
    if any(n not in shipped for n in LONG.values()):
        st.info(t("The models that read 112 steps are not shipped yet: {missing} is not in this copy of the app. They "
                  "are trained like the 28-step ones, a plain RNN and an LSTM; this part shows their accuracy and "
                  "gradients as soon as their files are there.", missing=_missing(LONG.values())))
        return
    init = {f: results.shipped_gradients(n, init=True) for f, n in LONG.items()}
    trained = {f: results.shipped_gradients(n) for f, n in LONG.items()}
    _charts(init, trained, quantity, "gradients_112")
    labels = resources.test_labels()
    changes = [gc.accuracy_change(shipped[COMPARED[f]][1], shipped[LONG[f]][1], gc.family_name(f), labels)
               for f in LONG if COMPARED[f] in shipped]
    st.markdown(sentences(sentence(changes), gc.plain_rnn_reading(trained, shipped[LONG["rnn"]][1]["metrics"]["acc"],
                                                                  112), _setting_differences(shipped)))


def _setting_differences(shipped: dict) -> str:
    """The training settings in which a long model's card differs from its 28-step twin's, beyond the reading."""
    differ = long_setting_differences({name: card for name, (_, card) in shipped.items()})
    if not differ:
        return t("Apart from the reading, each pair was trained with the same settings.")
    return t("Apart from the reading, their cards differ in these settings too: {names}.",
             names=", ".join(f"`{k}`" for k in differ))


def inspect_panel(key: str, choice: dict) -> None:
    """Inspect: the chosen one-way model's gradient through the steps, trained against its initial weights."""
    quantity = _quantity("inspect_gradients_quantity")
    config = choice["config"].to_dict()
    found = {t("trained"): results.model_gradients(key, choice["model"], config, False),
             t("initial weights"): results.model_gradients(key, choice["model"], config, True)}
    extra = [(label + " · c", r, "cell", "dash") for label, r in found.items() if quantity == "hidden"
             and "cell_rel" in r]
    st.plotly_chart(gc.figure(found, quantity, t("How far back the gradient reaches"), extra, by_family=False),
                    key="inspect_gradients", width="stretch")
    texts = [gc.reach_text(found, quantity)] + [gc.reach_text({label: r}, "cell") for label, r, _, _ in extra]
    st.caption(sentences(gc.about(quantity, next(iter(found.values()))["n"]), *texts))
