"""简体中文 translations of every UI string (English text -> Chinese)."""

ZH: dict[str, str] = {}
