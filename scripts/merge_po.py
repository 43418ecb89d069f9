#!/usr/bin/env python3
"""Merge the translation template into each language of i18n/.

    .venv/bin/python scripts/merge_po.py [--from REF] [LANG ...]

Each i18n/<lang>.po is rebuilt from i18n/account_payment_followup.pot: the template's
entries in its order, with their references and comments, each with the translation it
had in the .po of the working tree (or, with --from REF, in git's copy at REF, e.g. after
a merge conflict); entries no longer in the template are dropped, new ones are left
empty, for the translator (scripts/test fails until they are translated). The .po
keeps its own header. Unlike `msgmerge`, the lines are wrapped as Odoo's export wraps
them (78 columns), so a diff shows only what changed.
"""

import argparse
import subprocess
import sys
from pathlib import Path

import polib

I18N = Path(__file__).resolve().parent.parent / "i18n"
TEMPLATE = I18N / "account_payment_followup.pot"
WRAP = 78


def read_po(lang, ref=None):
    if ref is None:
        return polib.pofile(str(I18N / f"{lang}.po"), wrapwidth=WRAP)
    text = subprocess.run(
        ["git", "show", f"{ref}:i18n/{lang}.po"], cwd=I18N, check=True, capture_output=True, text=True
    ).stdout
    return polib.pofile(text, wrapwidth=WRAP)


def merge(template, old):
    """Return the .po of ``template``'s entries with ``old``'s translations and header."""
    translations = {(entry.msgctxt, entry.msgid): entry for entry in old if not entry.obsolete}
    merged = polib.POFile(wrapwidth=WRAP)
    merged.header = old.header
    merged.metadata = old.metadata
    for source in template:
        entry = polib.POEntry(
            msgctxt=source.msgctxt,
            msgid=source.msgid,
            msgstr="",
            occurrences=source.occurrences,
            comment=source.comment,
            flags=[flag for flag in source.flags if flag != "fuzzy"],
        )
        known = translations.get((source.msgctxt, source.msgid))
        if known is not None and "fuzzy" not in known.flags:
            entry.msgstr = known.msgstr
            entry.tcomment = known.tcomment
        merged.append(entry)
    return merged


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--from", dest="ref", help="take the translations from git's i18n/ at REF")
    parser.add_argument("langs", nargs="*", help="languages (default: every i18n/*.po)")
    args = parser.parse_args(argv)
    template = polib.pofile(str(TEMPLATE), wrapwidth=WRAP)
    langs = args.langs or sorted(path.stem for path in I18N.glob("*.po"))
    for lang in langs:
        merged = merge(template, read_po(lang, args.ref))
        merged.save(str(I18N / f"{lang}.po"))
        empty = sum(1 for entry in merged if not entry.msgstr)
        print(f"i18n/{lang}.po: {len(merged)} entries, {empty} to translate")
    return 0


if __name__ == "__main__":
    sys.exit(main())
