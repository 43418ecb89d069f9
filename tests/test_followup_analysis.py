from datetime import timedelta

from odoo.tests import tagged

from .common import FollowupSendCommon


@tagged("post_install", "-at_install")
class TestFollowupAnalysisEffect(FollowupSendCommon):
    """What a reminder achieved: the payments of its invoices within 7, 30 and 60 days."""

    @classmethod
    def setUpClass(cls, chart_template_ref=None):
        super().setUpClass(chart_template_ref=chart_template_ref)
        cls.invoice_5 = cls.create_invoice(amount=100.0, due_days_ago=20)
        cls.invoice_40 = cls.create_invoice(amount=200.0, due_days_ago=25)
        cls.invoice_partial = cls.create_invoice(amount=300.0, due_days_ago=30)
        cls.paid_before = cls.create_invoice(amount=50.0, due_days_ago=20)
        cls.pay(cls.paid_before, amount=20.0, payment_date=cls.today - timedelta(days=2))
        # queued, not sent: nothing leaves the machine
        cls.env["account.followup.send"]._process_followups(cls.customer, options={"print": False})
        cls.reminder = cls.env["account.followup.reminder"].search([("partner_id", "=", cls.customer.id)])

    def after(self, days):
        return self.today + timedelta(days=days)

    def effect(self):
        self.env["account.followup.reminder"]._refresh_payment_effects()
        return (self.reminder.paid_7d, self.reminder.paid_30d, self.reminder.paid_60d, self.reminder.payment_days)

    def test_paid_within_7_30_60_days(self):
        """Paid 5 days after: in the three; 40 days after: in paid_60d only; a partial payment by its
        amount; a payment made before the reminder does not count."""
        self.assertEqual(self.reminder.amount_overdue, 630.0)
        self.assertEqual(self.effect(), (0.0, 0.0, 0.0, 0.0))
        self.pay(self.invoice_5, payment_date=self.after(5))
        self.pay(self.invoice_40, payment_date=self.after(40))
        self.pay(self.invoice_partial, amount=120.0, payment_date=self.after(10))
        self.assertEqual(self.effect(), (100.0, 220.0, 420.0, 0.0))

    def test_days_until_paid_in_full(self):
        """The days until paid are those of the payment that settled the last invoice; paid after
        70 days, it is in no window."""
        self.pay(self.invoice_5, payment_date=self.after(5))
        self.pay(self.invoice_40, payment_date=self.after(40))
        self.pay(self.invoice_partial, payment_date=self.after(12))
        self.pay(self.paid_before, payment_date=self.after(70))
        self.assertEqual(self.effect(), (100.0, 400.0, 600.0, 70.0))

    def test_pivot_paid_within_30_days_by_level_channel_month(self):
        """The pivot answers "paid within 30 days, by level and by channel, by month"."""
        self.pay(self.invoice_5, payment_date=self.after(5))
        self.pay(self.invoice_partial, amount=120.0, payment_date=self.after(10))
        self.env["account.followup.reminder"]._refresh_payment_effects()
        groups = self.env["account.followup.reminder"].read_group(
            [("partner_id", "=", self.customer.id)],
            ["paid_30d:sum", "amount_overdue:sum"],
            ["level_id", "email", "date:month"],
            lazy=False,
        )
        self.assertEqual(
            [(group["level_id"][0], group["email"], group["paid_30d"], group["amount_overdue"]) for group in groups],
            [(self.level_1.id, True, 220.0, 630.0)],
        )
