"""Streamlit helpers shared by the pages: resources, session state, charts, translations, sidebar."""
