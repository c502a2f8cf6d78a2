"""Inspect's digit pickers: by number, at random, by class, misclassified only, or drawn on a canvas."""

from __future__ import annotations

import random

import streamlit as st
from streamlit_drawable_canvas import st_canvas

from lib.experiments.drawing import BlankDrawing, preprocess
from lib.messages import Problem
from ui import inspect_charts
from ui.i18n import t, tr_all


def from_test_set(data, i: int) -> dict:
    """A test digit as the page uses it: image, true class, seed for the random order, title."""
    return {"image": data.test_x[i].numpy(), "label": int(data.test_y[i]), "seed": i,
            "title": t("Test digit #{i}", i=i)}


def pick_by_index(data) -> dict:
    last = len(data.test_y) - 1
    i = st.number_input(t("Test digit number (0 to {last:,})", last=last), 0, last, 0, step=1,
                        key="inspect_index")
    return from_test_set(data, int(i))


def pick_random(data) -> dict:
    n = len(data.test_y)
    if st.session_state.get("inspect_random", n) >= n:
        st.session_state["inspect_random"] = random.randrange(n)
    st.button(t("Another random digit"), key="inspect_reroll",
              on_click=lambda: st.session_state.update(inspect_random=random.randrange(n)))
    return from_test_set(data, st.session_state["inspect_random"])


def pick_by_class(data) -> dict:
    left, right = st.columns(2)
    cls = left.selectbox(t("Class"), list(range(10)), key="inspect_class")
    members = [i for i, y in enumerate(data.test_y.tolist()) if y == cls]
    if st.session_state.get("inspect_class_k", 1) > len(members):
        st.session_state["inspect_class_k"] = 1
    k = right.number_input(t("Which {cls} (1 to {n:,})", cls=cls, n=len(members)), 1, max(len(members), 1),
                           step=1, key="inspect_class_k")
    return from_test_set(data, members[int(k) - 1])


def mistakes(data, ev: dict) -> list[tuple[int, int, int]]:
    """(test index, true class, predicted class) of every misclassified test digit, in test-set order."""
    labels = data.test_y.tolist()
    return [(i, labels[i], p) for i, p in zip(ev["indices"], ev["predictions"]) if p != labels[i]]


def pick_misclassified(data, key: str, ev: dict) -> dict | None:
    """Only the test digits this model gets wrong."""
    wrong = mistakes(data, ev)
    if not wrong:
        st.success(t("This model gets every test digit right: nothing to show here."))
        return None
    pos = st.selectbox(t("Misclassified test digit ({n:,} in all)", n=len(wrong)), list(range(len(wrong))),
                       format_func={k: t("#{i}: true {true} → predicted {pred}", i=i, true=true, pred=pred)
                                    for k, (i, true, pred) in enumerate(wrong)}.get,  # translated now: ui.i18n.labels
                       key=f"inspect_wrong_{key}")
    return from_test_set(data, wrong[pos][0])


def pick_drawn() -> dict | None:
    """A digit drawn with the mouse or a finger, made MNIST-like."""
    st.caption(t("Draw with the mouse or a finger; the canvas toolbar can undo a stroke or clear everything."))
    left, right = st.columns(2)
    with left:
        result = st_canvas(stroke_width=18, stroke_color="#FFFFFF", background_color="#000000", height=280,
                           width=280, drawing_mode="freedraw", return_image_data=True, key="canvas")
    try:
        pixels = None if result is None else result.image_data  # (H, W, 4) uint8 RGBA, or None before drawing
        image = None if pixels is None else preprocess(pixels)  # (28, 28) uint8
    except BlankDrawing:
        image = None
    except Problem as exc:  # the drawing surface's own error; anything else is a bug
        right.warning(t("This drawing could not be used: {error}", error=tr_all(exc.messages)))
        return None
    if image is None:
        right.info(t("Draw a digit (0 to 9) on the black square, as large as you like. It is cropped, scaled to "
                     "20 × 20 pixels and centred in 28 × 28 the way MNIST digits were."))
        return None
    right.markdown(inspect_charts.digit_markdown(image, t("Your drawing, cropped, scaled and centred as the network sees it: "
                                                  "28 × 28 pixels."), factor=8))
    right.caption(t("What the network sees: 28 × 28 pixels"))
    return {"image": image, "label": None, "seed": 0, "title": t("Your digit")}


def pick_digit(data, key: str, ev: dict) -> dict | None:
    """The digit chooser: by index, random, by class, misclassified only, or drawn."""
    modes = {"index": t("By number"), "random": t("Random"), "class": t("By class"),
             "wrong": t("Misclassified only"), "draw": t("Draw your own")}
    mode = st.radio(t("Which digit?"), list(modes), format_func=modes.get, horizontal=True, key="inspect_mode")
    if mode == "wrong":
        return pick_misclassified(data, key, ev)
    if mode == "draw":
        return pick_drawn()
    return {"index": pick_by_index, "random": pick_random, "class": pick_by_class}[mode](data)
