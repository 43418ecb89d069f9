from odoo import fields, models

# The conversions of the bodies being created, on the cursor (``cr.cache``): {value: sanitized}
SANITIZED_KEY = "account_payment_followup.sanitized_bodies"
# A create converts all its bodies for their columns, then all again for the cache: enough for
# a batch of messages (the notes of a batch of reminders), and no more kept on the cursor.
SANITIZED_MAX = 256


class SanitizedOnceHtml(fields.Html):
    """An Html field whose value, when a record is created, is sanitized once instead of twice.

    Odoo 17's ``_create`` sanitizes an Html value for its column, then the same value again for
    the cache (Odoo later stopped it, odoo/odoo#220072): for the body of every reminder email,
    a quarter of what posting it costs.  Sanitizing depends on the field's parameters and the
    value alone (not when sanitizing is overridable: that depends on the user), so the second
    conversion of the same value takes the first one's result; the column and the cache get
    exactly what they got before.
    """

    def _convert(self, value, record, validate):
        if not value or not validate or not self.sanitize or self.sanitize_overridable:
            return super()._convert(value, record, validate)
        sanitized = record.env.cr.cache.setdefault(SANITIZED_KEY, {})
        key = (self.model_name, self.name, str(value))
        if key not in sanitized:
            if len(sanitized) >= SANITIZED_MAX:
                sanitized.clear()
            sanitized[key] = super()._convert(value, record, validate)
        return sanitized[key]


class MailMessage(models.Model):
    """Extends `mail`: the body of a new message is sanitized once (see `SanitizedOnceHtml`)."""

    _inherit = "mail.message"

    body = SanitizedOnceHtml()
