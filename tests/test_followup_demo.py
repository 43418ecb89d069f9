from datetime import timedelta

from odoo.tests import tagged

from ..models.followup_rules import STATUS_IN_NEED as IN_NEED
from ..models.followup_rules import STATUS_NO_ACTION as NO_ACTION
from ..models.followup_rules import STATUS_OVERDUE as OVERDUE
from .common import FollowupTestCommon


@tagged("post_install", "-at_install")
class TestFollowupDemoData(FollowupTestCommon):
    """The demo data (the README's pictures are taken on it) shows what it says: a customer at
    every stage, a second plan, a held invoice, an open and a broken promise, a customer whose
    year suggests another trust level. Loaded in the test company, beside the demo database's
    own demo customers of the same names in the main company."""

    @classmethod
    def setUpClass(cls, chart_template_ref=None):
        super().setUpClass(chart_template_ref=chart_template_ref)
        cls.company._followup_load_demo_data()
        cls.env["account.followup.plan"]._followup_load_demo_data(cls.company.id)
        cls.key_accounts = cls.env["account.followup.plan"].search(
            [("company_id", "=", cls.company.id), ("name", "=", "Key accounts")]
        )

    def demo_customer(self, name):
        """Return the demo customer invoiced in the test company."""
        return self.env["account.move"].search(
            [("company_id", "=", self.company.id), ("partner_id.name", "=", name)], limit=1
        ).partner_id

    def test_stages(self):
        """Each demo customer's status, next level and totals (the first reminder received by
        Evergreen, the second by Foxtrot; Granite's disputed invoice held; Harbor Trading on
        the plan Key accounts)."""
        courtesy_call = self.key_accounts.level_ids.filtered(lambda level: level.delay == 30)
        expected = {
            "Alpine Outfitters": (NO_ACTION, self.level_1, 1200.0, 0.0),
            "Brightwater Cafe": (NO_ACTION, self.level_1, 850.0, 0.0),
            "Cobalt Logistics": (OVERDUE, self.level_1, 2300.0, 2300.0),
            "Delta Print Shop": (IN_NEED, self.level_1, 640.0, 640.0),
            "Evergreen Builders": (IN_NEED, self.level_2, 2000.0, 2000.0),
            "Foxtrot Studios": (IN_NEED, self.level_3, 1250.0, 1250.0),
            "Granite & Co": (OVERDUE, self.level_1, 380.0, 380.0),
            "Harbor Supplies": (IN_NEED, self.level_1, 900.0, 900.0),
            "Harbor Trading": (IN_NEED, courtesy_call, 5400.0, 5400.0),
        }
        self.assertEqual(len(courtesy_call), 1)
        for name, (status, level, total_due, total_overdue) in expected.items():
            with self.subTest(customer=name):
                partner = self.demo_customer(name)
                self.assertTrue(partner)
                self.assertFollowup(partner, status, level, total_due, total_overdue)
        self.assertEqual(self.demo_customer("Harbor Trading").followup_current_plan_id, self.key_accounts)
        self.assertEqual(self.demo_customer("Delta Print Shop").followup_reminder_type, "manual")

    def test_policy(self):
        """The held invoice has its reason and end; Cobalt's promise is open for in 5 days,
        Foxtrot's broken."""
        held = self.env["account.move.line"].search(
            [("company_id", "=", self.company.id), ("blocked", "=", True)]
        )
        self.assertEqual(
            (held.partner_id, held.balance, held.followup_hold_note, held.followup_hold_until),
            (self.demo_customer("Granite & Co"), 4200.0, "Disputed: 20 chairs delivered instead of 24",
             self.today + timedelta(days=14)),
        )
        promises = self.env["account.followup.promise"].search([("company_id", "=", self.company.id)])
        self.assertEqual(
            sorted((promise.partner_id.name, promise.state, promise.date, promise.amount) for promise in promises),
            [("Cobalt Logistics", "open", self.today + timedelta(days=5), 2300.0),
             ("Foxtrot Studios", "broken", self.today - timedelta(days=10), 1250.0)],
        )
        self.assertEqual(self.demo_customer("Cobalt Logistics").followup_promise_date, self.today + timedelta(days=5))
        self.assertTrue(self.demo_customer("Foxtrot Studios").followup_promise_broken)

    def test_suggested_trust(self):
        """Harbor Supplies paid its three invoices of the year 45 days late each: Bad Debtor is
        suggested beside its Normal Debtor."""
        harbor = self.demo_customer("Harbor Supplies")
        self.assertEqual(
            (harbor.trust, harbor.followup_trust_suggestion, harbor.followup_trust_invoices,
             harbor.followup_trust_paid, harbor.followup_trust_days_late, harbor.followup_trust_late_share),
            ("normal", "bad", 4, 3, 45.0, 100.0),
        )
