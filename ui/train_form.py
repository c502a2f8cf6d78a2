"""The Train page's settings form: a config goes into the widgets and comes back out here, and nowhere else. What
each control offers and where it ends comes from the settings' declarations (lib.training.limits)."""

from __future__ import annotations

import streamlit as st

from lib.data.orders import ORDERS
from lib.models.families import FAMILIES, uses
from lib.training import limits
from lib.training.config import DEFAULTS, TrainConfig
from lib.training.devices import available_devices
from ui import resources, runs
from ui.i18n import labels, sentences, t


def key(field: str) -> str:
    return f"form_{field}"


def to_widgets(cfg: TrainConfig) -> None:
    """Put a config into the form's widgets (before they are drawn). The one place for the way in: 0 = all digits
    shows as the loaded count ("all N"), and a value past a control's end (a classroom limit, a link's dropout of
    0.99) shows at the end; the submit check explains any limit a link asked to pass."""
    shown = limits.for_form(cfg.to_dict(), resources.settings(), *runs.loaded())
    for field, value in shown.items():
        st.session_state[key(field)] = value


def from_widgets() -> TrainConfig:
    """The config the form shows. The one place for the way out: "all N" digits becomes 0 = all, as in a preset, and
    the settings the chosen family hides are left at their defaults, as on a link."""
    values = {f: st.session_state[key(f)] for f in DEFAULTS if key(f) in st.session_state}
    return TrainConfig.from_dict(limits.from_form(values, DEFAULTS, *runs.loaded()))


def steps(name: str, n_all: int | None = None) -> list:
    """A select slider's choices for a setting: its declared values within the classroom limit, plus the current."""
    return limits.offered(name, st.session_state[key(name)], resources.settings(), n_all)


def end(name: str):
    """Where a slider or number box for a setting ends (its own end, or the classroom limit)."""
    return limits.highest(name, resources.settings())


def choices(name: str) -> dict:
    """A registry setting's choices with their labels, translated now (see ui.i18n.labels)."""
    return labels(limits.SETTINGS[name].choices())


def count_label(n_all: int, choices: list[int]):
    """Each count's label (the largest reads "all 10,000"), translated now: see ui.i18n.labels."""
    return {n: t("all {n:,}", n=n_all) if n >= n_all else f"{n:,}" for n in choices}.get


def family_picker() -> str:
    """The model family, above the form: choosing one redraws the form with only the settings it has."""
    names = labels({f: v.label for f, v in FAMILIES.items()})
    chosen = st.radio(t("Model family"), list(FAMILIES), format_func=names.get, key=key("family"), horizontal=True)
    st.caption(t("{family}: {summary}.", family=t(FAMILIES[chosen].label), summary=t(FAMILIES[chosen].summary)))
    return chosen


def settings_form() -> TrainConfig | None:
    """The family picker and the form; returns a config only when Train was pressed."""
    family = family_picker()
    with st.form("train_form", border=True):
        a, b, c = st.columns(3)
        size, about = FAMILIES[family].size
        a.select_slider(t(size), steps("hidden"), key=key("hidden"), help=t(about))
        a.slider(t("Layers"), 1, end("layers"), key=key("layers"))
        orders = choices("order")
        a.selectbox(t("Row order"), list(orders), format_func=orders.get, key=key("order"),
                    help=sentences(*(t("**{name}**: {explanation}", name=t(o.title), explanation=t(o.explanation))
                                     for o in ORDERS.values())))
        b.select_slider(t("Learning rate"), steps("lr"), key=key("lr"),
                        format_func=lambda v: f"{v:g}",
                        help=t("Log scale. Too high, and the loss explodes or stalls near chance, whatever the "
                               "optimizer; too low, and it hardly moves. SGD's steps grow with the gradient, Adam's "
                               "are about the learning rate itself, so they want different rates: 0.1 is the "
                               "lesson's for SGD, about 0.001 to 0.005 for Adam."))
        optimizers, schedules = choices("optimizer"), choices("scheduler")
        b.selectbox(t("Optimizer"), list(optimizers), format_func=optimizers.get, key=key("optimizer"))
        b.selectbox(t("Learning-rate schedule"), list(schedules), format_func=schedules.get, key=key("scheduler"))
        b.select_slider(t("Batch size"), steps("batch_size"), key=key("batch_size"))
        c.slider(t("Epochs"), 1, end("epochs"), key=key("epochs"))
        n_train, _ = runs.loaded()
        subsets = steps("subset", n_train)
        c.select_slider(t("Training digits"), subsets, key=key("subset"),
                        format_func=count_label(n_train, subsets),
                        help=t("Balanced across the 10 classes. Fewer digits train faster."))
        device_labels = labels(available_devices())  # asked once per run: it probes CUDA and MPS
        c.radio(t("Device"), list(device_labels), format_func=device_labels.get, key=key("device"), horizontal=True)
        c.radio(t("Repeat with seeds"), [1, 3, 5], key="form_repeats", horizontal=True,
                help=t("Train the same settings with this many seeds (other initial weights and batches): the table "
                       "then shows their mean and standard deviation. A difference between two settings smaller "
                       "than that spread may be chance; telling it apart needs a test, which the Row order page "
                       "makes."))
        with st.expander(t("More settings")):
            advanced(family)
        pressed = st.form_submit_button(t("Train"), type="primary", icon=":material/play_arrow:")
    return from_widgets() if pressed else None


def advanced(family: str) -> None:
    a, b, c = st.columns(3)
    a.slider(t("Momentum (SGD + momentum only)"), 0.0, end("momentum"), step=0.01, key=key("momentum"))
    a.select_slider(t("Weight decay"), steps("weight_decay"), key=key("weight_decay"), format_func=lambda v: f"{v:g}")
    if uses(family, "dropout"):
        b.slider(t("Dropout"), 0.0, end("dropout"), step=0.05, key=key("dropout"),
                 help=t("Applied only between stacked layers, so it does nothing with 1 layer.")
                 if FAMILIES[family].recurrent else t("Applied inside every encoder layer, to attention and its "
                                                    "feed-forward part."))
    if uses(family, "positions"):
        a.checkbox(t("Position embedding"), key=key("positions"),
                   help=t("Off: the Transformer sees a bag of rows and cannot know their order."))
    b.number_input(t("Gradient clipping (0 = off)"), 0.0, end("clip"), step=0.5, key=key("clip"))
    c.number_input(t("Seed"), 0, end("seed"), step=1, key=key("seed"))
    _, n_test = runs.loaded()
    shares = steps("validation")
    b.select_slider(t("Held out for validation"), shares, key=key("validation"),
                    format_func={v: f"{v:.0%}" if v else t("none: test each epoch") for v in shares}.get,
                    help=t("The share of the training digits kept out of training and scored after each epoch. "
                           "With none, the test set is scored after each epoch instead, as the original lesson "
                           "does; the final score is always on the test set."))
    tests = steps("test_subset", n_test)
    c.select_slider(t("Test digits scored each epoch (without validation)"), tests, key=key("test_subset"),
                    format_func=count_label(n_test, tests))
    c.number_input(t("Log every N steps"), 1, end("log_every"), step=1, key=key("log_every"))
    if uses(family, "loss"):
        losses = choices("loss")
        c.radio(t("Loss on the answer"), list(losses), format_func=losses.get, key=key("loss"),
                help=t("The lesson trains only the answer after the last row. Trained on the answer after every "
                       "row, the classifier learns to answer early too, so the accuracy after k rows shows what the "
                       "network has learned to read by then."))
    if FAMILIES[family].recurrent:
        reading(family)
    precisions = choices("precision")
    a.selectbox(t("Precision"), list(precisions), format_func=precisions.get, key=key("precision"),
                help=t("bfloat16 runs the matrix products in 16-bit numbers on CPUs that compute them natively "
                       "(AMX, AVX512-BF16); measured once, on a Xeon with AMX, it about doubled the training speed "
                       "(docs/benchmarks.md). It rounds more than float32, and what that does to accuracy was not "
                       "measured here. Other CPUs, and every GPU, train in float32, the lesson's precision, which "
                       "also rounds: results can differ slightly between machines and thread counts."))


def reading(family: str) -> None:
    """How a recurrent model reads and answers: its read-out, both ways or one, steps per row, the weights kept."""
    a, b, c = st.columns(3)
    readouts, keeps = choices("readout"), choices("keep")
    a.selectbox(t("Read-out"), list(readouts), format_func=readouts.get, key=key("readout"),
                help=t("What the classifier reads: the output after the last row, as in the lesson, or the mean or "
                       "the maximum of the outputs after every row."))
    b.checkbox(t("Read both ways"), key=key("bidirectional"),
               help=t("A second {family} reads the lines from the last to the first; the classifier reads both. It "
                      "then has no answer after k rows: it has read them all at every step.",
                      family=t(FAMILIES[family].label)))
    c.radio(t("Steps per row"), [1, 2, 4], key=key("steps_per_row"), horizontal=True,
            help=t("Each row cut into this many pieces, one per step: 28, 56 or 112 steps for the same pixels."))
    a.radio(t("Weights kept at the end"), list(keeps), format_func=keeps.get, key=key("keep"),
            help=t("The last epoch's, or those of the epoch that scored best on the validation digits (early "
                   "stopping; it needs validation digits held out)."))
