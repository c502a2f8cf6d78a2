"""Two languages: catalogs in sync with the source, every lib message in both languages, and pages with no English
on a Chinese screen beyond the names that stay (LSTM, MNIST, …)."""

import importlib.util
import json
import re
import string
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from lib.messages import TEXT, Message, Term
from lib.models.families import FAMILIES
from ui import i18n

ROOT = Path(__file__).resolve().parent.parent
PAGES = ["lesson.py", "train.py", "row_order.py", "inspector.py", "conclusion.py", "classroom.py"]
# Words that stay as they are in Chinese text: names, units, file formats, and the app's own name.
NAMES = {*FAMILIES, "mnist", "pytorch", "sgd", "adam", "adamw", "cpu", "gpu", "mps",
         "cuda", "nvidia", "apple", "bfloat16", "float32", "tanh", "linear", "one-cycle", "mb", "json", "toml", "nan",
         "inf", "gb", "amx", "safetensors", "config", "row", "by", "auto", "h", "c", "true", "false", "pytorch note",
         "note", "note38", "x", "dropout", "gzip", "streamlit", "python", "torchvision", "idx", "rgba", "avx512",
         "bf16", "xeon", "epyc", "amd", "mcnemar", "ray", "softmax", "cudnn"}


def load_tool():
    spec = importlib.util.spec_from_file_location("catalogs", ROOT / "locale" / "catalogs.py")
    tool = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(tool)
    return tool


def english_words(text: str) -> list[str]:
    """Latin words in `text` that are not names which stay as they are (placeholders and code are left out)."""
    text = re.sub(r"`[^`]*`", " ", text)  # inline code
    text = re.sub(r"python -m [\w.]+( --?[\w-]+| [a-z][\w-]*)*", " ", text)  # a command named as text
    text = re.sub(r"\S*/\S*", " ", text)  # paths and file names (MNIST/raw/…, data/)
    text = re.sub(r"\b(MNIST_ROOT|ROW_BY_ROW_\w+|Row by Row)\b", " ", text)
    text = re.sub(r"\b[a-z0-9]+(-[a-z0-9]+)+\b", lambda m: " " if m.group(0) in NAMES else m.group(0).replace("-", " "),
                  text)  # a hyphenated id (lstm-forward) is English unless it is a name that stays (one-cycle)
    words = re.findall(r"[A-Za-z][A-Za-z0-9.]*", text)
    return [w for w in words if w.lower().strip(".") not in NAMES and len(w.strip(".")) > 1]


@pytest.mark.parametrize("lang", ["zh"])
def test_catalog_is_in_sync_with_the_source_translated_and_compiled(lang):
    """Fails when a source string has no translation, or a catalog entry no longer has a source, or the .mo is old."""
    problems = load_tool().problems(lang)
    assert problems == {"missing": [], "obsolete": [], "untranslated": [], "stale_mo": []}


def literal_calls() -> set[tuple]:
    """(context, text) of every t/tn/tc call with literal text, found by the AST (which sees into f-strings too)."""
    import ast
    found = set()
    for path in [ROOT / "streamlit_app.py", *(ROOT / "views").glob("*.py"), *(ROOT / "ui").glob("*.py")]:
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Call) and getattr(node.func, "id", None) in ("t", "tn", "tc") and node.args:
                args = [a.value if isinstance(a, ast.Constant) else None for a in node.args]
                context = args[0] if node.func.id == "tc" else None
                text = args[1] if node.func.id == "tc" else args[0]
                if isinstance(text, str):
                    found.add((context, text))
    return found


def test_every_literal_call_is_in_the_catalog():
    """The extractor cannot see a call inside an f-string; the AST can. Each must be found by both."""
    catalog = {load_tool().key(m) for m in load_tool().read("zh") if m.id}
    assert len(literal_calls()) > 150
    assert sorted(literal_calls() - catalog, key=str) == []


def placeholders(text: str) -> set[str]:
    return {field for _, field, spec, _ in string.Formatter().parse(text) if field is not None} - {""}


def test_translations_keep_their_placeholders_and_chinese_punctuation():
    catalog = load_tool().read("zh")
    for m in catalog:
        if not m.id:
            continue
        sources = m.id if isinstance(m.id, tuple) else (m.id,)
        targets = m.string if isinstance(m.string, tuple) else (m.string,)
        assert all(placeholders(target) == placeholders(sources[-1]) for target in targets), m.id
        assert not re.search(r"[\u4e00-\u9fff][,;:?!]", targets[0]), (m.id, targets[0])  # half-width after Chinese
        assert not re.search(r"\d %|\} %", targets[0]), (m.id, targets[0])  # 98.15%, not 98.15 %
        assert not any(re.search(r"\d %|\} %", source) for source in sources), m.id  # the same in English, as the
        # numbers the app formats itself ({acc:.2%}) are written


def sample_values(template: str) -> dict:
    """Plausible values for a message's placeholders (numbers where a format spec asks for one)."""
    values = {}
    for _, field, spec, _ in string.Formatter().parse(template):
        if not field:
            continue
        if spec:
            values[field] = 0.25 if spec.endswith(("%", "f", "g")) else 1234
        elif field in ("setting",):
            values[field] = Term("the hidden size")
        elif field in ("choices",):
            values[field] = [Term("SGD"), Term("Adam")]
        elif field in ("why", "problem"):
            values[field] = Message("setting.finite", {})
        elif field in ("optimizer",):
            values[field] = Term("SGD + momentum")
        elif field in ("kind",):
            values[field] = Message("kind.int", {})
        else:
            values[field] = "42"
    return values


@pytest.mark.parametrize("message_id", sorted(TEXT))
def test_every_lib_message_renders_in_both_languages(message_id, monkeypatch):
    message = Message(message_id, sample_values(TEXT[message_id]))
    english = message.render()
    assert "{" not in english
    monkeypatch.setattr(i18n, "language", lambda: "zh")
    chinese = i18n.tr(message)
    assert re.search(r"[\u4e00-\u9fff]", chinese) or message_id in ("setting.one_of",), chinese
    assert english_words(chinese) == [], chinese


def test_a_diverged_run_reads_in_chinese(monkeypatch):
    from lib.training.config import TrainConfig
    from lib.training.train import _Clock, _diverged
    event = json.loads(json.dumps(_diverged(TrainConfig(lr=50.0), 1, 10, 410.0, _Clock())))  # as in the job log
    monkeypatch.setattr(i18n, "language", lambda: "zh")
    text = i18n.tr(Message.from_dict(event["message"]))
    assert "学习率 50" in text and "SGD" in text and english_words(text) == []


def texts(node) -> list[str]:
    """Every string a person can see in an AppTest element tree: labels, values, options, help, chart text."""
    found = []
    proto = getattr(node, "proto", None)
    if proto is not None and getattr(node, "type", "") not in ("code",):
        found += _proto_strings(proto)
    for child in getattr(node, "children", {}).values() if isinstance(getattr(node, "children", None), dict) else []:
        found += texts(child)
    return found


SKIP_FIELDS = {"id", "form_id", "type", "key", "format", "language", "icon", "url", "data", "arrow_data",
               "spec_id", "theme", "selection_mode", "file_id", "selection", "column_order", "deprecation", "tag", "engine"}


def _proto_strings(message) -> list[str]:
    out = []
    for field, value in message.ListFields():
        if field.name in SKIP_FIELDS:
            continue
        if field.name == "spec" and value.lstrip().startswith("{"):  # plotly: titles, trace names, hover text
            out += _plotly_text(json.loads(value))
        elif field.name == "spec":  # graphviz DOT: its node labels
            out += re.findall(r'label="([^"]*)"', value)
        elif field.name == "column_config" or field.name == "columns":
            out += re.findall(r'"label":\s*"([^"]*)"', value if isinstance(value, str) else "")
        elif isinstance(value, str) and not re.fullmatch(r"[0-9a-f]{32,}", value):  # ids are not text
            out.append(value)
        elif hasattr(value, "ListFields"):
            out += _proto_strings(value)
        elif isinstance(value, (list, tuple)) or hasattr(value, "__len__") and not isinstance(value, (bytes,)):
            for item in value:
                if isinstance(item, str):
                    out.append(item)
                elif hasattr(item, "ListFields"):
                    out += _proto_strings(item)
    return out


def _plotly_text(spec: dict) -> list[str]:
    out = []

    def walk(value, key=""):
        if isinstance(value, dict):
            for k, v in value.items():
                walk(v, k)
        elif isinstance(value, list):
            for v in value:
                walk(v, key)
        elif isinstance(value, str) and key in ("text", "name", "hovertemplate", "title"):
            out.append(re.sub(r"%\{[^}]*\}|<extra></extra>|<[^>]+>", " ", value))

    walk({k: spec.get(k) for k in ("data", "layout")})
    return out


@pytest.mark.parametrize("page", PAGES)
def test_pages_render_in_chinese_with_no_english_left(page, mnist):
    at = AppTest.from_file(str(ROOT / "views" / page), default_timeout=120)
    at.query_params["lang"] = "zh"
    at.run()
    assert not at.exception
    assert re.search(r"[\u4e00-\u9fff]", at.title[0].value)
    seen = texts(at.main) + texts(at.sidebar)
    leftovers = sorted({w for text in seen for w in english_words(text)} - {"Language", "English"})  # the switch
    assert leftovers == []
    spaced = [text for text in seen if re.search(r"[。；！？] ", text)]  # sentences joined with ui.i18n.sentences()
    assert spaced == [], spaced[:3]


def test_the_browser_language_is_the_default(mnist, monkeypatch):
    monkeypatch.setattr(i18n, "browser_language", lambda: "zh")
    at = AppTest.from_file(str(ROOT / "views" / "lesson.py"), default_timeout=120).run()
    assert at.title[0].value.startswith("Row by Row：") and at.query_params["lang"] == "zh"


def test_language_switch_keeps_choice_in_url(mnist):
    at = AppTest.from_file(str(ROOT / "views" / "lesson.py"), default_timeout=120).run()
    assert at.title[0].value.startswith("Row by Row: an RNN")
    at.sidebar.selectbox(key="lang_choice").set_value("zh").run()
    assert at.query_params["lang"] == "zh"
    assert at.title[0].value.startswith("Row by Row：")


def test_language_survives_page_changes(mnist):
    at = AppTest.from_file(str(ROOT / "views" / "lesson.py"), default_timeout=120)
    at.session_state["lang"] = "zh"  # chosen earlier in this session; the new page's URL has no ?lang=
    at.run()
    assert at.title[0].value.startswith("Row by Row：") and at.query_params["lang"] == "zh"


@pytest.mark.parametrize("lang, joined", [("en", "One. Two."), ("zh", "一。二。")])
def test_sentences_are_joined_as_the_language_writes_them_and_empty_ones_left_out(monkeypatch, lang, joined):
    monkeypatch.setattr(i18n, "language", lambda: lang)
    one, two = ("One.", "Two.") if lang == "en" else ("一。", "二。")
    assert i18n.sentences(one, "", two) == joined
    assert i18n.sentences("", "") == ""


def test_every_shipped_model_and_widget_option_is_offered_in_chinese(mnist):
    """Inspect's model picker lists every shipped model; in Chinese none of them, and no option of any widget on the
    Train form, may show an English id (lstm-forward) or label."""
    pages = {"inspector.py": "inspect_model", "train.py": None}
    for page, picker in pages.items():
        at = AppTest.from_file(str(ROOT / "views" / page), default_timeout=120)
        at.query_params["lang"] = "zh"
        at.run()
        widgets = [*at.selectbox, *at.radio, *at.select_slider, *at.multiselect]
        options = [str(o) for w in widgets for o in (w.options or [])]
        if picker:
            shown = next(w for w in widgets if w.key == picker).options
            assert len([o for o in shown if "自带" in o]) >= 16  # every shipped model is offered, titled in Chinese
        leftovers = sorted({w for text in options for w in english_words(text)} - {"Language", "English"})
        assert leftovers == [], (page, leftovers)
