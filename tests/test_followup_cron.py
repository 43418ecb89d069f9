from datetime import timedelta
from unittest.mock import patch

from odoo import SUPERUSER_ID
from odoo.tests import tagged
from odoo.tools import format_date

from odoo.addons.mail.models.mail_thread import MailThread

from .common import FollowupSendCommon


@tagged("post_install", "-at_install")
class TestFollowupCron(FollowupSendCommon):
    """The daily cron: which customers it reminds, once, in batches."""

    @classmethod
    def setUpClass(cls, chart_template_ref=None):
        super().setUpClass(chart_template_ref=chart_template_ref)
        cls.cron = cls.env.ref("account_payment_followup.ir_cron_execute_followups")

    def run_cron(self, **kwargs):
        with self.mock_mail_gateway(), self.mockSMSGateway():
            self.env["res.partner"].with_user(SUPERUSER_ID)._cron_execute_followups(**kwargs)

    def make_customers(self, count, **values):
        customers = self.env["res.partner"]
        for index in range(count):
            customers |= self.customer.copy({
                "name": f"Cron Customer {index}",
                "email": f"cron.customer.{index}@example.com",
                **values,
            })
        return customers

    def test_cron_filters(self):
        """Only automatic customers at an automatic level whose reminder date is reached, in every company."""
        automatic, manual, formal, waiting = self.make_customers(4)
        manual.followup_reminder_type = "manual"
        waiting.followup_next_action_date = self.today + timedelta(days=3)
        for partner in automatic + manual + waiting:
            self.create_invoice(partner=partner, amount=100.0, due_days_ago=20)
        formal_invoice = self.create_invoice(partner=formal, amount=100.0, due_days_ago=65)
        self.remind_at(formal_invoice, self.level_2, 35)
        company_2 = self.company_data_2["company"]
        other_company_customer = self.make_customers(1, name="Second Company Customer")
        other_invoice = self.create_invoice(
            partner=other_company_customer, amount=100.0, due_days_ago=20, company=company_2
        )
        level_2_1 = self.env["account.followup.level"].search([("company_id", "=", company_2.id)], order="delay")[:1]

        self.run_cron()

        self.assertEqual(len(self.customer_mails(automatic)), 1)
        for partner in manual + formal + waiting:
            self.assertFalse(self.customer_mails(partner), partner.name)
        self.assertEqual(self.receivable_lines(formal_invoice).followup_level_id, self.level_2)
        self.assertEqual(self.receivable_lines(other_invoice).followup_level_id, level_2_1)
        self.assertEqual(len(self.customer_mails(other_company_customer)), 1)
        self.assertFalse(self.env["ir.attachment"].search(
            [("res_model", "=", "res.partner"), ("res_id", "=", automatic.id), ("mimetype", "=", "application/pdf")]
        ), "the cron never prints")

    def test_cron_reminders_from_the_responsible_or_the_company(self):
        """Automatic reminders (email and SMS) are never from OdooBot: they are from the customer's
        follow-up responsible, else its salesperson, else the company, and signed so."""
        self.level_1.write({"send_sms": True, "sms_template_id": self.level_2.sms_template_id.id})
        followed, sold, plain = self.make_customers(3)
        followed.followup_responsible_id = self.responsible
        sold.user_id = self.salesperson
        for partner in followed + sold + plain:
            self.create_invoice(partner=partner, amount=100.0, due_days_ago=20)
        self.run_cron()
        company = self.company.name
        senders = {
            followed: (self.responsible.partner_id, f"Best regards, <br> Rita Responsible <br> {company} </p>"),
            sold: (self.salesperson.partner_id, f"Best regards, <br> Sam Salesperson <br> {company} </p>"),
            plain: (self.company.partner_id, f"Best regards, <br> {company} </p>"),
        }
        for partner, (author, signature) in senders.items():
            mail = self.customer_mails(partner)
            self.assertEqual(len(mail), 1)
            self.assertEqual((mail.author_id, mail.email_from), (author, author.email_formatted))
            self.assertEqual(mail.reply_to, author.email_formatted)
            body = " ".join(str(mail.body_html).split())
            self.assertIn(signature, body)
            self.assertNotIn("OdooBot", body)
            sms = partner.message_ids.filtered(lambda message: message.message_type == "sms")
            self.assertEqual(sms.author_id, author)
        # the person who sent it follows the customer (replies reach them); the company does not
        self.assertIn(self.responsible.partner_id, followed.message_partner_ids)
        self.assertNotIn(self.company.partner_id, plain.message_partner_ids)

    def test_cron_twice_sends_once(self):
        """Running the cron twice the same day sends one reminder, noted once on the invoice."""
        invoice = self.create_invoice(amount=100.0, due_days_ago=20)
        self.run_cron()
        self.run_cron()
        self.assertEqual(len(self.customer_mails(self.customer)), 1)
        self.assertEqual(
            invoice.message_ids.filtered(lambda message: "Payment reminder" in message.body).mapped("body"),
            [f'<p>Payment reminder "First reminder" sent automatically by email on '
             f'{format_date(self.env, self.today)}.</p>'],
        )
        self.assertEqual(self.customer.followup_next_action_date, self.today + timedelta(days=15))

    def test_cron_batches(self):
        """With batches of 2 and one batch per run, 5 customers take 3 runs; each run re-triggers the cron."""
        customers = self.make_customers(5)
        for partner in customers:
            self.create_invoice(partner=partner, amount=100.0, due_days_ago=20)
        Trigger = self.env["ir.cron.trigger"]
        triggers = Trigger.search([("cron_id", "=", self.cron.id)])
        reminded = []
        for __ in range(3):
            self.run_cron(batch_size=2, max_batches=1)
            reminded.append(len(customers.filtered(lambda partner: self.customer_mails(partner))))
        self.assertEqual(reminded, [2, 4, 5])
        self.assertEqual(len(Trigger.search([("cron_id", "=", self.cron.id)]) - triggers), 2)

    def test_cron_without_contact_details_retries_tomorrow(self):
        """A customer nothing can be sent to is not marked as reminded and is retried tomorrow;
        the task to complete its details goes to its responsible, else to an accounting
        manager (never to OdooBot, the cron's user)."""
        self.customer.email = False
        invoice = self.create_invoice(amount=100.0, due_days_ago=20)
        unassigned = self.make_customers(1, email=False)
        self.create_invoice(partner=unassigned, amount=100.0, due_days_ago=20)
        self.run_cron()
        self.assertFalse(self.receivable_lines(invoice).followup_level_id)
        self.assertEqual(self.customer.followup_next_action_date, self.today + timedelta(days=1))
        self.assertEqual(
            (self.customer.activity_ids.summary, self.customer.activity_ids.user_id),
            ("Complete the follow-up contact details", self.responsible),
        )
        self.assertTrue(self.env.user.has_group("account.group_account_manager"))
        self.assertEqual(unassigned.activity_ids.user_id, self.env.user)

    def test_cron_paid_customer_not_reminded(self):
        """A customer who paid is not reminded by the cron."""
        invoice = self.create_invoice(amount=100.0, due_days_ago=20)
        self.pay(invoice)
        self.run_cron()
        self.assertFalse(self.customer_mails(self.customer))

    def test_cron_query_count_per_customer(self):
        """The queries of one batch do not grow with the invoices of the customers.

        A run has a fixed cost per company (deciding its customers), which depends on
        the other companies of the database (demo data): it is measured first, on a run
        with nothing of ours to send.
        """
        self.run_cron()  # the customers of the database (demo data) are reminded first
        fixed = self.count_queries(self.run_cron)
        customers = self.make_customers(4)
        for partner in customers:
            self.create_invoice(partner=partner, amount=100.0, due_days_ago=20)
            self.create_invoice(partner=partner, amount=50.0, due_days_ago=25)
        self.run_cron(batch_size=2, max_batches=1)  # warm the caches
        self.assertEqual(len(customers.filtered(self.customer_mails)), 2)
        batch = self.count_queries(lambda: self.run_cron(batch_size=2, max_batches=1))
        self.assertEqual(len(customers.filtered(self.customer_mails)), 4)
        self.assertEqual(batch - fixed, QUERIES_PER_BATCH_OF_2)

    def test_cron_queries_per_customer_do_not_grow(self):
        """Each customer of a batch costs the same few queries (10), whatever its open
        invoices: a batch of four customers owing three invoices each costs two customers'
        queries more than a batch of two owing one invoice each."""
        self.run_cron()  # the customers of the database (demo data) are reminded first
        warm_up = self.make_customers(2)
        for partner in warm_up:
            self.create_invoice(partner=partner, amount=100.0, due_days_ago=20)
        self.run_cron()  # caches filled, templates compiled
        two, four = self.make_customers(2), self.make_customers(4)
        for partner in two:
            self.create_invoice(partner=partner, amount=100.0, due_days_ago=20)
        for partner in four:
            for due_days_ago in (20, 25, 30):
                self.create_invoice(partner=partner, amount=100.0, due_days_ago=due_days_ago)
        self.env.flush_all()
        self.env.invalidate_all()
        (two | four).with_context(active_test=False).followup_reminder_type = "manual"
        two.followup_reminder_type = "automatic"
        queries_two = self.count_queries(self.run_cron)
        self.assertEqual(len(two.filtered(self.customer_mails)), 2)
        four.followup_reminder_type = "automatic"
        self.env.flush_all()
        self.env.invalidate_all()
        with self.assertQueryCount(queries_two + 2 * QUERIES_PER_CUSTOMER):
            self.run_cron()
        self.assertEqual(len(four.filtered(self.customer_mails)), 4)


    def test_cron_notifies_the_devices_of_the_recipients(self):
        """The devices to notify are read once for a batch, and a recipient with one is still
        notified on it: Odoo's web push runs for the reminders of the customers whose recipients
        have a device, and only for them (the others would find none)."""
        with_device, without_device = self.make_customers(2)
        for partner in with_device + without_device:
            self.create_invoice(partner=partner, amount=100.0, due_days_ago=20)
        self.env["mail.partner.device"].sudo().create(
            {"partner_id": with_device.id, "endpoint": "https://push.example.com/1", "keys": "{}"}
        )
        pushed = []

        def web_push(thread, message, recipients_data, msg_vals=False, **kwargs):
            pushed.append((message.res_id, sorted(recipient["id"] for recipient in recipients_data)))

        with patch.object(MailThread, "_notify_thread_by_web_push", web_push):
            self.run_cron()
        self.assertEqual(len(self.customer_mails(with_device) + self.customer_mails(without_device)), 2)
        self.assertEqual([res_id for res_id, __ in pushed if res_id in (with_device + without_device).ids],
                         [with_device.id])
        self.assertIn(with_device.id, dict(pushed)[with_device.id])

# One customer more in a batch: its savepoint (taken and released: one reminder's failure is
# its own), its email as Odoo's `message_post` writes it (the message and its recipients, the
# followers to notify, a mail in the queue and its recipients for each group of recipients, here
# the customer and its responsible, the notifications); the notes of its invoices, its history
# record and its next reminder date are written with the others' (multi-row inserts), and the
# devices to notify are read once for the batch.
QUERIES_PER_CUSTOMER = 10

# Beyond the fixed cost of a run: two customers, each with an email, the chatter notes of its
# invoices and its next reminder date; the tokens of their pages read (and the first time
# written) once for the batch; their open lines (the items of the emails) read at once and
# stepped up in one UPDATE per level (58; 61 with a search and an UPDATE per customer; 55 since
# the emails tell Odoo they have no tracking values to search and the devices to notify are read
# once for the batch, not once per email); then the batch's reminder history, 4 queries a batch
# whatever its size (the records, their invoices, their messages, their company); and the
# record of the run, whose customers cost 1 query more than an empty run's.
QUERIES_PER_BATCH_OF_2 = 55 + 4 + 1
