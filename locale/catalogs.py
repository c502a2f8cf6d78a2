"""The translation catalogs: extract the English source text, update each language's .po, compile the .mo.

    python locale/catalogs.py update      # after changing English text: new entries appear untranslated, gone ones go
    python locale/catalogs.py compile     # after translating: writes each LANG/LC_MESSAGES/messages.mo
    python locale/catalogs.py add LANG    # start a new language (e.g. ja), then translate its .po
    python locale/catalogs.py check       # what the test suite checks: in sync, all translated, compiled

Needs Babel (requirements-dev.txt); the app itself reads the compiled .mo files with Python's gettext.
"""

from __future__ import annotations

import io
import sys
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po, write_po

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
DOMAIN = "messages"
KEYWORDS = {"t": None, "tn": (1, 2), "tc": ((1, "c"), 2), "N_": None, "NN_": (1, 2)}  # ui.i18n's functions and lib's marker
SOURCES = ["lib/**.py", "ui/**.py", "views/**.py", "streamlit_app.py"]  # what people see; not tests or benchmarks


def extract() -> Catalog:
    """Every marked English string in the app's source, with its plural and context."""
    template = Catalog(domain=DOMAIN, project="Row by Row", fuzzy=False)
    method_map = [(pattern, "python") for pattern in SOURCES]
    for _file, _line, message, comments, context in extract_from_dir(ROOT, method_map, keywords=KEYWORDS):
        template.add(message, None, auto_comments=comments, context=context)
    return template


def po_path(lang: str) -> Path:
    return HERE / lang / "LC_MESSAGES" / f"{DOMAIN}.po"


def languages() -> list[str]:
    return sorted(p.name for p in HERE.iterdir() if (p / "LC_MESSAGES" / f"{DOMAIN}.po").is_file())


def read(lang: str) -> Catalog:
    with open(po_path(lang), "rb") as fh:
        return read_po(fh)


def write(catalog: Catalog, lang: str) -> None:
    po_path(lang).parent.mkdir(parents=True, exist_ok=True)
    with open(po_path(lang), "wb") as fh:
        write_po(fh, catalog, width=0, no_location=True, omit_header=False, ignore_obsolete=True)


def compiled(catalog: Catalog) -> bytes:
    out = io.BytesIO()
    write_mo(out, catalog)
    return out.getvalue()


def update() -> None:
    template = extract()
    for lang in languages():
        catalog = read(lang)
        catalog.update(template, no_fuzzy_matching=True)  # a changed English text must be translated afresh
        write(catalog, lang)


def compile_all() -> None:
    for lang in languages():
        po_path(lang).with_suffix(".mo").write_bytes(compiled(read(lang)))


def add(lang: str) -> None:
    catalog = Catalog(locale=lang, domain=DOMAIN, project="Row by Row", fuzzy=False)
    catalog.update(extract(), no_fuzzy_matching=True)
    write(catalog, lang)


def key(message) -> tuple:
    msgid = message.id if isinstance(message.id, str) else message.id[0]
    return message.context, msgid


def problems(lang: str) -> dict[str, list]:
    """What is wrong with one language's catalog; every list empty means it is in sync, whole and compiled."""
    source = {key(m) for m in extract() if m.id}
    catalog = read(lang)
    entries = {key(m): m for m in catalog if m.id}
    untranslated = [k for k, m in entries.items()
                    if m.fuzzy or not (all(m.string) if isinstance(m.string, tuple) else m.string)]
    mo = po_path(lang).with_suffix(".mo")
    return {"missing": sorted(source - set(entries), key=str), "obsolete": sorted(set(entries) - source, key=str),
            "untranslated": sorted(untranslated, key=str),
            "stale_mo": [] if mo.is_file() and mo.read_bytes() == compiled(catalog) else [str(mo)]}


def main(argv: list[str]) -> int:
    command = argv[0] if argv else "check"
    if command == "update":
        update()
    elif command == "compile":
        compile_all()
    elif command == "add" and len(argv) == 2:
        add(argv[1])
    elif command == "check":
        found = {lang: {k: v for k, v in problems(lang).items() if v} for lang in languages()}
        for lang, issues in found.items():
            for kind, items in issues.items():
                print(f"{lang}: {len(items)} {kind}: {items[:5]}")
        return 1 if any(found.values()) else 0
    else:
        print(__doc__)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
