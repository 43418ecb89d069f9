from odoo import models

# What the mail, SMS and snailmail queues write when a message did not reach its recipient.
FAILED_STATUSES = ("bounce", "exception")
# The messages of the transaction whose notifications failed (``cr.precommit.data``).
FAILED_MESSAGES_KEY = "account_payment_followup.failed_message_ids"


class MailNotification(models.Model):
    """Extends `mail` so that a reminder that did not arrive is known at once."""

    _inherit = "mail.notification"

    def write(self, vals):
        res = super().write(vals)
        if vals.get("notification_status") in FAILED_STATUSES and self:
            self._followup_delivery_failed()
        return res

    def _followup_delivery_failed(self):
        """Look at the reminders of the failed messages once, when the transaction ends: the
        mail queue marks the notifications of an email ``exception`` while it sends it, then
        ``sent`` (see ``mail.mail._send``); only the last word counts."""
        precommit = self.env.cr.precommit
        message_ids = precommit.data.get(FAILED_MESSAGES_KEY)
        if message_ids is None:
            message_ids = precommit.data[FAILED_MESSAGES_KEY] = set()
            env = self.env

            @precommit.add
            def check_followup_reminders():
                failed = precommit.data.pop(FAILED_MESSAGES_KEY, set())
                # sudo: whoever's action made a queue report the failure (the mail gateway, the
                # SMS or snailmail cron, a user) may not read the reminder history
                env["account.followup.reminder"].sudo()._followup_delivery_changed(list(failed))

        message_ids.update(self.mail_message_id.ids)
