from odoo import Command
from odoo.exceptions import ValidationError
from odoo.tests import tagged

from .common import FollowupTestCommon


@tagged("post_install", "-at_install")
class TestFollowupTrust(FollowupTestCommon):
    """The trust level a customer's last 12 months suggest, on the company's thresholds."""

    @classmethod
    def setUpClass(cls, chart_template_ref=None):
        super().setUpClass(chart_template_ref=chart_template_ref)
        # Only the figure a test is about decides: the others' thresholds let everything pass.
        cls.lenient = {
            "followup_trust_good_days": 400.0,
            "followup_trust_bad_days": 400.0,
            "followup_trust_good_late_share": 100.0,
            "followup_trust_bad_late_share": 100.0,
            "followup_trust_good_reminders": 10.0,
            "followup_trust_bad_reminders": 10.0,
            "followup_trust_bad_promises": 0,
        }

    def paid_invoice(self, amount, due_days_ago, paid_days_ago, partner=None):
        invoice = self.create_invoice(partner=partner, amount=amount, due_days_ago=due_days_ago)
        self.pay(invoice, payment_date=self.days_ago(paid_days_ago))
        return invoice

    def thresholds(self, **values):
        self.company.write({**self.lenient, **values})

    def figures(self, partner=None):
        partner = partner or self.customer
        partner.invalidate_recordset()
        return (
            partner.followup_trust_invoices,
            partner.followup_trust_paid,
            partner.followup_trust_days_late,
            partner.followup_trust_late_share,
            partner.followup_trust_broken_promises,
            partner.followup_trust_reminders_per_invoice,
        )

    def suggestion(self, partner=None):
        partner = partner or self.customer
        partner.invalidate_recordset()
        return partner.followup_trust_suggestion

    def remind(self, invoices, days_ago):
        return self.env["account.followup.reminder"].create({
            "partner_id": self.customer.id,
            "company_id": self.company.id,
            "date": self.days_ago(days_ago),
            "move_ids": [Command.set(invoices.ids)],
        })

    def promise(self, state, days_ago):
        promise = self.env["account.followup.promise"].create({
            "partner_id": self.customer.id,
            "date": self.days_ago(days_ago),
            "amount": 100.0,
        })
        promise.state = state
        return promise

    def test_defaults(self):
        """The defaults the README gives."""
        company = self.env["res.company"].create({"name": "Fresh Company"})
        self.assertEqual(
            [company[fname] for fname in self.lenient],
            [5.0, 30.0, 20.0, 50.0, 0.2, 1.0, 2],
        )

    def test_no_history_no_suggestion(self):
        """Without an invoice due in the last 12 months (an older one does not count), nothing is
        suggested, and nothing explained."""
        self.paid_invoice(100.0, due_days_ago=366, paid_days_ago=300)
        self.assertEqual(self.figures(), (0, 0, 0.0, 0.0, 0, 0.0))
        self.assertFalse(self.suggestion())
        self.assertFalse(self.customer.followup_trust_summary)

    def test_days_late_weighted_by_amount(self):
        """300.00 paid 10 days late and 100.00 on its due date: 7.5 days late on average; half of
        the invoices paid late; an invoice due 365 days ago still counts, an open one only in
        the number of invoices."""
        self.paid_invoice(300.0, due_days_ago=40, paid_days_ago=30)
        self.paid_invoice(100.0, due_days_ago=20, paid_days_ago=20)
        self.paid_invoice(50.0, due_days_ago=365, paid_days_ago=365)
        self.create_invoice(amount=80.0, due_days_ago=5)
        self.assertEqual(self.figures(), (4, 3, 3000.0 / 450.0, 100.0 / 3.0, 0, 0.0))

    def test_days_late_on_the_thresholds(self):
        """5 days late on average: good on a good threshold of 5, normal under it; normal on a bad
        threshold of 5, bad under it."""
        self.paid_invoice(100.0, due_days_ago=40, paid_days_ago=30)
        self.paid_invoice(100.0, due_days_ago=20, paid_days_ago=20)
        self.assertEqual(self.figures()[2], 5.0)
        self.thresholds(followup_trust_good_days=5.0)
        self.assertEqual(self.suggestion(), "good")
        self.thresholds(followup_trust_good_days=4.9)
        self.assertEqual(self.suggestion(), "normal")
        self.thresholds(followup_trust_good_days=4.9, followup_trust_bad_days=5.0)
        self.assertEqual(self.suggestion(), "normal")
        self.thresholds(followup_trust_good_days=4.9, followup_trust_bad_days=4.9)
        self.assertEqual(self.suggestion(), "bad")

    def test_late_share_on_the_thresholds(self):
        """One invoice in four paid late (a day late is late): 25 %."""
        self.paid_invoice(100.0, due_days_ago=10, paid_days_ago=9)
        for __ in range(3):
            self.paid_invoice(100.0, due_days_ago=10, paid_days_ago=12)  # paid before it fell due
        self.assertEqual(self.figures()[1:4], (4, 0.25, 25.0))
        self.thresholds(followup_trust_good_late_share=25.0)
        self.assertEqual(self.suggestion(), "good")
        self.thresholds(followup_trust_good_late_share=24.0)
        self.assertEqual(self.suggestion(), "normal")
        self.thresholds(followup_trust_good_late_share=24.0, followup_trust_bad_late_share=25.0)
        self.assertEqual(self.suggestion(), "normal")
        self.thresholds(followup_trust_good_late_share=24.0, followup_trust_bad_late_share=24.0)
        self.assertEqual(self.suggestion(), "bad")

    def test_reminders_per_invoice_on_the_defaults(self):
        """Two invoices, two reminders about the first: 1 reminder per invoice, normal on the
        default bad threshold (1.0); a third reminder, also about the second: 2, bad."""
        self.company.write({key: value for key, value in self.lenient.items() if "reminders" not in key})
        first = self.paid_invoice(100.0, due_days_ago=60, paid_days_ago=10)
        second = self.paid_invoice(100.0, due_days_ago=30, paid_days_ago=30)
        self.remind(first, 40)
        self.remind(first, 20)
        self.assertEqual(self.figures()[5], 1.0)
        self.assertEqual(self.suggestion(), "normal")
        self.remind(first | second, 10)
        self.assertEqual(self.figures()[5], 2.0)
        self.assertEqual(self.suggestion(), "bad")

    def test_broken_promises_on_the_defaults(self):
        """A customer paying on time: good; one broken promise: normal; two: bad (the default
        threshold). A kept promise, and a broken one older than 12 months, do not count."""
        self.company.write({"followup_trust_bad_promises": 2})
        self.paid_invoice(100.0, due_days_ago=30, paid_days_ago=30)
        self.promise("kept", 50)
        self.promise("broken", 400)
        self.assertEqual(self.suggestion(), "good")
        self.promise("broken", 100)
        self.assertEqual((self.figures()[4], self.suggestion()), (1, "normal"))
        self.promise("broken", 20)
        self.assertEqual((self.figures()[4], self.suggestion()), (2, "bad"))
        self.assertEqual(
            self.customer.followup_trust_summary,
            "Last 12 months: 1 invoices due, 1 paid, on average 0.0 days late, 0% paid late, "
            "0.00 reminders per invoice, 2 broken promises.",
        )

    def test_apply_to_many(self):
        """Actions > Apply suggested trust level sets each customer's trust to its suggestion;
        a customer without history keeps its own."""
        late = self.env["res.partner"].create({"name": "Late Payer"})
        nobody = self.env["res.partner"].create({"name": "No History"})
        nobody.trust = "bad"
        self.paid_invoice(100.0, due_days_ago=30, paid_days_ago=30)
        self.paid_invoice(100.0, due_days_ago=80, paid_days_ago=10, partner=late)
        partners = self.customer | late | nobody
        result = partners.action_apply_followup_trust_suggestion()
        self.assertEqual(partners.mapped("trust"), ["good", "bad", "bad"])
        self.assertEqual(result["params"]["message"], "Trust level changed for 2 customers.")
        action = self.env.ref("account_payment_followup.action_apply_followup_trust_suggestion")
        self.assertEqual(action.binding_model_id.model, "res.partner")

    def test_figures_in_one_query(self):
        """The figures of many customers cost one query, as those of one."""
        partners = self.customer
        for index in range(4):
            partner = self.env["res.partner"].create({"name": f"Customer {index}"})
            self.paid_invoice(100.0, due_days_ago=30, paid_days_ago=20, partner=partner)
            partners |= partner
        partners.mapped("followup_trust_suggestion")  # warm the caches of fields, company and rights
        partners.invalidate_recordset([fname for fname in partners._fields if fname.startswith("followup_trust_")])
        with self.assertQueryCount(1):
            suggestions = partners.mapped("followup_trust_suggestion")
        self.assertEqual(suggestions, [False] + ["bad"] * 4)

    def test_thresholds_checked(self):
        """A good threshold beyond its bad one, a negative one, a share beyond 100 %: refused."""
        for values in (
            {"followup_trust_good_days": 40.0},
            {"followup_trust_good_reminders": -1.0},
            {"followup_trust_bad_late_share": 120.0},
        ):
            with self.assertRaises(ValidationError):
                self.company.write(values)
