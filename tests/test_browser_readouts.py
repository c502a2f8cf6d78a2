"""Browser test of the read-out comparison (issue 27) in both languages: on Row order, the chart of the shipped models
that read the rows differently (the mean or maximum of every step's output, both ways) beside the lesson's last step,
their accuracy after k rows, and the caption answering the two questions; on the Conclusion, the same answers after
the order prediction. What Chromium draws is checked against lib.experiments.readouts on the shipped cards: every
series and error bar, and every number the sentences quote. axe-core finds nothing serious on either page.
"""

from __future__ import annotations

import pytest
from test_accessibility import check, go, new_page
from test_browser import answer, launched_chromium, no_exception, running_server, settle

from lib.experiments.readouts import both_ways, early_answers, readout_table
from lib.storage.documents import shipped_cards

pytestmark = [pytest.mark.browser, pytest.mark.timeout(600)]

CONCLUSION = {"en": "The lesson's conclusion, put to the test", "zh": "检验原教程的结论"}
ROW_ORDER = {"en": "Does row order matter?", "zh": "行顺序重要吗？"}
# each plotted series with a legend entry: its name, values and error bars as the browser holds them
SERIES = "el => el.data.filter(s => s.showlegend !== false).map(s => ({y: s.y, errors: (s.error_y || {}).array}))"


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    yield from running_server(tmp_path_factory, "readouts-server")


@pytest.fixture(scope="module")
def browser(server):
    yield from launched_chromium()


@pytest.fixture(scope="module")
def table() -> dict:
    found = readout_table(shipped_cards())
    assert {"last", "mean", "max", "both"} <= set(found["acc"]), "ship the read-out models first (make-pretrained)"
    return found


@pytest.fixture(scope="module")
def numbers(table, mnist) -> list[str]:
    """Every number the two answers quote, formatted as the sentences format them (the same in both languages), on
    the test digits the server reads (the full set's or the shipped sample's: the same digits)."""
    labels, found = mnist.test_y.tolist(), []
    for variant in ("mean", "max"):
        if (early := early_answers(table, variant)) is not None:
            found += [f"{early['variant']:.1%}", f"{early['last']:.1%}"]
    for order in ("random", "forward"):  # where the order carries nothing, then where it does
        if (both := both_ways(table, labels, order)) is not None:
            found += [f"{e:.2%}" for e in both["errors"]]
    return found


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_the_readout_comparison_draws_libs_numbers_and_passes_axe(browser, server, table, numbers, lang):
    page, bad = new_page(browser, lang), []
    try:
        go(page, f"{server.url}/row-order", ROW_ORDER[lang])
        chart = page.locator(".st-key-readouts .js-plotly-plot")
        chart.wait_for(timeout=120_000)
        drawn = chart.evaluate(SERIES)
        wanted = [([acc.get(o) for o in ("forward", "random")],
                   [table["margin"][v].get(o, 0) for o in ("forward", "random")]) for v, acc in table["acc"].items()]
        assert len(drawn) == len(wanted) == 4, drawn
        for series, (values, errors) in zip(drawn, wanted):
            assert series["y"] == pytest.approx(values) and series["errors"] == pytest.approx(errors)

        curves = page.locator(".st-key-readouts_rows .js-plotly-plot").evaluate(SERIES)
        by_rows = [m["forward"]["acc_by_rows"] for m in table["metrics"].values()
                   if m.get("forward", {}).get("acc_by_rows")]
        assert len(curves) == len(by_rows) >= 3  # last, mean, max: reading both ways has no answer after k rows
        assert [c["y"] for c in curves] == [pytest.approx(y) for y in by_rows]
        assert all(len(c["y"]) == 28 for c in curves)

        assert len(numbers) == 8, "both questions answered: mean and max after k rows, errors one way and both ways"
        caption = page.locator('.st-key-readouts + [data-testid="stElementContainer"]').inner_text()
        missing = [n for n in numbers if n not in caption]
        assert not missing, f"the caption under the read-out chart does not quote {missing} ({lang}): {caption}"
        no_exception(page, f"row order ({lang})")
        bad += check(page, f"row order, read-outs · {lang}")

        go(page, f"{server.url}/conclusion", CONCLUSION[lang])
        answer(page, "predict_order")
        settle(page)
        paragraphs = page.locator('[data-testid="stMain"] [data-testid="stMarkdownContainer"]').all_inner_texts()
        assert any(all(n in p for n in numbers) for p in paragraphs), \
            f"no paragraph of the Conclusion quotes all of {numbers} ({lang})"
        no_exception(page, f"conclusion after the order prediction ({lang})")
        bad += check(page, f"conclusion, read-outs · {lang}")
    finally:
        page.context.close()
    assert bad == [], "serious or critical accessibility violations:\n" + "\n".join(bad)

