"""One place for each idea: an order added to lib/orders.py alone, or a model family added to lib/families.py alone,
reaches every page, the form, training, checkpoints and the charts."""

import time
from pathlib import Path

import pytest
import torch
from streamlit.testing.v1 import AppTest

from lib.data import orders
from lib.data.orders import RowOrder
from lib.models import families
from lib.models.families import Family
from lib.models.nets import Classifier
from lib.training.config import TrainConfig

VIEWS = Path(__file__).resolve().parent.parent / "views"
INTERLEAVED = torch.tensor(list(range(0, 28, 2)) + list(range(1, 28, 2)))  # even rows first, then odd ones


@pytest.fixture()
def new_order(monkeypatch):
    entry = RowOrder("interleaved", "even rows, then odd", "Rows 0, 2, 4, … first, then 1, 3, 5, ….", 1,
                     lambda n, gen: INTERLEAVED.view(1, 28), "#56B4E9", "dot", "star")
    monkeypatch.setitem(orders.ORDERS, "interleaved", entry)
    return entry


@pytest.mark.parametrize("page", ["lesson.py", "train.py", "row_order.py", "inspector.py", "conclusion.py"])
@pytest.mark.parametrize("lang", ["en", "zh"])
def test_a_new_order_renders_on_every_page(new_order, page, lang, mnist):
    at = AppTest.from_file(str(VIEWS / page), default_timeout=120)
    at.query_params["lang"] = lang
    at.run()
    assert not at.exception and not at.error
    if page == "train.py":
        assert "even rows, then odd" in at.selectbox(key="form_order").options
    if page == "row_order.py":
        assert "even rows, then odd" in at.multiselect(key="exp_orders").options


def test_a_new_order_validates_trains_and_reads(new_order, tiny):
    from lib.training.fit import fit
    cfg = TrainConfig(hidden=8, layers=1, epochs=1, batch_size=50, device="cpu", order="interleaved").validate()
    fitted = fit(cfg, tiny)
    assert fitted.scores["order"] == "interleaved" and fitted.scores["n"] == len(tiny.test_y)
    assert not new_order.per_image and orders.ORDERS["random"].per_image


class Flat(Classifier):
    """A family this app does not have: every pixel at once through one hidden layer."""

    family = "mlp"

    def __init__(self, hidden: int):
        super().__init__()
        self.net = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(784, hidden), torch.nn.ReLU(),
                                       torch.nn.Linear(hidden, 10))

    def forward(self, x):
        return self.net(x)


@pytest.fixture()
def new_family(monkeypatch):
    entry = Family("MLP (test)", "looks at every pixel through one hidden layer",
                   lambda hidden, layers, dropout, positions, line=28, steps=28, **_: Flat(hidden), False)
    monkeypatch.setitem(families.FAMILIES, "mlp", entry)
    return entry


def test_a_new_family_trains_saves_and_loads_from_its_registry_entry(new_family, tiny):
    from lib.storage.checkpoints import from_bytes, to_bytes
    from lib.training.fit import fit
    cfg = TrainConfig(family="mlp", hidden=16, layers=1, epochs=1, batch_size=50, device="cpu").validate()
    fitted = fit(cfg, tiny)
    assert fitted.scores["acc_by_rows"] is None and fitted.scores["n"] == len(tiny.test_y)
    model, card = from_bytes(*to_bytes(fitted.model, {"format": "row-by-row/1", "config": cfg.to_dict()}))
    assert isinstance(model, Flat) and card["config"]["family"] == "mlp"


# ---------------------------------------------------------------- end to end, through the pages, in both languages

def page(name: str, lang: str, runs: list | None = None, **state) -> AppTest:
    at = AppTest.from_file(str(VIEWS / name), default_timeout=120)
    at.query_params["lang"] = lang
    for key, value in [*({"runs": runs} if runs is not None else {}).items(), *state.items()]:
        at.session_state[key] = value
    return at.run()


def finished(at: AppTest, timeout: float = 120) -> AppTest:
    """Rerun the page until every run of its session has ended (the heartbeat an open tab sends, meanwhile)."""
    from ui import resources

    end = time.time() + timeout
    while time.time() < end:
        runs = at.session_state["runs"] if "runs" in at.session_state else []
        if runs and all(j.finished for j in runs):
            return at.run()
        for job in runs:
            resources.jobs().touch(job.owner)
        time.sleep(0.3)
    raise AssertionError("the runs did not finish")


def through_every_page(lang: str, **form) -> None:
    """Train a tiny run from the Train form with `form`'s settings, inspect it, train it in two row orders on the Row
    order page, and find it on the Conclusion page: no exception, no error, anywhere."""
    at = page("train.py", lang)
    for key, value in {"subset": 500, "epochs": 1, "hidden": 16, **form}.items():
        widget = next(w for w in [*at.select_slider, *at.slider, *at.radio, *at.selectbox] if w.key == f"form_{key}")
        widget.set_value(value)
        if key == "family":
            at.run()  # the form redraws with the family's settings
    at = finished(next(b for b in at.button if b.key.startswith("FormSubmitter:train_form-")).click().run())
    runs = list(at.session_state["runs"])
    assert not at.exception and not at.error and [j.state for j in runs] == ["done"], [j.message for j in runs]
    job = runs[0]
    assert all(job.config.to_dict()[k] == v for k, v in form.items())
    at = page("inspector.py", lang, runs, inspect_run=job.id, inspect_mode="index")
    assert not at.exception and not at.error
    at = page("row_order.py", lang, runs, exp_base="train", exp_orders=["forward", job.config.order])
    at = finished(at.button(key="train_every_order").click().run())
    trained = list(at.session_state["runs"])
    assert not at.exception and not at.error and [j.state for j in trained] == ["done"] * 3
    assert {j.config.order for j in trained[1:]} == {"forward", job.config.order}
    at = page("conclusion.py", lang, trained)
    at.radio(key="predict_time").set_value("lstm").run()
    assert not at.exception and not at.error and "conclusion_time" in {c.key for c in at.get("plotly_chart")}


@pytest.mark.slow
@pytest.mark.parametrize("lang", ["en", "zh"])
def test_a_new_order_goes_through_every_page(new_order, lang, mnist):
    through_every_page(lang, order="interleaved")


@pytest.mark.slow
@pytest.mark.parametrize("lang", ["en", "zh"])
def test_a_new_family_goes_through_every_page(new_family, lang, mnist):
    through_every_page(lang, family="mlp")
