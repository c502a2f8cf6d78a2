"""One place for each idea: an order added to lib/orders.py alone, or a model family added to lib/families.py alone,
reaches every page, the form, training, checkpoints and the charts."""

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


@pytest.mark.parametrize("page", ["lesson.py", "train.py", "row_order.py", "inspect.py", "conclusion.py"])
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

    def __init__(self, hidden: int):
        super().__init__()
        self.net = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(784, hidden), torch.nn.ReLU(),
                                       torch.nn.Linear(hidden, 10))

    def forward(self, x):
        return self.net(x)


@pytest.fixture()
def new_family(monkeypatch):
    entry = Family("MLP (test)", "looks at every pixel through one hidden layer",
                   lambda hidden, layers, dropout, positions, line=28, steps=28: Flat(hidden), False)
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


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_a_new_family_is_offered_and_inspected(new_family, lang, mnist):
    at = AppTest.from_file(str(VIEWS / "train.py"), default_timeout=120)
    at.query_params["lang"] = lang
    at.run()
    assert "MLP (test)" in at.radio(key="form_family").options and not at.exception
    if lang == "zh":  # AppTest cannot send back a translated selectbox (the preset): the form is exercised in English
        return
    at.radio(key="form_family").set_value("mlp").run()
    assert not at.exception and not {"form_dropout", "form_loss", "form_positions"} & \
        {w.key for w in [*at.slider, *at.radio, *at.checkbox]}
