"""One place for each idea: an order added to lib/orders.py alone reaches every page, the form and the charts."""

from pathlib import Path

import pytest
import torch
from streamlit.testing.v1 import AppTest

from lib import orders
from lib.orders import RowOrder
from lib.train import TrainConfig

VIEWS = Path(__file__).resolve().parent.parent / "views"
INTERLEAVED = torch.tensor(list(range(0, 28, 2)) + list(range(1, 28, 2)))  # even rows first, then odd ones


@pytest.fixture()
def new_order(monkeypatch):
    entry = RowOrder("interleaved", "even rows, then odd", "Rows 0, 2, 4, … first, then 1, 3, 5, ….", 1,
                     lambda n, gen: INTERLEAVED.view(1, 28), "#56B4E9", "dot", "star")
    monkeypatch.setitem(orders.ORDERS, "interleaved", entry)
    return entry


@pytest.mark.parametrize("page", ["lesson.py", "train.py", "row_order.py", "inspect.py"])
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
    from lib.fit import fit
    cfg = TrainConfig(hidden=8, layers=1, epochs=1, batch_size=50, device="cpu", order="interleaved").validate()
    fitted = fit(cfg, tiny)
    assert fitted.scores["order"] == "interleaved" and fitted.scores["n"] == len(tiny.test_y)
    assert not new_order.per_image and orders.ORDERS["random"].per_image
