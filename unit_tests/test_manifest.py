"""Static checks of the addon's manifest and the files it declares.

These run without Odoo: they catch a missing or malformed data file, or a
broken translation, before the (much slower) Odoo install does.
"""

import ast
import csv
import re
from pathlib import Path

import polib
import pytest
from lxml import etree

ADDON_DIR = Path(__file__).resolve().parent.parent
MANIFEST = ast.literal_eval((ADDON_DIR / "__manifest__.py").read_text(encoding="utf-8"))
DECLARED_FILES = [
    pytest.param(key, name, id=f"{key}:{name}") for key in ("data", "demo") for name in MANIFEST.get(key, [])
]
PO_FILES = sorted((ADDON_DIR / "i18n").glob("*.po")) + sorted((ADDON_DIR / "i18n").glob("*.pot"))


def test_manifest_keys():
    """The manifest declares an Odoo 17.0 LGPL-3 addon with the expected dependencies."""
    assert re.fullmatch(r"17\.0\.\d+\.\d+\.\d+", MANIFEST["version"]), MANIFEST["version"]
    assert MANIFEST["license"] == "LGPL-3"
    assert set(MANIFEST["depends"]) >= {"account", "mail", "sms", "snailmail_account"}
    assert MANIFEST.get("installable", True) is True
    for key in ("name", "summary", "author", "website", "category"):
        assert MANIFEST.get(key), f"manifest key {key!r} is missing or empty"


def test_manifest_lists_each_file_once():
    """No file is declared twice in data/demo (Odoo would load it twice)."""
    names = [name for key in ("data", "demo") for name in MANIFEST.get(key, [])]
    assert len(names) == len(set(names)), sorted({n for n in names if names.count(n) > 1})


@pytest.mark.parametrize(("key", "name"), DECLARED_FILES)
def test_declared_file_exists_and_parses(key, name):
    """Every file in the manifest's data/demo exists and is well-formed XML or CSV."""
    path = ADDON_DIR / name
    assert path.is_file(), f"{key} file {name} does not exist"
    if path.suffix == ".xml":
        root = etree.parse(str(path)).getroot()
        assert root.tag == "odoo", f"{name}: root element is <{root.tag}>, expected <odoo>"
    elif path.suffix == ".csv":
        with path.open(newline="", encoding="utf-8") as handle:
            rows = list(csv.reader(handle))
        assert rows, f"{name} is empty"
        header = rows[0]
        assert "id" in header, f"{name}: header has no 'id' column"
        for number, row in enumerate(rows[1:], start=2):
            assert len(row) == len(header), f"{name}:{number}: {len(row)} columns, header has {len(header)}"
    else:
        pytest.fail(f"{name}: unexpected data file type {path.suffix!r}")


@pytest.mark.parametrize("path", PO_FILES, ids=[p.name for p in PO_FILES])
def test_translation_file_parses(path):
    """Every i18n/*.po(t) file is a valid gettext catalogue without duplicate entries."""
    catalogue = polib.pofile(str(path), check_for_duplicates=True)
    assert path.name != "en.po", "no en.po: English is the source language"
    for entry in catalogue.translated_entries():
        for placeholder in re.findall(r"%\(\w+\)s", entry.msgid):
            assert placeholder in entry.msgstr, f"{path.name}: {entry.msgid!r} lost {placeholder}"
