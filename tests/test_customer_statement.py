import re

from odoo import fields
from odoo.tests import tagged

from .common import FollowupTestCommon


@tagged("post_install", "-at_install")
class TestCustomerStatement(FollowupTestCommon):
    """The Customer Statement: opening balance, every document of the period with the
    running balance, closing balance and ageing, by currency, for one or many customers."""

    @classmethod
    def setUpClass(cls, chart_template_ref=None):
        super().setUpClass(chart_template_ref=chart_template_ref)
        cls.gold = cls.currency_data["currency"]
        # Before the period (the last 90 days): 1,000 invoiced, 600 paid.
        cls.invoice_a = cls.create_invoice(amount=1000.0, due_days_ago=100, invoice_date=cls.days_ago(120))
        cls.payment_a = cls.pay(cls.invoice_a, amount=600.0, payment_date=cls.days_ago(110))
        # In the period: an invoice partly paid, a credit note, an invoice not due yet.
        cls.invoice_b = cls.create_invoice(amount=500.0, due_days_ago=30, invoice_date=cls.days_ago(60))
        cls.refund_c = cls.create_invoice(amount=100.0, due_days_ago=50, move_type="out_refund")
        cls.payment_b = cls.pay(cls.invoice_b, amount=200.0, payment_date=cls.days_ago(20))
        cls.invoice_d = cls.create_invoice(amount=300.0, due_days_ago=-20, invoice_date=cls.days_ago(10))
        # In gold coins: 200 invoiced, 50 paid.
        cls.invoice_g = cls.create_invoice(amount=200.0, due_days_ago=40, currency=cls.gold)
        cls.payment_g = cls.pay(cls.invoice_g, amount=50.0, payment_date=cls.days_ago(5))
        cls.second_customer = cls.env["res.partner"].create({"name": "Second Customer", "lang": "en_US"})
        cls.invoice_s = cls.create_invoice(partner=cls.second_customer, amount=75.0, due_days_ago=95)
        cls.report = cls.env["report.account_payment_followup.report_customer_statement"]
        # a layout chosen: printing does not open the document layout configurator first
        cls.company.external_report_layout_id = cls.env.ref("web.external_layout_standard")

    def statement(self, partner, data=None):
        values = self.report._get_report_values(partner.ids, data=data)
        return values["statements"][partner.id]

    def summary(self, group):
        """Return the figures of a currency of the statement, to compare at once."""
        return {
            "currency": group["currency"].name,
            "opening": group["opening"],
            "rows": [
                (row["name"], row["kind"], row["debit"], row["credit"], row["balance"]) for row in group["rows"]
            ],
            "closing": group["closing"],
            "ageing": group["ageing"],
        }

    def test_default_period_two_currencies(self):
        """The last 90 days until today, in the company's currency and in gold coins."""
        statement = self.statement(self.customer)
        self.assertEqual((statement["date_from"], statement["date_to"]), (self.days_ago(90), self.today))
        gold, usd = statement["groups"]  # by currency name: "Gol", "USD"
        self.assertEqual(self.summary(usd), {
            "currency": self.company.currency_id.name,
            "opening": 400.0,
            "rows": [
                (self.invoice_b.name, "Invoice", 500.0, 0.0, 900.0),
                (self.refund_c.name, "Credit Note", 0.0, 100.0, 800.0),
                (self.payment_b.move_id.name, "Payment", 0.0, 200.0, 600.0),
                (self.invoice_d.name, "Invoice", 300.0, 0.0, 900.0),
            ],
            "closing": 900.0,
            "ageing": {"not_due": 300.0, "1_30": 300.0, "31_60": -100.0, "61_90": 0.0, "over_90": 400.0},
        })
        self.assertEqual(self.summary(gold), {
            "currency": self.gold.name,
            "opening": 0.0,
            "rows": [
                (self.invoice_g.name, "Invoice", 200.0, 0.0, 200.0),
                (self.payment_g.move_id.name, "Payment", 0.0, 50.0, 150.0),
            ],
            "closing": 150.0,
            "ageing": {"not_due": 0.0, "1_30": 0.0, "31_60": 150.0, "61_90": 0.0, "over_90": 0.0},
        })

    def test_past_period_undoes_later_payments(self):
        """A period ending 25 days ago: the payment of 20 days ago is neither a line nor in the ageing."""
        data = {
            "date_from": fields.Date.to_string(self.days_ago(90)),
            "date_to": fields.Date.to_string(self.days_ago(25)),
        }
        gold, usd = self.statement(self.customer, data)["groups"]
        self.assertEqual(self.summary(usd), {
            "currency": self.company.currency_id.name,
            "opening": 400.0,
            "rows": [
                (self.invoice_b.name, "Invoice", 500.0, 0.0, 900.0),
                (self.refund_c.name, "Credit Note", 0.0, 100.0, 800.0),
            ],
            "closing": 800.0,
            # 25 days ago: A was 75 days late, B 5 days, the credit note 25 days
            "ageing": {"not_due": 0.0, "1_30": 400.0, "31_60": 0.0, "61_90": 400.0, "over_90": 0.0},
        })
        self.assertEqual(self.summary(gold)["closing"], 200.0)
        self.assertEqual(self.summary(gold)["ageing"]["1_30"], 200.0)

    def test_several_customers_in_one_pdf(self):
        """Printed from the list for two customers: one document, a statement each."""
        wizard = self.env["account.followup.statement"].create({
            "partner_ids": [fields.Command.set((self.customer | self.second_customer).ids)],
        })
        self.assertEqual((wizard.date_from, wizard.date_to), (self.days_ago(90), self.today))
        action = wizard.action_print()
        self.assertEqual(action["report_name"], "account_payment_followup.report_customer_statement")
        self.assertEqual(action["data"], {
            "date_from": fields.Date.to_string(self.days_ago(90)), "date_to": fields.Date.to_string(self.today),
        })
        html = self.env["ir.actions.report"]._render_qweb_html(
            "account_payment_followup.action_report_customer_statement",
            (self.customer | self.second_customer).ids, data=action["data"],
        )[0].decode()
        self.assertEqual(html.count('class="page o_customer_statement"'), 2)
        # an ageing line per currency (the first customer has two, the second one): five
        # columns, then the total
        for title in ("Not Due", "1-30 Days", "31-60 Days", "61-90 Days", "Over 90 Days"):
            self.assertEqual(html.count(f">{title}</th>"), 3, title)
        over_90 = re.search(r'data-bucket="over_90"[^>]*>(.*?)</td>', html.split("Second Customer", 1)[1], re.S)
        self.assertEqual(re.sub(r"<[^>]+>|\s", "", over_90.group(1)).replace("\xa0", ""), "$75.00")
        self.assertIn(self.invoice_b.name, html)
        self.assertIn("Second Customer", html)
        second = self.statement(self.second_customer)
        self.assertEqual(self.summary(second["groups"][0]), {
            "currency": self.company.currency_id.name,
            "opening": 75.0,
            "rows": [],
            "closing": 75.0,
            "ageing": {"not_due": 0.0, "1_30": 0.0, "31_60": 0.0, "61_90": 0.0, "over_90": 75.0},
        })

    def test_send_by_email(self):
        """Sent from the customer: the email of the template, the statement attached."""
        wizard = self.env["account.followup.statement"].create({
            "partner_ids": [fields.Command.set(self.customer.ids)],
        })
        action = wizard.action_send()
        composer = self.env["mail.compose.message"].with_context(**action["context"]).create({})
        self.assertEqual(composer.subject, f"{self.company.name} - Customer Statement of Deco Customer")
        composer._action_send_mail()
        message = self.customer.message_ids[0]
        self.assertEqual(message.partner_ids, self.customer)
        # (.html in tests, where Odoo renders reports as HTML)
        self.assertEqual(
            [name.rsplit(".", 1)[0] for name in message.attachment_ids.mapped("name")],
            [f"Customer Statement - Deco Customer - {fields.Date.to_string(self.today)}"],
        )
