"""Two languages: every UI string and every lib name/message shown in the UI has a Chinese translation."""

import ast
import re
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from lib.model import CELLS
from lib.orders import ORDERS
from lib.train import PRECISIONS, PRESETS, SCHEDULERS, TrainConfig, _checks
from ui import i18n
from ui.zh import ZH

ROOT = Path(__file__).resolve().parent.parent
SOURCES = [ROOT / "streamlit_app.py", *sorted((ROOT / "views").glob("*.py")), *sorted((ROOT / "ui").glob("*.py"))]
PAGES = ["lesson.py", "train.py", "row_order.py", "inspect.py"]


def literal_keys() -> set[str]:
    keys = set()
    for path in SOURCES:
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "t" and node.args:
                if isinstance(node.args[0], ast.Constant):
                    keys.add(node.args[0].value)
    return keys


def placeholders(text: str) -> set[str]:
    return {m.split(":")[0] for m in re.findall(r"(?<!%)\{([^{}]+)\}", text)}


def test_every_ui_string_is_translated():
    keys = literal_keys()
    assert len(keys) > 150
    assert sorted(k for k in keys if k not in ZH) == []


def test_every_lib_name_and_message_is_translated():
    names = [o.title for o in ORDERS.values()] + [o.explanation for o in ORDERS.values()]
    names += [p[0] for p in PRESETS.values()] + [p[1] for p in PRESETS.values()] + list(SCHEDULERS.values())
    names += [label for _, label in CELLS.values()] + [msg for _, msg in _checks(TrainConfig())]
    names += list(PRECISIONS.values())
    assert [n for n in names if n not in ZH] == []


def test_translations_keep_their_placeholders():
    assert [k for k, v in ZH.items() if placeholders(k) != placeholders(v)] == []


def test_lib_messages_with_values_are_translated(monkeypatch):
    monkeypatch.setattr(i18n, "language", lambda: "zh")
    for message in ["Invalid settings: hidden size must be between 1 and 1024; numbers must be finite.",
                    "Training diverged at step 10: the loss became 410. The learning rate 50 is too high for SGD; "
                    "lower it (try 5 or less) or turn on gradient clipping.",
                    "hidden size is limited to 64 on this server (you asked for 512)",
                    "ignored hidden='lots': hidden must be a whole number, not 'lots'",
                    "ignored unknown setting 'colour'",
                    "the loaded data has 4,000 training digits, so this run uses all of them",
                    "the loaded data has 1,000 test digits, so this run scores all of them"]:
        out = i18n.tr(message)
        assert not re.search(r"[a-z]{4,} [a-z]{4,}", out), out  # no English sentence left


@pytest.mark.parametrize("page", PAGES)
def test_pages_render_in_chinese(page, mnist):
    at = AppTest.from_file(str(ROOT / "views" / page), default_timeout=120)
    at.query_params["lang"] = "zh"
    at.run()
    assert not at.exception
    assert re.search(r"[\u4e00-\u9fff]", at.title[0].value)


def test_language_switch_keeps_choice_in_url(mnist):
    at = AppTest.from_file(str(ROOT / "views" / "lesson.py"), default_timeout=120).run()
    assert at.title[0].value.startswith("Row by Row: an RNN")
    at.sidebar.selectbox(key="lang_choice").set_value("zh").run()
    assert at.query_params["lang"] == ["zh"]
    assert at.title[0].value.startswith("Row by Row：")


def test_language_survives_page_changes(mnist):
    at = AppTest.from_file(str(ROOT / "views" / "lesson.py"), default_timeout=120)
    at.session_state["lang"] = "zh"  # chosen earlier in this session; the new page's URL has no ?lang=
    at.run()
    assert at.title[0].value.startswith("Row by Row：") and at.query_params["lang"] == ["zh"]
