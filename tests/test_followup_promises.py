from datetime import timedelta

from freezegun import freeze_time

from odoo import SUPERUSER_ID, Command
from odoo.exceptions import AccessError
from odoo.tests import tagged

from ..models.followup_rules import STATUS_IN_NEED as IN_NEED
from ..models.followup_rules import STATUS_NO_ACTION as NO_ACTION
from ..models.followup_rules import STATUS_OVERDUE as OVERDUE
from .common import FollowupSendCommon


@tagged("post_install", "-at_install")
class TestFollowupPromises(FollowupSendCommon):
    """Promises to pay: the chase pauses until the promised date plus the plan's grace days (3),
    then the daily run decides whether the promise was kept or broken."""

    @classmethod
    def setUpClass(cls, chart_template_ref=None):
        super().setUpClass(chart_template_ref=chart_template_ref)
        cls.invoice = cls.create_invoice(amount=800.0, due_days_ago=20)

    def promise(self, amount=500.0, days=5, partner=None, **values):
        return self.env["account.followup.promise"].create({
            "partner_id": (partner or self.customer).id,
            "date": self.today + timedelta(days=days),
            "amount": amount,
            **values,
        })

    def run_cron(self):
        with self.mock_mail_gateway(), self.mockSMSGateway():
            self.env["res.partner"].with_user(SUPERUSER_ID)._cron_execute_followups()

    def in_filter(self, name):
        """Return the customer if the filter *Promised* or *Broken promise* of the Follow-up Reports finds it."""
        leaf = ("followup_promise_date", "!=", False) if name == "promised" else ("followup_promise_broken", "=", True)
        return self.env["res.partner"].search([("id", "=", self.customer.id), leaf])

    def test_promise_holds_the_chase(self):
        """An open promise keeps the customer out of In need of action until its date plus 3 days,
        in SQL as in Python; the report shows "Promised for" its date and the Promised filter."""
        self.assertFollowup(self.customer, IN_NEED, self.level_1, 800.0, 800.0)
        action = self.customer.action_open_followup_promise()
        self.assertEqual((action["res_model"], action["context"]["default_amount"]),
                         ("account.followup.promise", 800.0))
        promise = self.promise()
        self.assertEqual((promise.state, promise.date_deadline), ("open", self.today + timedelta(days=8)))
        self.assertEqual(promise.user_id, self.env.user)
        self.assertFollowup(self.customer, OVERDUE, self.level_1, 800.0, 800.0)
        self.assertEqual(self.customer.followup_promise_date, self.today + timedelta(days=5))
        self.assertEqual(self.in_filter("promised"), self.customer)
        Partner = self.env["res.partner"]
        self.assertFalse(Partner.search([("id", "=", self.customer.id), ("followup_status", "=", IN_NEED)]))
        self.assertEqual(self.customer.followup_promise_ids, promise)
        with freeze_time(self.today + timedelta(days=8)):
            self.assertFollowup(self.customer, OVERDUE, self.level_1, 800.0, 800.0)
        with freeze_time(self.today + timedelta(days=9)):
            # passed, not yet decided by the run: the chase resumes already
            self.assertFollowup(self.customer, IN_NEED, self.level_1, 800.0, 800.0)
            self.assertEqual(Partner.search([("id", "=", self.customer.id), ("followup_status", "=", IN_NEED)]),
                             self.customer)
        self.run_cron()
        self.assertEqual(promise.state, "open")
        self.assertFalse(self.receivable_lines(self.invoice).followup_level_id, "no reminder while promised")

    def test_promise_kept(self):
        """The customer pays the 500.00 promised: the run marks the promise kept; the 300.00 still
        overdue is chased again (first reminder), and no activity is scheduled."""
        promise = self.promise(amount=500.0)
        self.pay(self.invoice, amount=500.0)
        self.assertFollowup(self.customer, OVERDUE, self.level_1, 300.0, 300.0)
        with freeze_time(self.today + timedelta(days=9)):
            self.run_cron()
            self.assertEqual(promise.state, "kept")
            bodies = self.customer.message_ids.mapped("body")
            self.assertTrue(any("500.00 on" in body and "kept" in body for body in bodies))
            self.assertFalse(self.customer.activity_ids.filtered(lambda a: a.summary == "Promise to pay broken"))
            self.assertFalse(self.in_filter("broken"))
            self.assertEqual(self.receivable_lines(self.invoice).followup_level_id, self.level_1)

    def test_promise_kept_when_nothing_is_overdue(self):
        """Paid in full by a credit note rather than a payment: nothing is overdue, the promise is kept."""
        promise = self.promise(amount=800.0)
        credit = self.create_invoice(amount=800.0, due_days_ago=0, move_type="out_refund")
        (self.receivable_lines(self.invoice) | self.receivable_lines(credit)).reconcile()
        with freeze_time(self.today + timedelta(days=9)):
            self.run_cron()
        self.assertEqual(promise.state, "kept")
        self.assertFollowup(self.customer, NO_ACTION, self.env["account.followup.level"], 0.0, 0.0)

    def test_promise_broken(self):
        """Only 200.00 of the 500.00 promised paid: the run breaks the promise, notes it, gives the
        responsible an activity, and the chase resumes where it stood (the first reminder is sent
        in the same run)."""
        promise = self.promise(amount=500.0)
        self.pay(self.invoice, amount=200.0)
        with freeze_time(self.today + timedelta(days=9)):
            self.run_cron()
            self.assertEqual(promise.state, "broken")
            notes = self.customer.message_ids.mapped("body")
            self.assertTrue(any("broken: the follow-up resumes" in note for note in notes))
            activity = self.customer.activity_ids.filtered(lambda a: a.summary == "Promise to pay broken")
            self.assertEqual(activity.user_id, self.responsible)
            self.assertEqual(self.in_filter("broken"), self.customer)
            self.assertTrue(self.customer.followup_promise_broken)
            self.assertEqual(self.receivable_lines(self.invoice).followup_level_id, self.level_1)
        self.customer.invalidate_recordset()
        self.assertFalse(self.customer.followup_promise_date)

    def test_promise_cancelled(self):
        """A cancelled promise holds nothing: the customer is in need of action at once."""
        promise = self.promise()
        self.assertFollowup(self.customer, OVERDUE, self.level_1, 800.0, 800.0)
        promise.action_cancel()
        self.assertEqual(promise.state, "cancelled")
        self.assertFollowup(self.customer, IN_NEED, self.level_1, 800.0, 800.0)
        self.assertFalse(self.in_filter("promised"))
        self.assertFalse(self.in_filter("broken"))
        with freeze_time(self.today + timedelta(days=9)):
            self.run_cron()
        self.assertEqual(promise.state, "cancelled")

    def test_promise_from_the_wizard(self):
        """The Follow up wizard offers to record a promise instead of reminding."""
        wizard = self.env["account.followup.send"].create({"partner_ids": [Command.set(self.customer.ids)]})
        action = wizard.action_open_followup_promise()
        self.assertEqual((action["res_model"], action["context"]["default_partner_id"]),
                         ("account.followup.promise", self.customer.id))

    def test_promise_of_another_company(self):
        """A promise recorded in company A holds nothing in company B, and B's users cannot see it."""
        company_b = self.company_data_2["company"]
        self.create_invoice(amount=120.0, due_days_ago=20, company=company_b)
        promise = self.promise()
        customer_b = self.customer.with_company(company_b)
        level_b = self.env["account.followup.level"].search([("plan_id", "=", company_b.followup_default_plan_id.id)],
                                                             order="delay", limit=1)
        self.assertFollowup(customer_b, IN_NEED, level_b, 120.0, 120.0)
        self.assertFalse(customer_b.followup_promise_date)
        self.assertFalse(customer_b.followup_promise_ids)
        user_b = self.env["res.users"].create({
            "name": "Bob B",
            "login": "bob.b.followup",
            "groups_id": [Command.set(self.env.ref("account.group_account_invoice").ids)],
            "company_id": company_b.id,
            "company_ids": [Command.set(company_b.ids)],
        })
        with self.assertRaises(AccessError):
            promise.with_user(user_b).read(["amount"])
        self.assertFalse(self.env["account.followup.promise"].with_user(user_b).search([]))
