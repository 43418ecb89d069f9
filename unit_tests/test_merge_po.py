"""scripts/merge_po.py keeps the template's entries with the translations they had."""

import importlib.util
from pathlib import Path

import polib

SCRIPT = Path(__file__).resolve().parent.parent / "scripts" / "merge_po.py"
spec = importlib.util.spec_from_file_location("merge_po", SCRIPT)
merge_po = importlib.util.module_from_spec(spec)
spec.loader.exec_module(merge_po)


def catalog(*entries, header=""):
    po = polib.POFile()
    po.header = header
    po.metadata = {"Language": "fr"}
    for entry in entries:
        po.append(polib.POEntry(**entry))
    return po


def test_merge_keeps_translations_drops_old_and_fuzzy_adds_new():
    template = catalog(
        {"msgid": "Due Date", "occurrences": [("models/a.py", "")], "comment": "module: x"},
        {"msgid": "Hold", "msgctxt": "ctx"},
        {"msgid": "New text"},
        {"msgid": "Was fuzzy"},
    )
    old = catalog(
        {"msgid": "Due Date", "msgstr": "Date d'échéance", "occurrences": [("old.py", "")]},
        {"msgid": "Hold", "msgstr": "sans contexte"},
        {"msgid": "Hold", "msgctxt": "ctx", "msgstr": "Suspendre"},
        {"msgid": "Removed", "msgstr": "Supprimé"},
        {"msgid": "Was fuzzy", "msgstr": "Flou", "flags": ["fuzzy"]},
        header="French translation",
    )
    merged = merge_po.merge(template, old)
    assert [(e.msgctxt, e.msgid, e.msgstr) for e in merged] == [
        (None, "Due Date", "Date d'échéance"),
        ("ctx", "Hold", "Suspendre"),
        (None, "New text", ""),
        (None, "Was fuzzy", ""),
    ]
    assert merged[0].occurrences == [("models/a.py", "")]
    assert merged[0].comment == "module: x"
    assert (merged.header, merged.metadata) == ("French translation", {"Language": "fr"})


def test_merge_of_the_addon_is_stable():
    """Merging the addon's template into its own .po files changes nothing."""
    template = polib.pofile(str(merge_po.TEMPLATE), wrapwidth=merge_po.WRAP)
    for path in sorted(merge_po.I18N.glob("*.po")):
        merged = merge_po.merge(template, polib.pofile(str(path), wrapwidth=merge_po.WRAP))
        assert str(merged) == path.read_text(encoding="utf-8"), path.name
