import io
from datetime import datetime, timedelta, timezone

from freezegun import freeze_time
from PyPDF2 import PdfFileWriter

from odoo import Command, fields
from odoo.tests import tagged

from odoo.addons.account.tests.common import AccountTestInvoicingCommon
from odoo.addons.mail.tests.common import MailCase
from odoo.addons.sms.tests.common import SMSCase

# The logger of the sending pipeline (a failed reminder is logged there).
SEND_LOGGER = "odoo.addons.account_payment_followup.wizard.account_followup_send"


@tagged("post_install", "-at_install")
class FollowupTestCommon(AccountTestInvoicingCommon):
    """Shared setup: a company with the default ladder and customers to remind.

    The default ladder of every company is First reminder (15 days), Second
    reminder (30 days) and Formal notice (60 days).  Dates are relative to
    ``cls.today``, the user's today.
    """

    @classmethod
    def setUpClass(cls, chart_template_ref=None):
        # Noon UTC of the real day: "today" is the same date for every user's time
        # zone (the cron's user included) and no test runs across midnight.
        freezer = freeze_time(f"{datetime.now(timezone.utc).date()} 12:00:00")
        freezer.start()
        cls.addClassCleanup(freezer.stop)
        super().setUpClass(chart_template_ref=chart_template_ref)
        cls.company = cls.company_data["company"]
        cls.company.write({"email": "accounting@company1.example.com", "phone": "+3222222222"})
        cls.today = fields.Date.context_today(cls.env.user)
        Level = cls.env["account.followup.level"]
        cls.level_1, cls.level_2, cls.level_3 = Level.search(
            [("company_id", "=", cls.company.id)], order="delay"
        )
        cls.customer = cls.env["res.partner"].create({
            "name": "Deco Customer",
            "email": "deco.customer@example.com",
            "mobile": "+32475111111",
            "street": "Rue du Paiement 1",
            "city": "Brussels",
            "zip": "1000",
            "country_id": cls.env.ref("base.be").id,
            "lang": "en_US",
        })

    @classmethod
    def days_ago(cls, days):
        return cls.today - timedelta(days=days)

    @classmethod
    def create_invoice(cls, partner=None, amount=100.0, due_days_ago=0, move_type="out_invoice",
                       currency=None, company=None, post=True, invoice_date=None):
        """Create an invoice of ``amount`` (taxes excluded) due ``due_days_ago`` days ago.

        A negative ``due_days_ago`` makes an invoice not yet due.
        """
        company = company or cls.company
        due_date = cls.days_ago(due_days_ago)
        invoice_date = invoice_date or min(due_date, cls.today)
        move = cls.env["account.move"].with_company(company).create({
            "move_type": move_type,
            "partner_id": (partner or cls.customer).id,
            "invoice_date": invoice_date,
            "date": invoice_date,
            "invoice_date_due": due_date,
            "invoice_payment_term_id": False,
            "currency_id": (currency or company.currency_id).id,
            "invoice_line_ids": [Command.create({
                "name": "Consulting",
                "quantity": 1.0,
                "price_unit": amount,
                "tax_ids": [Command.clear()],
            })],
        })
        if post:
            move.action_post()
        return move

    @classmethod
    def pay(cls, invoice, amount=None, payment_date=None):
        """Register a payment of ``amount`` (all of it by default) on the invoice."""
        wizard_values = {"payment_date": payment_date or cls.today}
        if amount is not None:
            wizard_values["amount"] = amount
            wizard_values["payment_difference_handling"] = "open"
        return cls.env["account.payment.register"].with_context(
            active_model="account.move", active_ids=invoice.ids
        ).create(wizard_values)._create_payments()

    @classmethod
    def receivable_lines(cls, move):
        return move.line_ids.filtered(lambda line: line.account_id.account_type == "asset_receivable")

    def items_by_currency(self, partner):
        """Return the open items of the customer's letter, by currency (see the report)."""
        return self.env["report.account_payment_followup.report_followup"]._get_followup_items_by_currency(partner)

    def assertFollowup(self, partner, status, level, total_due, total_overdue):
        """Check a customer's follow-up status, level and totals at once."""
        partner.invalidate_recordset()
        self.assertEqual(
            (partner.followup_status, partner.followup_level_id, partner.total_due, partner.total_overdue),
            (status, level, total_due, total_overdue),
        )

    def count_queries(self, function):
        """Return the number of SQL queries ``function()`` runs, caches emptied first."""
        self.env.invalidate_all()
        before = self.env.cr.sql_log_count
        function()
        return self.env.cr.sql_log_count - before


def blank_pdf_pages(bodies, **kwargs):
    """Stand in for wkhtmltopdf (a program outside Odoo): one blank page per document."""
    writer = PdfFileWriter()
    for __ in bodies:
        writer.addBlankPage(595, 842)
    stream = io.BytesIO()
    writer.write(stream)
    return stream.getvalue()


class FollowupSendCommon(FollowupTestCommon, MailCase, SMSCase):
    """The shared setup of sending: a follow-up responsible, a salesperson, the mail and
    SMS gateways mocked, and helpers to check what a reminder sent."""

    @classmethod
    def setUpClass(cls, chart_template_ref=None):
        super().setUpClass(chart_template_ref=chart_template_ref)
        cls.env["ir.config_parameter"].set_param("mail.restrict.template.rendering", False)
        cls.env.user.write({"email": "accountant@company1.example.com"})

        def user(name, login, group):
            return cls.env["res.users"].create({
                "name": name,
                "login": f"{login}.followup",
                "email": f"{login}@company1.example.com",
                "groups_id": [Command.set(cls.env.ref(group).ids)],
                "company_id": cls.company.id,
                "company_ids": [Command.set(cls.company.ids)],
            })

        cls.responsible = user("Rita Responsible", "rita", "account.group_account_invoice")
        cls.salesperson = user("Sam Salesperson", "sam", "base.group_user")
        cls.customer.followup_responsible_id = cls.responsible
        cls.level_3.activity_type_id = cls.env.ref("mail.mail_activity_data_call")

    def remind_at(self, move, level, days_ago):
        """Mark the invoice as reminded ``level`` ``days_ago`` days ago."""
        self.receivable_lines(move).write({"followup_level_id": level.id, "followup_date": self.days_ago(days_ago)})

    def customer_mails(self, partner):
        """Return the reminder emails sent out of the company (internal followers' copies left out)."""
        return self.env["mail.mail"].search(
            [("model", "=", "res.partner"), ("res_id", "=", partner.id), ("message_type", "=", "comment")]
        ).filtered(lambda mail: not mail.recipient_ids.user_ids)

    def assertReminded(self, moves, level, next_date, partner=None):
        """Check the lines carry the level sent today and the next reminder date."""
        partner = partner or self.customer
        lines = moves.line_ids.filtered(lambda line: line.account_id.account_type == "asset_receivable")
        self.assertEqual(lines.followup_level_id, level)
        self.assertEqual(set(lines.mapped("followup_date")), {self.today})
        partner.invalidate_recordset()
        self.assertEqual(partner.followup_next_action_date, next_date)
