"""The SMS counts of ``models/followup_sms.py``, as Odoo's SMS widget counts them."""
import importlib.util
from pathlib import Path

SPEC = importlib.util.spec_from_file_location(
    "followup_sms", Path(__file__).resolve().parent.parent / "models" / "followup_sms.py"
)
followup_sms = importlib.util.module_from_spec(SPEC)
SPEC.loader.exec_module(followup_sms)


def test_gsm7_counts():
    assert followup_sms.sms_count("") == 0
    assert followup_sms.sms_count("a" * 160) == 1
    assert followup_sms.sms_count("a" * 161) == 2
    assert followup_sms.sms_count("a" * 306) == 2
    assert followup_sms.sms_count("a" * 307) == 3


def test_unicode_counts():
    assert not followup_sms.is_gsm7("reçu")
    assert followup_sms.sms_count("ç" * 70) == 1
    assert followup_sms.sms_count("ç" * 71) == 2
    assert followup_sms.sms_count("ç" * 135) == 3


def test_extension_characters_count_two():
    assert followup_sms.is_gsm7("€")
    assert followup_sms.sms_length("10 €") == 5
    assert followup_sms.sms_count("€" * 80) == 1
    assert followup_sms.sms_count("€" * 81) == 2


def test_no_break_spaces_become_plain_when_that_makes_gsm7():
    """A 168-character reminder with a no-break space: 3 SMS in Unicode, 2 in GSM-7."""
    text = "Dear Deco, we have not yet received $\u00a01,234.00 overdue. " + "x" * 112
    assert len(text) == 168
    assert followup_sms.sms_count(text) == 3
    plain = followup_sms.to_gsm7_spaces(text)
    assert plain == text.replace("\u00a0", " ")
    assert followup_sms.sms_count(plain) == 2


def test_unicode_text_keeps_its_spaces():
    text = "Kính gửi\u00a0Deco"
    assert followup_sms.to_gsm7_spaces(text) == text
