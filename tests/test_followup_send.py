from datetime import timedelta
from unittest.mock import patch

from markupsafe import Markup

from odoo import Command
from odoo.tests import tagged
from odoo.tools import html_sanitize

from ..models.followup_rules import STATUS_IN_NEED
from .common import SEND_LOGGER, FollowupSendCommon, blank_pdf_pages


@tagged("post_install", "-at_install")
class TestFollowupSend(FollowupSendCommon):
    """One reminder, channel by channel, through `account.followup.send._execute_followup`."""

    def test_email_first_reminder(self):
        """First reminder: an email to the customer, without attachment, queued; chatter notes."""
        invoice = self.create_invoice(amount=100.0, due_days_ago=20)
        with self.mock_mail_gateway():
            result = self.env["account.followup.send"]._execute_followup(self.customer)
        self.assertEqual((result["status"], result["level"], result["channels"]), ("sent", self.level_1, ["email"]))
        mail = self.customer_mails(self.customer)
        self.assertEqual(len(mail), 1)
        self.assertEqual(mail.recipient_ids, self.customer)
        # sent by hand: from the accountant who sends it
        self.assertEqual((mail.author_id, mail.email_from), (self.env.user.partner_id, self.env.user.email_formatted))
        self.assertEqual(mail.subject, f"{self.company.name} - Payment reminder for Deco Customer")
        self.assertEqual(mail.state, "outgoing")
        self.assertFalse(mail.attachment_ids)
        self.assertIn(invoice.name, str(mail.body_html))
        self.assertReminded(invoice, self.level_1, self.today + timedelta(days=15))
        self.assertIn(
            'Payment reminder "First reminder" sent by email',
            invoice.message_ids[0].body,
        )
        self.assertIn("Next reminder on", self.customer.message_ids[0].body)

    def test_batch_message_as_message_post_makes_it(self):
        """A reminder of a batch gets the reply-to, company and alias domain that message_post
        would look up for it, customer by customer."""
        self.create_invoice(amount=100.0, due_days_ago=20)
        with self.mock_mail_gateway():
            results = self.env["account.followup.send"]._process_followups(self.customer, options={"print": False})
        self.assertEqual(results["sent"], self.customer)
        reminder = self.customer.message_ids.filtered(lambda message: message.message_type == "comment")
        self.assertEqual(len(reminder), 1)
        plain = self.customer.message_post(
            body="Plain", author_id=reminder.author_id.id, email_from=reminder.email_from, message_type="comment"
        )
        self.assertEqual(
            (reminder.reply_to, reminder.record_company_id, reminder.record_alias_domain_id),
            (plain.reply_to, plain.record_company_id, plain.record_alias_domain_id),
        )
        self.assertEqual(reminder.record_company_id, self.company)
        self.assertTrue(reminder.reply_to)

    def test_message_body_sanitized_once(self):
        """The body of a reminder is sanitized once when its message is created, not twice (for
        its column, then for the cache), and is what sanitizing gives, in the database as in the
        cache; an unsafe body is cleaned as before."""
        invoice = self.create_invoice(amount=100.0, due_days_ago=20)
        calls = []

        def count(src, **kwargs):
            calls.append((str(src), kwargs))
            return html_sanitize(src, **kwargs)

        with patch("odoo.fields.html_sanitize", side_effect=count), self.mock_mail_gateway():
            self.env["account.followup.send"]._process_followups(self.customer, options={"print": False})
            reminder = self.customer.message_ids.filtered(lambda message: message.message_type == "comment")
            self.assertEqual(len(reminder), 1)
            bodies = [(src, kwargs) for src, kwargs in calls if invoice.name in src]
            self.assertEqual(len(bodies), 1, "the email's body sanitized once")
            self.assertEqual(reminder.body, html_sanitize(bodies[0][0], **bodies[0][1]))
            cached = reminder.body
            reminder.invalidate_recordset(["body"])
            self.assertEqual(reminder.body, cached, "the database holds what the cache held")
            unsafe = self.customer.message_post(body=Markup('<p onclick="steal()">Hi</p><script>steal()</script>'))
        self.assertEqual(unsafe.body, Markup("<p>Hi</p>"))
        unsafe.invalidate_recordset(["body"])
        self.assertEqual(unsafe.body, Markup("<p>Hi</p>"))

    def test_email_sms_to_followup_contact_with_invoices(self):
        """Second reminder: email and SMS to the follow-up contact, one PDF per invoice attached."""
        contact = self.env["res.partner"].create({
            "name": "Fiona Followup",
            "parent_id": self.customer.id,
            "type": "followup",
            "email": "fiona@example.com",
            "mobile": "+32475222222",
        })
        invoices = self.create_invoice(amount=100.0, due_days_ago=35)
        invoices += self.create_invoice(amount=50.0, due_days_ago=31)
        for invoice in invoices:
            self.remind_at(invoice, self.level_1, 16)
        self.assertFalse(invoices.invoice_pdf_report_id)
        with self.mock_mail_gateway(), self.mockSMSGateway():
            result = self.env["account.followup.send"]._execute_followup(self.customer)
        self.assertEqual(result["channels"], ["email", "sms"])
        mail = self.customer_mails(self.customer)
        self.assertEqual(mail.recipient_ids, contact)
        self.assertEqual(mail.subject, f"{self.company.name} - Second payment reminder for Deco Customer")
        self.assertEqual(
            sorted(mail.attachment_ids.mapped("name")),
            sorted(invoice._get_invoice_report_filename() for invoice in invoices),
        )
        self.assertEqual(len(invoices.invoice_pdf_report_id), 2, "the missing invoice PDFs are generated")
        self.assertSMSOutgoing(
            contact,
            "+32475222222",
            content=f"Dear Deco Customer, {self.company.name} has not yet received the payment of",
        )
        self.assertReminded(invoices, self.level_2, self.today + timedelta(days=30))

    def test_invoice_pdf_reused(self):
        """An invoice already printed keeps its PDF: no new rendering."""
        invoice = self.create_invoice(amount=100.0, due_days_ago=35)
        self.remind_at(invoice, self.level_1, 16)
        Send = self.env["account.followup.send"]
        printed = Send._get_followup_invoice_attachments(invoice)
        with patch.object(type(Send), "_render_invoice_pdfs") as render:
            self.assertEqual(Send._get_followup_invoice_attachments(invoice), printed)
        render.assert_not_called()

    def test_invoice_pdfs_rendered_in_one_batch(self):
        """Invoices never printed are rendered by one call of wkhtmltopdf, split per invoice."""
        invoices = self.create_invoice(amount=100.0, due_days_ago=35)
        invoices += self.create_invoice(amount=50.0, due_days_ago=31)

        Report = type(self.env["ir.actions.report"])
        with patch.object(Report, "_run_wkhtmltopdf", side_effect=blank_pdf_pages) as run:
            attachments = self.env["account.followup.send"].with_context(
                force_report_rendering=True
            )._get_followup_invoice_attachments(invoices)
        self.assertEqual(run.call_count, 1)
        self.assertEqual(len(attachments), 2)
        self.assertEqual(invoices.invoice_pdf_report_id, attachments)

    def test_batch_renders_the_invoice_pdfs_of_all_its_customers_at_once(self):
        """A batch of customers whose level attaches the invoices: the invoices never printed
        are rendered by one wkhtmltopdf call for the whole batch; each email has its own."""
        self.level_1.join_invoices = True
        other = self.customer.copy({"name": "Other Customer", "email": "other.customer@example.com"})
        invoices = {
            self.customer: self.create_invoice(amount=100.0, due_days_ago=20),
            other: self.create_invoice(partner=other, amount=50.0, due_days_ago=20)
            + self.create_invoice(partner=other, amount=60.0, due_days_ago=21),
        }
        Report = type(self.env["ir.actions.report"])
        with (
            patch.object(Report, "_run_wkhtmltopdf", side_effect=blank_pdf_pages) as run,
            self.mock_mail_gateway(),
        ):
            results = self.env["account.followup.send"].with_context(force_report_rendering=True)._process_followups(
                self.customer + other, options={"print": False}
            )
        self.assertEqual(results["sent"], self.customer + other)
        self.assertEqual([len(call.args[0]) for call in run.call_args_list], [3])
        for partner, partner_invoices in invoices.items():
            mail = self.customer_mails(partner)
            self.assertEqual(len(mail), 1)
            self.assertEqual(
                sorted(mail.attachment_ids.mapped("name")),
                sorted(partner_invoices.invoice_pdf_report_id.mapped("name")),
            )

    def test_letter_by_post_and_activity(self):
        """Formal notice: a letter queued for snailmail and a call for the follow-up responsible."""
        invoice = self.create_invoice(amount=100.0, due_days_ago=65)
        self.remind_at(invoice, self.level_2, 35)
        with self.mock_mail_gateway():
            result = self.env["account.followup.send"]._execute_followup(self.customer)
        self.assertEqual(result["channels"], ["email", "snailmail", "activity"])
        letter = self.env["snailmail.letter"].search([("model", "=", "res.partner"), ("res_id", "=", self.customer.id)])
        self.assertEqual((letter.partner_id, letter.state), (self.customer, "pending"))
        self.assertEqual(letter.attachment_id.name, f"Follow-up Deco Customer - {self.today}.pdf")
        self.assertEqual(letter.attachment_id.mimetype, "application/pdf")
        call = self.env.ref("mail.mail_activity_data_call")
        activity = self.customer.activity_ids
        self.assertEqual(
            (activity.activity_type_id, activity.user_id, activity.summary, activity.date_deadline),
            (
                call,
                self.responsible,
                "Call the customer about the overdue invoices",
                self.env["mail.activity"]._calculate_date_deadline(call),
            ),
        )
        self.assertReminded(invoice, self.level_3, self.today + timedelta(days=30))

    def test_activity_for_invoice_salesperson(self):
        """A level naming the salesperson gives the activity to the salesperson of the invoice."""
        self.level_3.activity_default_responsible_type = "salesperson"
        invoice = self.create_invoice(amount=100.0, due_days_ago=65, post=False)
        invoice.invoice_user_id = self.salesperson
        invoice.action_post()
        self.remind_at(invoice, self.level_2, 35)
        with self.mock_mail_gateway():
            self.env["account.followup.send"]._execute_followup(self.customer)
        self.assertEqual(self.customer.activity_ids.user_id, self.salesperson)

    def test_print(self):
        """Printing keeps the follow-up letter on the customer."""
        self.create_invoice(amount=100.0, due_days_ago=20)
        with self.mock_mail_gateway():
            result = self.env["account.followup.send"]._execute_followup(self.customer, {"print": True, "email": False})
        self.assertEqual(result["channels"], ["print"])
        self.assertEqual((result["letter"].res_model, result["letter"].res_id), ("res.partner", self.customer.id))

    def test_paid_in_same_transaction_not_reminded(self):
        """An invoice paid just before sending is never reminded of."""
        invoice = self.create_invoice(amount=100.0, due_days_ago=20)
        self.pay(invoice)
        with self.mock_mail_gateway():
            results = self.env["account.followup.send"]._process_followups(self.customer)
        self.assertFalse(results["sent"])
        self.assertIn(self.customer.id, results["skipped"])
        self.assertFalse(self.customer_mails(self.customer))
        self.assertFalse(self.receivable_lines(invoice).followup_level_id)

    def test_excluded_invoice_never_reminded(self):
        """An excluded invoice keeps its level even when the wizard sends anyway."""
        invoice = self.create_invoice(amount=100.0, due_days_ago=20)
        excluded = self.create_invoice(amount=70.0, due_days_ago=25)
        self.receivable_lines(excluded).blocked = True
        with self.mock_mail_gateway():
            self.env["account.followup.send"]._execute_followup(self.customer, {"manual": True})
        self.assertFalse(self.receivable_lines(excluded).followup_level_id)
        self.assertEqual(self.receivable_lines(invoice).followup_level_id, self.level_1)
        self.assertNotIn(excluded.name, str(self.customer_mails(self.customer).body_html))

    def test_nothing_sent_without_contact_details(self):
        """No email address at all: nothing is marked as sent, a to-do says what is missing."""
        self.customer.email = False
        invoice = self.create_invoice(amount=100.0, due_days_ago=20)
        with self.mock_mail_gateway():
            result = self.env["account.followup.send"]._execute_followup(self.customer)
        self.assertEqual((result["status"], result["missing"]), ("nothing_sent", ["email"]))
        self.assertFalse(self.receivable_lines(invoice).followup_level_id)
        todo = self.customer.activity_ids
        self.assertEqual(todo.summary, "Complete the follow-up contact details")
        self.assertEqual(todo.user_id, self.responsible)

    def test_error_rolls_back_one_customer(self):
        """A failing reminder is rolled back and shown on the customer; the others go."""
        other = self.customer.copy({"name": "Other Customer", "email": "other@example.com"})
        self.create_invoice(amount=100.0, due_days_ago=20)
        other_invoice = self.create_invoice(partner=other, amount=100.0, due_days_ago=20)
        Send = type(self.env["account.followup.send"])
        origin = Send._send_email

        def failing(send, reminder, values):
            if reminder["partner"] == self.customer:
                raise ValueError("template broken")
            return origin(send, reminder, values)

        with self.mock_mail_gateway(), patch.object(Send, "_send_email", failing), self.assertLogs(
            SEND_LOGGER, level="ERROR"
        ):
            results = self.env["account.followup.send"]._process_followups(self.customer + other)
        self.assertEqual((results["sent"], results["failed"]), (other, self.customer))
        self.assertFalse(self.customer_mails(self.customer))
        self.assertIn("template broken", self.customer.message_ids[0].body)
        self.assertEqual(self.customer.activity_ids.summary, "Payment reminder failed")
        self.assertEqual(self.receivable_lines(other_invoice).followup_level_id, self.level_1)


@tagged("post_install", "-at_install")
class TestFollowupSendWizard(FollowupSendCommon):
    """The Follow up wizard: pre-filled from the level, editable, sends through the same path."""

    def open_wizard(self, partner=None):
        action = (partner or self.customer).action_open_followup_send()
        return self.env[action["res_model"]].with_context(**action["context"]).create({})

    def test_prefill(self):
        """The wizard shows the level's channels, the rendered email and SMS, the invoice PDFs."""
        invoice = self.create_invoice(amount=100.0, due_days_ago=35)
        self.remind_at(invoice, self.level_1, 16)
        wizard = self.open_wizard()
        self.assertEqual(wizard.level_id, self.level_2)
        self.assertEqual(
            (wizard.email, wizard.sms, wizard.snailmail, wizard.print, wizard.join_invoices),
            (True, True, False, False, True),
        )
        self.assertEqual(wizard.email_recipient_ids, self.customer)
        self.assertEqual(wizard.template_id, self.level_2.mail_template_id)
        self.assertEqual(wizard.subject, f"{self.company.name} - Second payment reminder for Deco Customer")
        self.assertIn(invoice.name, str(wizard.body))
        self.assertTrue(wizard.sms_body.startswith("Dear Deco Customer,"))
        self.assertEqual(wizard.attachment_ids, invoice.invoice_pdf_report_id)
        self.assertEqual(wizard.snailmail_cost, 1)
        wizard.level_id = self.level_3
        self.assertEqual((wizard.snailmail, wizard.sms), (True, False))
        self.assertEqual(wizard.subject, f"{self.company.name} - Formal notice of overdue invoices for Deco Customer")

    def test_edit_and_send(self):
        """Edited subject, body and recipients are what goes out."""
        self.create_invoice(amount=100.0, due_days_ago=20)
        colleague = self.env["res.partner"].create({"name": "Colleague", "email": "colleague@example.com"})
        wizard = self.open_wizard()
        wizard.write({
            "subject": "Please pay",
            "body": "<p>Custom body</p>",
            "email_recipient_ids": [Command.set(colleague.ids)],
        })
        with self.mock_mail_gateway():
            self.assertEqual(wizard.action_send(), {"type": "ir.actions.act_window_close"})
        mail = self.customer_mails(self.customer)
        self.assertEqual((mail.subject, mail.recipient_ids), ("Please pay", colleague))
        self.assertIn("Custom body", str(mail.body_html))
        self.assertEqual(self.customer.followup_next_action_date, self.today + timedelta(days=15))

    def test_send_and_print(self):
        """Send & Print downloads the follow-up letter saved on the customer."""
        self.create_invoice(amount=100.0, due_days_ago=20)
        wizard = self.open_wizard()
        with self.mock_mail_gateway():
            action = wizard.action_send_and_print()
        letter = self.env["ir.attachment"].search(
            [("res_model", "=", "res.partner"), ("res_id", "=", self.customer.id), ("mimetype", "=", "application/pdf")]
        )
        self.assertEqual(action["url"], f"/web/content/{letter.id}?download=true")
        self.assertEqual(len(self.customer_mails(self.customer)), 1)

    def test_send_when_not_in_need(self):
        """The user may send before the level is reached; lines not yet due keep their level."""
        overdue = self.create_invoice(amount=100.0, due_days_ago=5)
        not_due = self.create_invoice(amount=100.0, due_days_ago=-5)
        wizard = self.open_wizard()
        self.assertEqual(wizard.level_id, self.level_1)
        with self.mock_mail_gateway():
            wizard.action_send()
        self.assertEqual(self.receivable_lines(overdue).followup_level_id, self.level_1)
        self.assertFalse(self.receivable_lines(not_due).followup_level_id)


@tagged("post_install", "-at_install")
class TestFollowupBatch(FollowupSendCommon):
    """The Process follow-ups list action."""

    def test_batch_with_customer_without_email(self):
        """Three customers, one without email: two reminded, the third listed to complete."""
        second = self.customer.copy({"name": "Second Customer", "email": "second@example.com"})
        no_email = self.customer.copy({"name": "No Email Customer", "email": False})
        for partner in self.customer + second + no_email:
            self.create_invoice(partner=partner, amount=100.0, due_days_ago=20)
        partners = self.customer + second + no_email
        with self.mock_mail_gateway():
            action = self.env.ref("account_payment_followup.action_process_followups").with_context(
                active_model="res.partner", active_ids=partners.ids
            ).run()
        self.assertEqual(action["params"]["type"], "warning")
        self.assertEqual(action["params"]["next"]["domain"], [("id", "in", no_email.ids)])
        self.assertEqual(len(self.customer_mails(self.customer)), 1)
        self.assertEqual(len(self.customer_mails(second)), 1)
        self.assertFalse(self.customer_mails(no_email))
        self.assertEqual(no_email.activity_ids.summary, "Complete the follow-up contact details")
        self.assertEqual(no_email.followup_status, STATUS_IN_NEED)
