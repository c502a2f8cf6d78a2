"""Upload a model exported by the app (weights + card): size-capped, validated, never unpickled."""

from __future__ import annotations

import streamlit as st

from lib.storage.checkpoints import MAX_BYTES, MB, CheckpointError, from_bytes
from ui import state
from ui.i18n import t, tr_all

KEEP = 3  # uploaded models kept per session (oldest dropped first)


def uploads() -> dict[str, tuple]:
    """This session's uploaded models: name -> (model, card)."""
    return st.session_state.setdefault("uploads", {})


def upload_box() -> None:
    """Two file pickers; a valid pair becomes a model to inspect, a bad one a clear message."""
    with st.expander(t("Upload a model exported by Row by Row (.safetensors + .json)"), icon=":material/upload:"):
        left, right = st.columns(2)
        weights = left.file_uploader(t("Weights (.safetensors)"), type=["safetensors"], key="upload_weights",
                                     max_upload_size=MAX_BYTES // MB)
        card = right.file_uploader(t("Card (.json)"), type=["json"], key="upload_card", max_upload_size=1)
        if weights is None or card is None:
            st.caption(t("Both files come from the Train page's download buttons (or the command {command}). Nothing "
                         "in them is executed: weights are plain tensors, the card is JSON.",
                         command="python -m lib.cli train --out"))  # as text: inline code in a caption is too faint
            return
        signature = (weights.file_id, card.file_id)
        if st.session_state.get("upload_signature") != signature:
            st.session_state["upload_signature"] = signature
            st.session_state["upload_error"] = _load(weights.getvalue(), card.getvalue(), weights.name)
        if st.session_state["upload_error"]:
            st.error(t("This model could not be loaded: {why}", why=tr_all(st.session_state["upload_error"])))
        else:
            st.success(t("Loaded. It is selected in the model list above."))


def forget(name: str) -> None:
    """Drop an uploaded model and the analyses the Inspect page cached for it."""
    uploads().pop(name, None)
    state.analyses().pop(f"upload:{name}", None)


def _load(weights: bytes, card: bytes, filename: str) -> list:
    """Validate and keep an uploaded model; returns why it cannot be used (lib Messages), or [] when it worked."""
    try:
        model, parsed = from_bytes(weights, card)
    except CheckpointError as exc:  # the surface's own error only: anything else is a bug, and should show as one
        return exc.messages
    name = f"{parsed.get('name') or filename} · {filename}"
    kept = uploads()
    forget(name)  # a new file under a known name: its old scores must not show for it
    kept[name] = (model, parsed)
    while len(kept) > KEEP:
        forget(next(iter(kept)))
    st.session_state["inspect_model"] = f"upload:{name}"
    return []
