"""What an SMS costs: its encoding and its number of parts, as Odoo's SMS widget counts them.

Pure Python (no ``odoo`` import). Odoo 17 counts SMS in the browser only
(``sms/static/src/components/sms_widget/fields_sms_widget.js``): GSM-7 when every
character is one of the GSM 03.38 basic set, else UCS-2 (Unicode); 160 characters in one
GSM-7 SMS, 153 per part beyond; 70 in one Unicode SMS, 67 per part beyond. The characters
of the GSM-7 extension table (``€``, ``[``...) take two places, as the networks count them.
"""

GSM7_BASIC = set(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
GSM7_EXTENSION = set("^{}\\[~]|€\f")
# Spaces that amounts and dates are formatted with, and the plain space that replaces them.
NARROW_SPACES = ("\u00a0", "\u202f", "\u2009", "\u2007")


def is_gsm7(text):
    """Tell whether the text can be sent in the GSM-7 alphabet."""
    return all(char in GSM7_BASIC or char in GSM7_EXTENSION for char in text)


def sms_length(text):
    """Return the length of the text in SMS characters (extension characters count two)."""
    if not is_gsm7(text):
        return len(text)
    return sum(2 if char in GSM7_EXTENSION else 1 for char in text)


def sms_count(text):
    """Return the number of SMS the text is sent in."""
    length = sms_length(text)
    if not length:
        return 0
    if is_gsm7(text):
        return 1 if length <= 160 else -(-length // 153)
    return 1 if length <= 70 else -(-length // 67)


def to_gsm7_spaces(text):
    """Return the text with plain spaces instead of no-break ones, when that makes it GSM-7.

    Amounts are formatted with no-break spaces, which are not GSM-7: one of them makes a
    whole SMS Unicode, and a 2-part SMS cost 3. Texts that need Unicode anyway keep them.
    """
    plain = text
    for space in NARROW_SPACES:
        plain = plain.replace(space, " ")
    return plain if is_gsm7(plain) else text
