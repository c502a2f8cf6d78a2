"""Row by Row: the router. Each page lives in views/; the core it draws from lives in lib/."""

import streamlit as st

from ui.i18n import t

st.set_page_config(page_title="Row by Row", page_icon="🔢", layout="wide")
pages = [
    st.Page("views/lesson.py", title=t("Lesson"), icon=":material/school:", url_path="lesson", default=True),
    st.Page("views/train.py", title=t("Train"), icon=":material/model_training:", url_path="train"),
    st.Page("views/row_order.py", title=t("Row order"), icon=":material/swap_vert:", url_path="row-order"),
    st.Page("views/inspect.py", title=t("Inspect"), icon=":material/troubleshoot:", url_path="inspect"),
]
st.navigation(pages).run()
