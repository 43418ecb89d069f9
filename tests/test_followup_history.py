import smtplib
from unittest.mock import patch

from odoo import SUPERUSER_ID
from odoo.tests import tagged
from odoo.tools import format_datetime, mute_logger

from .common import SEND_LOGGER, FollowupSendCommon


@tagged("post_install", "-at_install")
class TestFollowupHistory(FollowupSendCommon):
    """Each reminder sent leaves one `account.followup.reminder`: from the wizard, the batch and the cron."""

    def reminders(self, partner=None):
        return self.env["account.followup.reminder"].search([("partner_id", "=", (partner or self.customer).id)])

    def channels(self, reminder):
        return (reminder.email, reminder.sms, reminder.letter, reminder.printed, reminder.activity)

    def open_wizard(self, partner=None):
        action = (partner or self.customer).action_open_followup_send()
        return self.env[action["res_model"]].with_context(**action["context"]).create({})

    def test_wizard_reminder(self):
        """A first reminder by email from the wizard: its author, channel, two overdue invoices
        (not the one not yet due), 150.00 overdue; delivered once the email went out."""
        first = self.create_invoice(amount=100.0, due_days_ago=20)
        second = self.create_invoice(amount=50.0, due_days_ago=25)
        self.create_invoice(amount=30.0, due_days_ago=-5)
        with self.mock_mail_gateway():
            self.open_wizard().action_send()
        reminder = self.reminders()
        self.assertEqual(len(reminder), 1)
        self.assertEqual(
            (reminder.company_id, reminder.level_id, reminder.date, reminder.user_id, reminder.automatic),
            (self.company, self.level_1, self.today, self.env.user, False),
        )
        self.assertEqual(self.channels(reminder), (True, False, False, False, False))
        self.assertEqual(reminder.move_ids, first + second)
        self.assertEqual(reminder.amount_overdue, 150.0)
        self.assertEqual(reminder.message_ids, self.customer_mails(self.customer).mail_message_id)
        self.assertEqual(reminder.delivery_state, "sent")
        Reminder = self.env["account.followup.reminder"]
        self.assertEqual(Reminder._get_delivery_states(reminder.ids), {reminder.id: "delivered"})
        Reminder._refresh_delivery_states()
        self.assertEqual(reminder.delivery_state, "delivered")

    def test_batch_reminders(self):
        """*Process follow-ups* on three customers, one without email: two reminders recorded,
        by the user, each with its own invoice and amount."""
        second = self.customer.copy({"name": "Second Customer", "email": "second@example.com"})
        no_email = self.customer.copy({"name": "No Email Customer", "email": False})
        invoices = {}
        for partner, amount in ((self.customer, 100.0), (second, 70.0), (no_email, 40.0)):
            invoices[partner] = self.create_invoice(partner=partner, amount=amount, due_days_ago=20)
        with self.mock_mail_gateway():
            (self.customer + second + no_email).action_process_followups()
        Reminder = self.env["account.followup.reminder"]
        reminders = Reminder.search([("partner_id", "in", (self.customer + second + no_email).ids)])
        self.assertEqual(
            sorted((r.partner_id.name, r.move_ids.name, r.amount_overdue, r.user_id.id, r.automatic, r.email)
                   for r in reminders),
            sorted([
                ("Deco Customer", invoices[self.customer].name, 100.0, self.env.uid, False, True),
                ("Second Customer", invoices[second].name, 70.0, self.env.uid, False, True),
            ]),
        )

    def test_cron_reminder(self):
        """A second reminder by the cron: automatic, no author, by email and SMS, about the two
        invoices of the customer (210.00 overdue)."""
        invoices = self.create_invoice(amount=200.0, due_days_ago=35)
        invoices += self.create_invoice(amount=10.0, due_days_ago=40)
        for invoice in invoices:
            self.remind_at(invoice, self.level_1, 16)
        with self.mock_mail_gateway(), self.mockSMSGateway():
            self.env["res.partner"].with_user(SUPERUSER_ID)._cron_execute_followups()
        reminder = self.reminders()
        self.assertEqual(
            (len(reminder), reminder.level_id, reminder.user_id.id, reminder.automatic),
            (1, self.level_2, False, True),
        )
        self.assertEqual(self.channels(reminder), (True, True, False, False, False))
        self.assertEqual(reminder.move_ids, invoices)
        self.assertEqual(reminder.amount_overdue, 210.0)
        self.assertEqual(len(reminder.message_ids), 2, "the email and the SMS")

    def test_letter_and_activity_reminder(self):
        """A formal notice by email, post and activity: the letter is followed as well (sent
        while the postal service has not posted it)."""
        invoice = self.create_invoice(amount=100.0, due_days_ago=65)
        self.remind_at(invoice, self.level_2, 31)
        with self.mock_mail_gateway():
            self.env["account.followup.send"]._process_followups(self.customer, options={"print": False})
        reminder = self.reminders()
        self.assertEqual(self.channels(reminder), (True, False, True, False, True))
        self.assertEqual(reminder.level_id, self.level_3)
        letter = self.env["snailmail.letter"].search([("res_id", "=", self.customer.id), ("model", "=", "res.partner")])
        self.assertIn(letter.message_id, reminder.message_ids)
        Reminder = self.env["account.followup.reminder"]
        self.assertEqual(Reminder._get_delivery_states(reminder.ids), {reminder.id: "sent"})

    def test_printed_reminder_delivered_at_once(self):
        """A reminder only printed goes through no queue: delivered at once."""
        self.create_invoice(amount=100.0, due_days_ago=20)
        self.env["account.followup.send"]._process_followups(
            self.customer, options={"email": False, "print": True}
        )
        reminder = self.reminders()
        self.assertEqual(self.channels(reminder), (False, False, False, True, False))
        self.assertEqual(reminder.delivery_state, "delivered")

    def test_failed_email_reminder(self):
        """An email the mail server refuses: the reminder's delivery is failed after the refresh."""
        self.create_invoice(amount=100.0, due_days_ago=20)
        self.env["account.followup.send"]._process_followups(self.customer, options={"print": False})
        reminder = self.reminders()
        mail = self.env["mail.mail"].search([("mail_message_id", "in", reminder.message_ids.ids),
                                             ("recipient_ids", "=", self.customer.id)])
        IrMailServer = type(self.env["ir.mail_server"])
        with patch.object(IrMailServer, "connect", side_effect=smtplib.SMTPConnectError(421, "down")), \
                mute_logger("odoo.addons.mail.models.mail_mail"):
            mail.send()
        self.assertEqual(mail.state, "exception")
        self.env["account.followup.reminder"]._refresh_delivery_states()
        self.assertEqual(reminder.delivery_state, "failed")

    def test_followup_form_lists_reminders(self):
        """The customer's follow-up form counts its reminders and opens them."""
        self.create_invoice(amount=100.0, due_days_ago=20)
        with self.mock_mail_gateway():
            self.env["account.followup.send"]._process_followups(self.customer, options={"print": False})
        self.assertEqual(self.customer.followup_reminder_count, 1)
        action = self.customer.action_open_followup_reminders()
        self.assertEqual(self.env[action["res_model"]].search(action["domain"]), self.reminders())


@tagged("post_install", "-at_install")
class TestFollowupRun(FollowupSendCommon):
    """Each cron run (per company) and each *Process follow-ups* leaves one `account.followup.run`."""

    def test_cron_run_with_one_failed_and_one_missing(self):
        """A cron run: one customer reminded, one failing, one without email; the run says so, and
        the Follow-up Reports' filter lists the two to check."""
        broken = self.customer.copy({"name": "Broken Customer", "email": "broken@example.com"})
        no_email = self.customer.copy({"name": "No Email Customer", "email": False})
        for partner in self.customer + broken + no_email:
            self.create_invoice(partner=partner, amount=100.0, due_days_ago=20)
        Send = type(self.env["account.followup.send"])
        execute = Send._execute_followup

        def execute_or_fail(send, partner, options=None, batch=None):
            if partner == broken:
                raise ValueError("template engine exploded")
            return execute(send, partner, options, batch=batch)

        with patch.object(Send, "_execute_followup", execute_or_fail), mute_logger(SEND_LOGGER), \
                self.mock_mail_gateway():
            self.env["res.partner"].with_user(SUPERUSER_ID)._cron_execute_followups()
        run = self.env["account.followup.run"].search([("company_id", "=", self.company.id)], limit=1)
        self.assertEqual((run.user_id.id, run.automatic, run.has_issues), (False, True, True))
        ours = self.customer + broken + no_email
        self.assertEqual(
            (run.reminded_partner_ids & ours, run.failed_partner_ids, run.missing_partner_ids),
            (self.customer, broken, no_email),
        )
        self.assertEqual((run.failed_count, run.missing_count), (1, 1))
        self.assertEqual(
            self.env["res.partner"].search([("followup_last_run_issue", "=", True)]), broken + no_email
        )
        self.assertTrue(no_email.followup_last_run_issue)
        self.assertFalse(self.customer.followup_last_run_issue)

    def test_batch_run(self):
        """*Process follow-ups* on two customers, one needing no reminder: one run by the user."""
        paid = self.customer.copy({"name": "Paid Customer", "email": "paid@example.com"})
        self.create_invoice(amount=100.0, due_days_ago=20)
        with self.mock_mail_gateway():
            (self.customer + paid).action_process_followups()
        run = self.env["account.followup.run"].search([], limit=1)
        self.assertEqual(
            (run.user_id, run.automatic, run.reminded_partner_ids, run.skipped_partner_ids, run.has_issues),
            (self.env.user, False, self.customer, paid, False),
        )
        self.assertEqual((run.reminded_count, run.failed_count, run.missing_count, run.skipped_count), (1, 0, 0, 1))
        # named by its date and time as the user reads them (time zone, language), not as stored
        self.env.user.tz = "Europe/Brussels"
        run.invalidate_recordset(["display_name"])
        self.assertEqual(run.display_name, format_datetime(self.env, run.date, tz="Europe/Brussels"))
        self.assertNotEqual(run.display_name, str(run.date))
