"""The Train page's settings form: a config goes into the widgets and comes back out here, and nowhere else."""

from __future__ import annotations

import streamlit as st

from lib.data.orders import ORDERS
from lib.models.families import FAMILIES, OPTIONAL, uses
from lib.training.devices import available_devices
from lib.training.train import LOSSES, OPTIMIZERS, PRECISIONS, SCHEDULERS, TrainConfig
from ui import resources, training
from ui.i18n import labels, sentences, t

HIDDEN = [8, 16, 32, 64, 100, 128, 192, 256, 384, 512, 768, 1024]
LRS = [0.0001, 0.0003, 0.001, 0.003, 0.005, 0.01, 0.03, 0.1, 0.3, 1.0, 3.0, 10.0, 50.0]
BATCHES = [16, 32, 64, 128, 256, 512, 1024]
SUBSETS = [500, 1000, 2000, 5000, 10000, 20000, 30000]  # plus "all" (however many digits are loaded)
TEST_SUBSETS = [500, 1000, 2000, 5000]
DECAYS = [0.0, 1e-5, 1e-4, 1e-3, 1e-2]
VALIDATION = [0.0, 0.05, 0.1, 0.2]  # shares of the training digits held out to score each epoch
MAX_DROPOUT = 0.9  # the slider's end; a link asking for more is shown here (and trained) at this value
WIDGET_MAX = {"dropout": MAX_DROPOUT, "momentum": 0.99, "clip": 100.0, "log_every": 1000, "seed": 2**31 - 1}


def key(field: str) -> str:
    return f"form_{field}"


def to_widgets(cfg: TrainConfig) -> None:
    """Put a config into the form's widgets (before they are drawn). The one place for the way in.

    0 = all digits shows as the loaded count ("all N"); sliders cannot show values past the classroom limits, so
    those are clamped here and the submit check explains any limit a link asked to pass.
    """
    n_train, n_test = training.loaded()
    for field, value in cfg.to_dict().items():
        st.session_state[key(field)] = value
    st.session_state[key("subset")] = min(cfg.subset or n_train, n_train)
    st.session_state[key("test_subset")] = min(cfg.test_subset or n_test, n_test)
    s = resources.settings()
    st.session_state[key("layers")] = min(cfg.layers, s.max_layers)
    for field, high in WIDGET_MAX.items():  # a valid link may ask for more than a widget shows (dropout 0.99)
        st.session_state[key(field)] = min(getattr(cfg, field), high)
    st.session_state[key("epochs")] = min(cfg.epochs, s.max_epochs)


def from_widgets() -> TrainConfig:
    """The config the form shows. The one place for the way out: "all N" digits becomes 0 = all, as in a preset."""
    values = {f: st.session_state[key(f)] for f in TrainConfig.__dataclass_fields__ if key(f) in st.session_state}
    default = TrainConfig()
    for option in OPTIONAL:  # hidden for this family: left at the default, as on a link
        if values.get("cell") in FAMILIES and not uses(values["cell"], option):
            values[option] = getattr(default, option)
    n_train, n_test = training.loaded()
    values["subset"] = 0 if values.get("subset", 0) >= n_train else values["subset"]
    values["test_subset"] = 0 if values.get("test_subset", 0) >= n_test else values["test_subset"]
    return TrainConfig.from_dict(values)


def options(values: list, current) -> list:
    """A slider's choices, including the current value if it came from a preset or a link."""
    return sorted(set(values) | {current})


def count_options(values: list[int], n_all: int, most: int, current: int) -> list[int]:
    """Digit counts to offer: those below what is loaded, then 'all' (n_all), none above the classroom cap."""
    return options([n for n in values + [n_all] if n <= min(n_all, most)], current)


def count_label(n_all: int, choices: list[int]):
    """Each count's label (the largest reads "all 10,000"), translated now: see ui.i18n.labels."""
    return {n: t("all {n:,}", n=n_all) if n >= n_all else f"{n:,}" for n in choices}.get


def family_picker() -> str:
    """The model family, above the form: choosing one redraws the form with only the settings it has."""
    names = labels({f: v.label for f, v in FAMILIES.items()})
    cell = st.radio(t("Model family"), list(FAMILIES), format_func=names.get, key=key("cell"), horizontal=True)
    st.caption(t("{family}: {summary}.", family=t(FAMILIES[cell].label), summary=t(FAMILIES[cell].summary)))
    return cell


def settings_form() -> TrainConfig | None:
    """The family picker and the form; returns a config only when Train was pressed."""
    s = resources.settings()
    cell = family_picker()
    with st.form("train_form", border=True):
        a, b, c = st.columns(3)
        a.select_slider(t("Hidden size"), options([h for h in HIDDEN if h <= s.max_hidden],
                                                  st.session_state[key("hidden")]), key=key("hidden"))
        a.slider(t("Layers"), 1, s.max_layers, key=key("layers"))
        a.selectbox(t("Row order"), list(ORDERS), format_func=labels({o: v.title for o, v in ORDERS.items()}).get,
                    key=key("order"),
                    help=sentences(*(t("**{name}**: {explanation}", name=t(o.title), explanation=t(o.explanation))
                                     for o in ORDERS.values())))
        b.select_slider(t("Learning rate"), options(LRS, st.session_state[key("lr")]), key=key("lr"),
                        format_func=lambda v: f"{v:g}",
                        help=t("Log scale. Too high and the loss explodes (SGD) or stalls near chance (Adam)."))
        b.selectbox(t("Optimizer"), list(OPTIMIZERS), format_func=labels(OPTIMIZERS).get,
                     key=key("optimizer"))
        b.selectbox(t("Learning-rate schedule"), list(SCHEDULERS), format_func=labels(SCHEDULERS).get,
                    key=key("scheduler"))
        b.select_slider(t("Batch size"), options(BATCHES, st.session_state[key("batch_size")]),
                        key=key("batch_size"))
        c.slider(t("Epochs"), 1, s.max_epochs, key=key("epochs"))
        n_train, _ = training.loaded()
        subsets = count_options(SUBSETS, n_train, s.max_subset, st.session_state[key("subset")])
        c.select_slider(t("Training digits"), subsets, key=key("subset"),
                        format_func=count_label(n_train, subsets),
                        help=t("Balanced across the 10 classes. Fewer digits train faster."))
        device_labels = labels(available_devices())  # asked once per run: it probes CUDA and MPS
        c.radio(t("Device"), list(device_labels), format_func=device_labels.get, key=key("device"), horizontal=True)
        c.radio(t("Repeat with seeds"), [1, 3, 5], key="form_repeats", horizontal=True,
                help=t("Train the same settings with this many seeds (other initial weights and batches): the table "
                       "then shows their mean and spread, so you can tell a real difference from chance."))
        with st.expander(t("More settings")):
            advanced(cell)
        pressed = st.form_submit_button(t("Train"), type="primary", icon=":material/play_arrow:")
    return from_widgets() if pressed else None


def advanced(cell: str) -> None:
    a, b, c = st.columns(3)
    a.slider(t("Momentum (SGD + momentum only)"), 0.0, 0.99, step=0.01, key=key("momentum"))
    a.select_slider(t("Weight decay"), options(DECAYS, st.session_state[key("weight_decay")]),
                    key=key("weight_decay"), format_func=lambda v: f"{v:g}")
    if uses(cell, "dropout"):
        b.slider(t("Dropout"), 0.0, MAX_DROPOUT, step=0.05, key=key("dropout"),
                 help=t("Applied only between stacked layers, so it does nothing with 1 layer.")
                 if FAMILIES[cell].recurrent else t("Applied inside every encoder layer, to attention and its "
                                                    "feed-forward part."))
    if uses(cell, "positions"):
        a.checkbox(t("Position embedding"), key=key("positions"),
                   help=t("Off: the Transformer sees a bag of rows and cannot know their order."))
    b.number_input(t("Gradient clipping (0 = off)"), 0.0, 100.0, step=0.5, key=key("clip"))
    c.number_input(t("Seed"), 0, 2**31 - 1, step=1, key=key("seed"))
    _, n_test = training.loaded()
    shares = options(VALIDATION, st.session_state[key("validation")])
    b.select_slider(t("Held out for validation"), shares, key=key("validation"),
                    format_func={v: f"{v:.0%}" if v else t("none: test each epoch") for v in shares}.get,
                    help=t("The share of the training digits kept out of training and scored after each epoch. "
                           "With none, the test set is scored after each epoch instead, as the original lesson "
                           "does; the final score is always on the test set."))
    tests = count_options(TEST_SUBSETS, n_test, n_test, st.session_state[key("test_subset")])
    c.select_slider(t("Test digits scored each epoch (without validation)"), tests, key=key("test_subset"),
                    format_func=count_label(n_test, tests))
    c.number_input(t("Log every N steps"), 1, 1000, step=1, key=key("log_every"))
    if uses(cell, "loss"):
        c.radio(t("Loss on the answer"), list(LOSSES), format_func=labels(LOSSES).get, key=key("loss"),
                help=t("The lesson trains only the answer after the last row. Trained on the answer after every "
                       "row, the classifier learns to answer early too, so the accuracy after k rows shows what the "
                       "network has learned to read by then."))
    a.selectbox(t("Precision"), list(PRECISIONS), format_func=labels(PRECISIONS).get, key=key("precision"),
                help=t("bfloat16 about halves the LSTM's training time on CPUs that compute it natively (AMX); on "
                       "other CPUs the run uses float32. float32 is the lesson's precision; it also rounds, and "
                       "results can differ slightly between machines and thread counts."))
