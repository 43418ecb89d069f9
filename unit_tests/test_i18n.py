"""The translations are complete, current and keep every placeholder of their template."""

import re
from pathlib import Path

import polib
import pytest

I18N = Path(__file__).resolve().parent.parent / "i18n"
POT = I18N / "account_payment_followup.pot"
LANGUAGES = ["it", "fr", "vi", "de", "es", "nl"]

# Placeholders a translation must keep as they are: printf-style, inline templates,
# QWeb expressions and attributes, and HTML tags (a translator may move, not drop them).
PLACEHOLDER_PATTERNS = [
    re.compile(r"%\([a-z_]+\)[sd]"),
    re.compile(r"%[sd]"),
    re.compile(r"\{\{.*?\}\}", re.S),
    re.compile(r"""\bt-[a-z-]+=(?:"[^"]*"|'[^']*')"""),
    re.compile(r"<(/?[a-zA-Z][a-zA-Z0-9]*)\b"),
]


def placeholders(text):
    found = []
    for pattern in PLACEHOLDER_PATTERNS:
        found.extend(pattern.findall(text))
    return sorted(found)


def entries(catalog):
    return {(entry.msgctxt, entry.msgid) for entry in catalog if not entry.obsolete}


@pytest.fixture(scope="module")
def template():
    assert POT.exists(), "i18n/account_payment_followup.pot is missing: export it from Odoo"
    return polib.pofile(str(POT))


def test_template_has_the_addon_strings(template):
    msgids = {entry.msgid for entry in template}
    for expected in ("Follow-up Levels", "Follow-up Reports", "In need of action", "Exclude from Follow-ups"):
        assert expected in msgids


@pytest.mark.parametrize("lang", LANGUAGES)
def test_po_delivered(lang):
    assert (I18N / f"{lang}.po").exists(), f"i18n/{lang}.po is missing"


def test_no_english_po():
    assert not (I18N / "en.po").exists()


@pytest.mark.parametrize("lang", LANGUAGES)
def test_po_matches_template(template, lang):
    catalog = polib.pofile(str(I18N / f"{lang}.po"))
    assert entries(catalog) == entries(template), f"{lang}.po is out of date with the template"


@pytest.mark.parametrize("lang", LANGUAGES)
def test_po_complete_and_not_fuzzy(lang):
    catalog = polib.pofile(str(I18N / f"{lang}.po"))
    assert catalog.metadata.get("Language") == lang or catalog.metadata.get("Language", "").startswith(lang)
    empty = [entry.msgid for entry in catalog if not entry.obsolete and not entry.msgstr]
    fuzzy = [entry.msgid for entry in catalog if "fuzzy" in entry.flags]
    assert not empty, f"{lang}.po: {len(empty)} untranslated, e.g. {empty[:3]}"
    assert not fuzzy, f"{lang}.po: {len(fuzzy)} fuzzy, e.g. {fuzzy[:3]}"


@pytest.mark.parametrize("lang", LANGUAGES)
def test_po_keeps_placeholders(lang):
    catalog = polib.pofile(str(I18N / f"{lang}.po"))
    broken = [
        entry.msgid
        for entry in catalog
        if not entry.obsolete and entry.msgstr and placeholders(entry.msgid) != placeholders(entry.msgstr)
    ]
    assert not broken, f"{lang}.po changes placeholders in {len(broken)} entries, e.g. {broken[:2]}"


def test_placeholder_detection():
    assert placeholders('Dear <t t-out="object.name"/>, %(amount)s {{ object.name }}') == sorted(
        ["%(amount)s", "{{ object.name }}", 't-out="object.name"', "t"]
    )
