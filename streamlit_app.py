"""Row by Row: the router. Each page lives in views/; the core it draws from lives in lib/."""

import os
import sys
import time

import streamlit as st

from ui.i18n import t, tc

st.set_page_config(page_title=t("Row by Row"), page_icon="🔢", layout="wide")
pages = [
    st.Page("views/lesson.py", title=t("Lesson"), icon=":material/school:", url_path="lesson", default=True),
    st.Page("views/train.py", title=t("Train"), icon=":material/model_training:", url_path="train"),
    st.Page("views/row_order.py", title=t("Row order"), icon=":material/swap_vert:", url_path="row-order"),
    st.Page("views/inspector.py", title=t("Inspect"), icon=":material/troubleshoot:", url_path="inspect"),
    st.Page("views/conclusion.py", title=t("Conclusion"), icon=":material/balance:", url_path="conclusion"),
    st.Page("views/classroom.py", title=tc("school", "Class"), icon=":material/groups:", url_path="class"),
]
page, started = st.navigation(pages), time.perf_counter()
st.set_page_config(page_title=f"{page.title} · {t('Row by Row')}")  # the browser tab, in the visitor's language
try:
    page.run()
finally:  # ROW_BY_ROW_TIMING=1: one line per full page run, read by bench/load.py
    if os.environ.get("ROW_BY_ROW_TIMING"):
        print(f"page-run {page.url_path or 'lesson'} {time.perf_counter() - started:.3f}", file=sys.stderr, flush=True)
