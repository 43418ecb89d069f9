from unittest.mock import patch

from odoo import SUPERUSER_ID
from odoo.tests import tagged

from .common import FollowupSendCommon, blank_pdf_pages

# A delivery status notification (RFC 3464) as a mail server sends it back for a dead address.
BOUNCE_EMAIL = """Return-Path: <>
From: Mail Delivery System <MAILER-DAEMON@mail.example.com>
To: {to}
Subject: {subject}
Message-Id: {msg_id}
MIME-Version: 1.0
Content-Type: multipart/report; report-type=delivery-status; boundary="BOUNDARY"

--BOUNDARY
Content-Type: text/plain; charset=us-ascii

The mail system could not deliver your message: user unknown.

--BOUNDARY
Content-Type: message/delivery-status

Reporting-MTA: dns; mail.example.com

Final-Recipient: rfc822; {bounced}
Action: failed
Status: 5.1.1

--BOUNDARY
Content-Type: message/rfc822

Message-Id: {bounced_msg_id}
From: accounting@company1.example.com
To: {bounced}
Subject: Payment reminder

Please pay.

--BOUNDARY--
"""


@tagged("post_install", "-at_install")
class TestFollowupDelivery(FollowupSendCommon):
    """A reminder that did not arrive (bounced email, SMS in error, letter in error) flags the
    customer with the channel and the reason and gives its responsible an activity; the daily
    run does not email the same dead address again; a delivered reminder clears the flag."""

    def run_cron(self, **sms_options):
        with self.mock_mail_gateway(), self.mockSMSGateway(**sms_options):
            self.env["res.partner"].with_user(SUPERUSER_ID)._cron_execute_followups()

    def reminders(self):
        return self.env["account.followup.reminder"].search([("partner_id", "=", self.customer.id)])

    def undelivered_todos(self, partner=None):
        return self.env["account.followup.send"]._get_followup_todos(partner or self.customer, "Reminder not delivered")

    def flag(self, partner=None):
        partner = partner or self.customer
        partner.invalidate_recordset()
        return (partner.followup_undelivered, partner.followup_undelivered_channel, partner.followup_undelivered_reason)

    def due_again(self, invoice):
        """Make the second reminder due again today (as if its gap had passed)."""
        self.remind_at(invoice, self.level_1, 16)
        self.customer.followup_next_action_date = self.today

    def send_queued_mails(self):
        with self.mock_mail_gateway():
            self.customer_mails(self.customer).filtered(lambda mail: mail.state == "outgoing").send()

    def bounce(self, message, email):
        """Let the mail gateway process the bounce of the reminder email ``message`` to ``email``."""
        self.format_and_process(
            BOUNCE_EMAIL,
            "MAILER-DAEMON@mail.example.com",
            "accounting@company1.example.com",
            subject="Undelivered Mail Returned to Sender",
            bounced=email,
            bounced_msg_id=message.message_id,
            target_model="res.partner",
            target_field="name",
        )
        self.env.cr.flush()  # the end of the gateway's transaction: its precommit hooks

    def cron_second_reminder(self):
        """The daily run sends the second reminder (email and SMS) of a 100.00 invoice, and the
        mail queue sends the email; return the invoice and the reminder."""
        invoice = self.create_invoice(amount=100.0, due_days_ago=35)
        self.remind_at(invoice, self.level_1, 16)
        self.run_cron()
        self.send_queued_mails()
        return invoice, self.reminders()

    def bounce_reminder(self, reminder):
        """The email of the reminder to the customer's address bounces."""
        self.bounce(reminder.message_ids.filtered(lambda m: m.message_type == "comment"), "deco.customer@example.com")

    def test_bounce_flags_customer_and_cron_skips_the_address(self):
        """An automatic second reminder bounces: the customer is flagged *Reminder not delivered*
        (email, the bounce's text), its responsible gets one activity, the level is kept; the next
        run does not email the dead address again (the SMS goes, the run lists the customer to
        fix); a changed email goes again, and its delivery clears the flag."""
        invoice, reminder = self.cron_second_reminder()
        self.assertEqual((reminder.level_id, reminder.email, reminder.sms), (self.level_2, True, True))
        self.assertEqual(self.flag(), (False, False, False))

        self.bounce_reminder(reminder)

        reason = "The mail system could not deliver your message: user unknown."
        self.assertEqual(
            (reminder.delivery_state, reminder.failure_channel, reminder.failure_type, reminder.failed_email),
            ("failed", "email", "mail_bounce", "deco.customer@example.com"),
        )
        self.assertEqual(self.flag(), (True, "email", reason))
        self.assertEqual(
            self.env["res.partner"].search([("followup_undelivered", "=", True), ("id", "=", self.customer.id)]),
            self.customer,
        )
        todo = self.undelivered_todos()
        self.assertEqual((len(todo), todo.user_id), (1, self.responsible))
        self.assertIn("did not reach the customer by Email", todo.note)
        self.assertEqual(self.receivable_lines(invoice).followup_level_id, self.level_2, "the level reached is kept")
        # the daily refresh finds the same failure: no second activity
        self.env["account.followup.reminder"]._refresh_delivery_states()
        self.assertEqual(len(self.undelivered_todos()), 1)

        # the next automatic reminder: not to the dead address, the SMS goes, listed to fix
        self.due_again(invoice)
        self.run_cron()
        second = self.reminders() - reminder
        self.assertEqual((second.level_id, second.email, second.sms), (self.level_2, False, True))
        self.assertEqual(len(self.customer_mails(self.customer)), 1, "only the first reminder's email")
        run = self.env["account.followup.run"].search([("company_id", "=", self.company.id)], limit=1)
        self.assertIn(self.customer, run.missing_partner_ids)
        self.assertTrue(self.customer.followup_undelivered)

        # a changed address goes again; once delivered, the flag clears (by email only: Odoo
        # reports an SMS delivered only when the provider's delivery report comes back)
        self.customer.email = "deco.accounts@example.com"
        self.level_2.send_sms = False
        self.due_again(invoice)
        self.run_cron()
        third = self.reminders() - reminder - second
        self.assertEqual((third.email, third.sms), (True, False))
        self.assertEqual(
            self.customer_mails(self.customer).filtered(lambda mail: mail.mail_message_id in third.message_ids)
            .recipient_ids.email,
            "deco.accounts@example.com",
        )
        self.send_queued_mails()
        self.env["account.followup.reminder"]._refresh_delivery_states()
        self.assertEqual(third.delivery_state, "delivered")
        self.assertEqual(self.flag(), (False, False, False))
        self.assertFalse(self.env["res.partner"].search([("followup_undelivered", "=", True),
                                                         ("id", "=", self.customer.id)]))

    def test_manual_reminder_still_emails_a_failed_address(self):
        """A person sending from the Follow up wizard decides: the failed address is emailed."""
        __, reminder = self.cron_second_reminder()
        self.bounce_reminder(reminder)
        self.assertTrue(self.customer.followup_undelivered)
        action = self.customer.action_open_followup_send()
        wizard = self.env[action["res_model"]].with_context(**action["context"]).create(
            {"level_id": self.level_2.id, "email": True, "template_id": self.level_2.mail_template_id.id, "sms": False}
        )
        self.assertEqual(wizard.email_recipient_ids, self.customer)
        with self.mock_mail_gateway(), self.mockSMSGateway():
            wizard.action_send()
        manual = self.reminders() - reminder
        self.assertEqual((manual.email, manual.automatic), (True, False))
        self.assertSentEmail(self.env.user.partner_id, [self.customer])

    def test_sms_error_flags_customer(self):
        """An SMS the provider refuses (no credit): flagged by SMS, *Insufficient Credit*, one activity."""
        __, reminder = self.cron_second_reminder()
        with self.mockSMSGateway(sim_error="credit"):
            self.env["sms.sms"].sudo().search([("partner_id", "=", self.customer.id)]).send()
        self.env.cr.flush()
        self.assertEqual((reminder.delivery_state, reminder.failure_channel), ("failed", "sms"))
        self.assertEqual(self.flag(), (True, "sms", "Insufficient Credit"))
        self.assertEqual(len(self.undelivered_todos()), 1)
        self.assertFalse(reminder.failed_email, "the email was delivered: the address is fine")

    def test_letter_error_flags_customer(self):
        """A letter the postal service refuses: flagged by post with snailmail's message."""
        invoice = self.create_invoice(amount=100.0, due_days_ago=65)
        self.remind_at(invoice, self.level_2, 31)
        with self.mock_mail_gateway():
            self.env["account.followup.send"]._process_followups(self.customer, options={"print": False})
        self.send_queued_mails()
        reminder = self.reminders()
        letter = self.env["snailmail.letter"].search([("res_id", "=", self.customer.id), ("model", "=", "res.partner")])
        letter.attachment_id.raw = blank_pdf_pages([None])

        def iap_refuses(endpoint, params=None, timeout=None):
            return {"request_code": 200, "request": {"documents": [
                {"letter_id": letter.id, "sent": False, "error": "FORMAT_ERROR"},
            ]}}

        with patch("odoo.addons.iap.tools.iap_tools.iap_jsonrpc", iap_refuses):
            letter._snailmail_print_valid_address()
        self.env.cr.flush()
        self.assertEqual(letter.state, "error")
        self.assertEqual((reminder.delivery_state, reminder.failure_channel, reminder.failure_type),
                         ("failed", "snailmail", "sn_format"))
        undelivered, channel, reason = self.flag()
        self.assertEqual((undelivered, channel), (True, "snailmail"))
        self.assertEqual(
            reason,
            "An error occurred when sending the document by post.\nError: The attachment of the letter could not "
            "be sent. Please check its content and contact the support if the problem persists.",
        )
        self.assertEqual(len(self.undelivered_todos()), 1)

    def test_flag_per_company(self):
        """A reminder of one company that did not arrive flags the customer in that company only."""
        __, reminder = self.cron_second_reminder()
        self.bounce_reminder(reminder)
        company_2 = self.company_data_2["company"]
        self.assertEqual(self.flag(), (True, "email", "The mail system could not deliver your message: user unknown."))
        other = self.customer.with_company(company_2)
        self.assertEqual(self.flag(other), (False, False, False))
