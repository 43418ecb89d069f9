"""Reliability checklist: multi-company, access rights, crash safety, bad input, lifecycle.

Each test's docstring is one line of the checklist in the README ("Reliability
checklist").  Scenarios already proven elsewhere are listed there, not repeated here.
"""

import smtplib
from collections import Counter
from datetime import timedelta
from unittest.mock import patch

from lxml import html

from odoo import SUPERUSER_ID, Command, modules
from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.tests import new_test_user, tagged
from odoo.tools import convert_file, mute_logger

from odoo.addons.sms.tools.sms_api import SmsApi

from ..models.followup_rules import STATUS_IN_NEED as IN_NEED
from ..models.followup_rules import STATUS_NO_ACTION as NO_ACTION
from ..models.followup_rules import STATUS_OVERDUE as OVERDUE
from .common import SEND_LOGGER, FollowupTestCommon

MODULE = "account_payment_followup"


class WorkerKilled(BaseException):
    """What a worker killed mid-run looks like to the code it runs: nothing catches it."""


@tagged("post_install", "-at_install")
class TestReliabilityMultiCompany(FollowupTestCommon):
    """Multi-company: everything a follow-up decides is per company; branches have their own."""

    @classmethod
    def setUpClass(cls, chart_template_ref=None):
        super().setUpClass(chart_template_ref=chart_template_ref)
        cls.company_2 = cls.company_data_2["company"]
        cls.levels_2 = cls.env["account.followup.level"].search([("company_id", "=", cls.company_2.id)])

    def test_shared_customer_followed_up_separately(self):
        """A customer of two companies is reminded, dated, totalled and assigned separately in each."""
        invoice_1 = self.create_invoice(amount=100.0, due_days_ago=20)
        invoice_2 = self.create_invoice(amount=70.0, due_days_ago=20, company=self.company_2)
        admin = self.env.ref("base.user_admin")
        self.customer.followup_responsible_id = self.env.user
        self.customer.with_company(self.company_2).followup_responsible_id = admin

        results = self.env["account.followup.send"]._process_followups(self.customer.with_company(self.company))

        self.assertEqual(results["sent"], self.customer)
        self.assertEqual(self.receivable_lines(invoice_1).followup_level_id, self.level_1)
        self.assertEqual(self.receivable_lines(invoice_1).followup_date, self.today)
        self.assertFalse(self.receivable_lines(invoice_2).followup_level_id, "company 2's lines are untouched")
        self.assertEqual(self.customer.followup_next_action_date, self.today + timedelta(days=15))
        customer_2 = self.customer.with_company(self.company_2)
        customer_2.invalidate_recordset()
        self.assertFalse(customer_2.followup_next_action_date)
        self.assertFollowup(self.customer, OVERDUE, self.level_2, 100.0, 100.0)
        self.assertFollowup(customer_2, IN_NEED, self.levels_2[0], 70.0, 70.0)
        self.assertEqual(self.customer.followup_responsible_id, self.env.user)
        self.assertEqual(customer_2.followup_responsible_id, admin)

    def test_user_of_other_company_sees_nothing_of_company_1(self):
        """A user of company 2 only sees company 2's levels, and no figure of company 1's customers."""
        self.create_invoice(amount=100.0, due_days_ago=20)
        user_2 = new_test_user(
            self.env, login="billing_2", groups="account.group_account_invoice",
            company_id=self.company_2.id, company_ids=[Command.set(self.company_2.ids)],
        )
        Level = self.env["account.followup.level"].with_user(user_2)
        self.assertEqual(Level.search([]), self.levels_2.with_user(user_2))
        with self.assertRaises(AccessError):
            self.level_1.with_user(user_2).read(["name"])
        with self.assertRaises(AccessError):  # the record rule applies to a forced company too
            Level.with_context(allowed_company_ids=[self.company.id]).search([])
        customer = self.customer.with_user(user_2)
        self.assertFollowup(customer, NO_ACTION, Level, 0.0, 0.0)
        self.assertFalse(customer.followup_line_ids)
        self.assertNotIn(
            self.customer, customer.search([("followup_status", "!=", NO_ACTION)]),
            "company 1's customers are not in company 2's Follow-up Reports",
        )

    def test_branch_has_its_own_ladder_and_invoices(self):
        """A branch (company with a parent) gets its own default ladder and follows up its own invoices only."""
        branch = self.env["res.company"].create({
            "name": "Branch of Company 1",
            "parent_id": self.company.id,
            "country_id": self.company.country_id.id,
        })
        self.env.cr.precommit.run()  # the branch takes its parent's chart of accounts
        branch_levels = self.env["account.followup.level"].search([("company_id", "=", branch.id)])
        self.assertEqual(branch_levels.mapped("delay"), [15, 30, 60])
        self.assertFalse(branch_levels & (self.level_1 | self.level_2 | self.level_3))
        branch_invoice = self.create_invoice(amount=40.0, due_days_ago=20, company=branch)
        self.assertEqual(self.receivable_lines(branch_invoice).company_id, branch)
        self.create_invoice(amount=100.0, due_days_ago=5)

        self.assertFollowup(self.customer.with_company(branch), IN_NEED, branch_levels[0], 40.0, 40.0)
        self.assertFollowup(self.customer.with_company(self.company), OVERDUE, self.level_1, 100.0, 100.0)
        with self.assertRaises(UserError):  # the parent's levels are not the branch's
            self.customer.with_company(branch).followup_level_id = self.level_2


@tagged("post_install", "-at_install")
class TestReliabilityAccess(FollowupTestCommon):
    """Access matrix: who reads, configures, sends and processes follow-ups."""

    @classmethod
    def setUpClass(cls, chart_template_ref=None):
        super().setUpClass(chart_template_ref=chart_template_ref)
        company_values = {"company_id": cls.company.id, "company_ids": [Command.set(cls.company.ids)]}
        # Internal users get Contact Creation from Odoo's default user template: so do these.
        contacts = "base.group_partner_manager"

        def user(login, groups):
            return new_test_user(cls.env, login=login, groups=groups, **company_values)

        cls.portal = user("fu_portal", "base.group_portal")
        cls.internal = user("fu_internal", f"base.group_user,{contacts}")
        cls.readonly = user("fu_readonly", f"account.group_account_readonly,{contacts}")
        cls.billing = user("fu_billing", f"account.group_account_invoice,{contacts}")
        cls.manager = user("fu_manager", f"account.group_account_manager,{contacts}")
        cls.invoice = cls.create_invoice(amount=100.0, due_days_ago=20)

    def assertCanRead(self, user):
        levels = self.env["account.followup.level"].with_user(user).search([("company_id", "=", self.company.id)])
        self.assertEqual(levels.mapped("name"), ["First reminder", "Second reminder", "Formal notice"])
        customer = self.customer.with_user(user)
        self.assertEqual(
            customer.read(["followup_status", "total_due", "total_overdue"])[0],
            {"id": self.customer.id, "followup_status": IN_NEED, "total_due": 100.0, "total_overdue": 100.0},
        )

    def assertCannotRead(self, user):
        with self.assertRaises(AccessError):
            self.env["account.followup.level"].with_user(user).search([])
        with self.assertRaises(AccessError):
            self.customer.with_user(user).read(["total_due"])
        with self.assertRaises(AccessError):
            self.customer.with_user(user).read(["followup_status"])

    def assertCanConfigure(self, user, allowed):
        Level = self.env["account.followup.level"].with_user(user)
        actions = {
            "create": lambda: Level.create({"name": "Early bird", "delay": 5, "company_id": self.company.id}),
            "write": lambda: self.level_1.with_user(user).write({"name": "Renamed"}),
            "unlink": lambda: self.level_3.with_user(user).unlink(),
        }
        for name, action in actions.items():
            with self.subTest(operation=name):
                if allowed:
                    action()
                else:
                    with self.assertRaises(AccessError):
                        action()

    def assertCanProcess(self, user, allowed):
        customer = self.customer.with_user(user)
        if allowed:
            result = customer.action_process_followups()
            self.assertEqual(result["params"]["type"], "success", result["params"]["message"])
            self.assertEqual(self.receivable_lines(self.invoice).followup_level_id, self.level_1)
        else:
            with self.assertRaises(AccessError), mute_logger(SEND_LOGGER):
                customer.action_process_followups()
            self.assertFalse(self.receivable_lines(self.invoice).followup_level_id)
        action = self.env.ref(f"{MODULE}.action_process_followups")
        self.assertEqual(action.groups_id <= user.groups_id, allowed, "the list action is offered to whom may use it")
        if not allowed:
            with self.assertRaises(AccessError):
                action.with_user(user).with_context(
                    active_model="res.partner", active_ids=self.customer.ids, active_id=self.customer.id
                ).run()

    def assertCanSend(self, user, allowed):
        Wizard = self.env["account.followup.send"].with_user(user)
        if allowed:
            Wizard.create({"partner_ids": [Command.set(self.customer.ids)]}).action_send()
            self.assertEqual(self.receivable_lines(self.invoice).followup_level_id, self.level_1)
            self.receivable_lines(self.invoice).write({"followup_level_id": False, "followup_date": False})
            self.customer.followup_next_action_date = False
        else:
            with self.assertRaises(AccessError):
                Wizard.create({"partner_ids": [Command.set(self.customer.ids)]})

    def test_portal_user(self):
        """Portal user: cannot read levels or follow-up figures, configure, send or process."""
        self.assertCannotRead(self.portal)
        self.assertCanConfigure(self.portal, False)
        self.assertCanSend(self.portal, False)
        self.assertCanProcess(self.portal, False)

    def test_internal_user_without_accounting(self):
        """Internal user without accounting rights: cannot read, configure, send or process."""
        self.assertCannotRead(self.internal)
        self.assertCanConfigure(self.internal, False)
        self.assertCanSend(self.internal, False)
        self.assertCanProcess(self.internal, False)

    def test_readonly_accountant(self):
        """Read-only accountant: reads levels and figures; cannot configure, send or process."""
        self.assertCanRead(self.readonly)
        self.assertCanConfigure(self.readonly, False)
        self.assertCanSend(self.readonly, False)
        self.assertCanProcess(self.readonly, False)

    def test_billing_user(self):
        """Billing user: reads, sends and processes; cannot configure the levels."""
        self.assertCanRead(self.billing)
        self.assertCanConfigure(self.billing, False)
        self.assertCanSend(self.billing, True)
        self.assertCanProcess(self.billing, True)

    def test_account_manager(self):
        """Billing administrator: reads, configures, sends and processes."""
        self.assertCanRead(self.manager)
        self.assertCanSend(self.manager, True)
        self.assertCanProcess(self.manager, True)
        self.assertCanConfigure(self.manager, True)


@tagged("post_install", "-at_install")
class TestReliabilityCrash(FollowupTestCommon):
    """Crash safety: an interrupted run loses nothing and sends nothing twice; failures are visible."""

    @classmethod
    def setUpClass(cls, chart_template_ref=None):
        super().setUpClass(chart_template_ref=chart_template_ref)
        cls.customers = cls.env["res.partner"]
        for index in range(5):
            customer = cls.customer.copy({"name": f"Late Customer {index}", "email": f"late{index}@example.com"})
            cls.create_invoice(partner=customer, amount=100.0 + index, due_days_ago=20)
            cls.customers |= customer
        cls.cron_env = cls.env(user=SUPERUSER_ID)  # the cron runs as root (data/ir_cron_data.xml)

    def reminders(self, partner):
        """The reminder emails of a customer (one chatter comment each)."""
        return self.env["mail.message"].search([
            ("model", "=", "res.partner"),
            ("res_id", "=", partner.id),
            ("message_type", "=", "comment"),
        ])

    def run_cron_with_commits(self, **kwargs):
        """Run the cron as production does: a commit after each batch.

        A commit is emulated by a savepoint, so that an interruption rolls back to the
        last "commit", as the database does to a killed worker's transaction.
        """
        committed = [self.env.cr.savepoint()]

        def commit():
            committed.append(self.env.cr.savepoint())

        try:
            Send = type(self.env["account.followup.send"])
            with patch.object(Send, "_can_commit", return_value=True), \
                    patch.object(self.env.cr, "commit", commit):
                self.cron_env["res.partner"]._cron_execute_followups(**kwargs)
        except BaseException:
            committed[-1].rollback()  # also clears the caches, as a new transaction would start
            raise

    def test_cron_killed_mid_batch_resumes_exactly_once(self):
        """Cron killed in the middle of a batch, then run again: every reminder goes out exactly once."""
        Send = type(self.env["account.followup.send"])
        execute = Send._execute_followup
        victim = self.customers[3]  # the second customer of the second batch of two

        def execute_or_die(send, partner, options=None, batch=None):
            if partner == victim:
                raise WorkerKilled()
            return execute(send, partner, options, batch=batch)

        # Not assertRaises: Odoo's rolls back everything done inside it.
        interrupted = False
        with patch.object(Send, "_execute_followup", execute_or_die):
            try:
                self.run_cron_with_commits(batch_size=2)
            except WorkerKilled:
                interrupted = True
        self.assertTrue(interrupted, "the cron was not interrupted")
        self.assertEqual([len(self.reminders(customer)) for customer in self.customers], [1, 1, 0, 0, 0])

        self.run_cron_with_commits(batch_size=2)
        self.assertEqual([len(self.reminders(customer)) for customer in self.customers], [1, 1, 1, 1, 1])
        self.assertEqual(
            [self.env["mail.mail"].search_count([("recipient_ids", "=", customer.id)]) for customer in self.customers],
            [1, 1, 1, 1, 1],
        )
        self.assertEqual(self.customers.mapped("followup_status"), [OVERDUE] * 5)
        self.cron_env["res.partner"]._cron_execute_followups(batch_size=2)  # nothing left: sends nothing more
        self.assertEqual([len(self.reminders(customer)) for customer in self.customers], [1, 1, 1, 1, 1])

    @mute_logger(SEND_LOGGER)
    def test_cron_error_on_one_customer(self):
        """An error on one customer: the others are reminded; it is logged, shown, marked failed
        (not postponed: the next run tries it again), not marked reminded."""
        Send = type(self.env["account.followup.send"])
        execute = Send._execute_followup
        victim = self.customers[1]

        def execute_or_fail(send, partner, options=None, batch=None):
            if partner == victim:
                raise ValueError("template engine exploded")
            return execute(send, partner, options, batch=batch)

        with patch.object(Send, "_execute_followup", execute_or_fail):
            self.cron_env["res.partner"]._cron_execute_followups(batch_size=2)
        self.assertEqual([len(self.reminders(customer)) for customer in self.customers], [1, 0, 1, 1, 1])
        self.assertFalse(self.receivable_lines(victim.invoice_ids).followup_level_id)
        self.assertFalse(victim.followup_next_action_date)
        self.assertTrue(victim.followup_failed)
        self.assertTrue(victim.message_ids.filtered(lambda message: "template engine exploded" in message.body))
        self.assertTrue(victim.activity_ids.filtered(lambda activity: activity.summary == "Payment reminder failed"))

    def test_failed_reminder_retried_the_same_day(self):
        """A reminder fails while the cron sends a batch: the others are sent, the customer carries
        the failure (note, to-do, *Reminder failed*) until a reminder succeeds, and once the cause
        is fixed the next run the same day sends it exactly once. A customer whose reminder fails
        every time is tried once per run, after the others, and never makes the cron run again."""
        Send = type(self.env["account.followup.send"])
        send_email = Send._send_email
        flaky, broken = self.customers[1], self.customers[3]
        attempts = Counter()
        fixed = set()

        def send_or_fail(send, reminder, values):
            partner = reminder["partner"]
            attempts[partner] += 1
            if partner == broken and broken not in fixed or partner == flaky and flaky not in fixed:
                raise ConnectionRefusedError("the mail server refused the connection")
            return send_email(send, reminder, values)

        def failed_todos(partner):
            return partner.activity_ids.filtered(lambda activity: activity.summary == "Payment reminder failed")

        Partner = self.env["res.partner"]
        cron = self.env.ref(f"{MODULE}.ir_cron_execute_followups")
        Trigger = self.env["ir.cron.trigger"]
        triggers = Trigger.search([("cron_id", "=", cron.id)])
        with patch.object(Send, "_send_email", send_or_fail), \
                mute_logger(SEND_LOGGER):
            self.run_cron_with_commits(batch_size=2)
            self.assertEqual([len(self.reminders(customer)) for customer in self.customers], [1, 0, 1, 0, 1])
            self.assertEqual([attempts[customer] for customer in self.customers], [1, 1, 1, 1, 1])
            # the Follow-up Reports' "Reminder failed" filter
            self.assertEqual(
                Partner.search([("id", "in", self.customers.ids), ("followup_failed", "=", True)]), flaky + broken
            )
            self.assertEqual(len(failed_todos(flaky)), 1)
            self.assertIn("refused the connection", flaky.message_ids[0].body)
            self.assertEqual((flaky + broken).mapped("followup_status"), [IN_NEED, IN_NEED], "not postponed")

            fixed.add(flaky)  # e.g. the mail server is back
            self.run_cron_with_commits(batch_size=2)
            self.assertEqual([len(self.reminders(customer)) for customer in self.customers], [1, 1, 1, 0, 1])
            self.assertEqual([attempts[customer] for customer in self.customers], [1, 2, 1, 2, 1])
            self.assertEqual(
                Partner.search([("id", "in", self.customers.ids), ("followup_failed", "=", True)]), broken
            )
            self.assertFalse(failed_todos(flaky), "the failure is cleared once a reminder is sent")
            self.assertEqual(flaky.followup_status, OVERDUE)

            # one customer per run: a new customer goes before the one that keeps failing, and the
            # failing one left over does not make the cron trigger itself again
            newcomer = self.customer.copy({"name": "Newcomer", "email": "newcomer@example.com"})
            self.create_invoice(partner=newcomer, amount=100.0, due_days_ago=20)
            self.run_cron_with_commits(batch_size=1, max_batches=1)
            self.assertEqual((len(self.reminders(newcomer)), attempts[broken]), (1, 2))
            self.run_cron_with_commits(batch_size=1, max_batches=1)
            self.assertEqual(attempts[broken], 3)
            self.assertEqual(Trigger.search([("cron_id", "=", cron.id)]), triggers)
            self.assertEqual(len(failed_todos(broken)), 1, "one to-do, however many runs failed")

            fixed.add(broken)
            action = broken.action_process_followups()
        self.assertEqual(action["params"]["type"], "success")
        self.assertEqual(len(self.reminders(broken)), 1)
        self.assertEqual(attempts[broken], 4)
        self.assertFalse(broken.followup_failed)
        self.assertFalse(failed_todos(broken))

    def test_failing_email_server(self):
        """A failing email server: the email stays in exception, its failure shows on the reminder."""
        customer = self.customers[0]
        self.env["account.followup.send"]._process_followups(customer)
        mail = self.env["mail.mail"].search([("recipient_ids", "=", customer.id)])
        self.assertEqual(mail.state, "outgoing")
        IrMailServer = type(self.env["ir.mail_server"])
        with patch.object(IrMailServer, "connect", side_effect=smtplib.SMTPConnectError(421, "down")), \
                mute_logger("odoo.addons.mail.models.mail_mail"):
            mail.send()
        self.assertEqual(mail.state, "exception")
        self.assertIn("down", mail.failure_reason)
        notification = self.reminders(customer).notification_ids
        self.assertEqual(notification.mapped("notification_status"), ["exception"])
        self.assertEqual(notification.failure_type, "mail_smtp")

    def test_sms_error(self):
        """An SMS the provider refuses: the SMS is in error, its failure shows on the reminder."""
        customer = self.customers[0]
        self.create_invoice(partner=customer, amount=10.0, due_days_ago=35)
        self.receivable_lines(customer.invoice_ids).write(
            {"followup_level_id": self.level_1.id, "followup_date": self.days_ago(16)}
        )
        self.assertFollowup(customer, IN_NEED, self.level_2, 110.0, 110.0)  # email and SMS
        self.env["account.followup.send"]._process_followups(customer)
        sms = self.env["sms.sms"].search([("partner_id", "=", customer.id)])
        self.assertEqual(sms.state, "outgoing")

        def refuse(api, messages, delivery_reports_url=False):
            return [{"uuid": number["uuid"], "state": "insufficient_credit"}
                    for message in messages for number in message["numbers"]]

        with patch.object(SmsApi, "_send_sms_batch", autospec=True, side_effect=refuse):
            sms.send(unlink_failed=False, unlink_sent=False)
        self.assertEqual((sms.state, sms.failure_type), ("error", "sms_credit"))
        notification = self.env["mail.notification"].search([("sms_id_int", "=", sms.id)])
        self.assertEqual(
            (notification.notification_status, notification.failure_type), ("exception", "sms_credit")
        )


@tagged("post_install", "-at_install")
class TestReliabilityBadInput(FollowupTestCommon):
    """Bad input: refused with a clear message, or skipped visibly; nothing lost."""

    def test_duplicate_delay_with_archived_level_or_by_write(self):
        """Duplicate delays are refused against archived levels too, and when changing a delay."""
        self.level_1.active = False
        with self.assertRaisesRegex(ValidationError, "both remind 15 days"):
            self.env["account.followup.level"].create({"name": "Again", "delay": 15, "company_id": self.company.id})
        with self.assertRaisesRegex(ValidationError, "both remind 30 days"):
            self.level_3.delay = 30

    def test_sms_template_on_wrong_model(self):
        """An SMS template made for invoices is refused on a level."""
        template = self.env["sms.template"].create({
            "name": "Invoice SMS",
            "model_id": self.env["ir.model"]._get_id("account.move"),
            "body": "Invoice {{ object.name }}",
        })
        with self.assertRaisesRegex(ValidationError, "made for account.move records"):
            self.level_2.sms_template_id = template

    def test_next_level_archived(self):
        """The next level archived while customers wait for it: they go on to the following active one."""
        invoice = self.create_invoice(amount=100.0, due_days_ago=35)
        self.receivable_lines(invoice).write({"followup_level_id": self.level_1.id, "followup_date": self.days_ago(20)})
        self.level_2.active = False
        self.assertFollowup(self.customer, OVERDUE, self.level_3, 100.0, 100.0)

    def test_last_level_archived(self):
        """The last level archived with customers on it: they get the last active level, at its gap."""
        invoice = self.create_invoice(amount=100.0, due_days_ago=100)
        lines = self.receivable_lines(invoice)
        lines.write({"followup_level_id": self.level_3.id, "followup_date": self.days_ago(14)})
        self.level_3.active = False
        self.assertFollowup(self.customer, OVERDUE, self.level_2, 100.0, 100.0)
        lines.followup_date = self.days_ago(15)  # gap between the two active levels: 30 - 15
        self.assertFollowup(self.customer, IN_NEED, self.level_2, 100.0, 100.0)
        with self.assertRaisesRegex(UserError, "archive it"):
            self.level_3.unlink()

    def test_line_without_due_date(self):
        """A receivable line without due date (misc entry) counts from its date, in status and letter."""
        receivable = self.company_data["default_account_receivable"]
        entry = self.env["account.move"].create({
            "move_type": "entry",
            "date": self.days_ago(20),
            "line_ids": [
                Command.create({"partner_id": self.customer.id, "account_id": receivable.id, "debit": 80.0}),
                Command.create({"account_id": self.company_data["default_account_revenue"].id, "credit": 80.0}),
            ],
        })
        entry.action_post()
        line = self.receivable_lines(entry)
        line.date_maturity = False
        self.assertFalse(line.date_maturity)
        self.assertFollowup(self.customer, IN_NEED, self.level_1, 80.0, 80.0)
        rows = self.items_by_currency(self.customer)[0]["rows"]
        self.assertEqual([(row["due_date"], row["days_late"]) for row in rows], [(self.days_ago(20), 20)])
        results = self.env["account.followup.send"]._process_followups(self.customer)
        self.assertEqual(results["sent"], self.customer)
        self.assertEqual(line.followup_level_id, self.level_1)

    def test_zero_and_negative_balance_customers(self):
        """Zero-amount and negative-balance customers need no action and are never reminded."""
        zero = self.customer.copy({"name": "Zero Customer"})
        self.create_invoice(partner=zero, amount=0.0, due_days_ago=40)
        negative = self.customer.copy({"name": "Negative Customer"})
        self.create_invoice(partner=negative, amount=100.0, due_days_ago=40)
        self.create_invoice(partner=negative, amount=150.0, due_days_ago=3, move_type="out_refund")
        Level = self.env["account.followup.level"]
        self.assertFollowup(zero, NO_ACTION, Level, 0.0, 0.0)
        self.assertFollowup(negative, NO_ACTION, Level, -50.0, -50.0)
        self.assertNotIn(zero.id, self.env["res.partner"]._get_followup_cron_partner_ids())
        self.assertNotIn(negative.id, self.env["res.partner"]._get_followup_cron_partner_ids())
        results = self.env["account.followup.send"]._process_followups(zero | negative)
        self.assertFalse(results["sent"])
        self.assertEqual(set(results["skipped"]), {zero.id, negative.id})
        self.assertFalse(self.env["mail.mail"].search([("recipient_ids", "in", [zero.id, negative.id])]))

    def test_foreign_currency_invoice_reminded(self):
        """A foreign-currency invoice is reminded in its currency; the customer's totals are in company currency."""
        invoice = self.create_invoice(amount=200.0, due_days_ago=20, currency=self.currency_data["currency"])
        results = self.env["account.followup.send"]._process_followups(self.customer)
        self.assertEqual(results["sent"], self.customer)
        self.assertEqual(self.receivable_lines(invoice).followup_level_id, self.level_1)
        groups = self.items_by_currency(self.customer)
        self.assertEqual([(g["currency"], g["total_due"]) for g in groups], [(self.currency_data["currency"], 200.0)])

    def test_customer_without_contact_details(self):
        """No email, no mobile, no address: nothing is marked sent; a note and a to-do say what to complete."""
        nowhere = self.env["res.partner"].create({"name": "Nowhere Ltd"})
        invoice = self.create_invoice(partner=nowhere, amount=100.0, due_days_ago=40)
        self.receivable_lines(invoice).write({"followup_level_id": self.level_1.id, "followup_date": self.days_ago(25)})
        self.assertFollowup(nowhere, IN_NEED, self.level_2, 100.0, 100.0)  # email and SMS
        results = self.env["account.followup.send"]._process_followups(nowhere)
        self.assertFalse(results["sent"])
        self.assertEqual(results["missing"], nowhere)
        self.assertEqual(self.receivable_lines(invoice).followup_level_id, self.level_1, "not marked as reminded")
        self.assertFalse(self.env["mail.mail"].search([("recipient_ids", "=", nowhere.id)]))
        self.assertFalse(self.env["sms.sms"].search([("partner_id", "=", nowhere.id)]))
        self.assertTrue(nowhere.message_ids.filtered(lambda message: "could not be sent" in message.body))
        self.assertTrue(nowhere.activity_ids)
        self.assertFollowup(nowhere, IN_NEED, self.level_2, 100.0, 100.0)

    def test_letter_without_address(self):
        """A letter level for a customer without address: the email goes, the missing letter is reported."""
        self.customer.write({"street": False, "city": False, "zip": False, "country_id": False})
        invoice = self.create_invoice(amount=100.0, due_days_ago=70)
        self.receivable_lines(invoice).write({"followup_level_id": self.level_2.id, "followup_date": self.days_ago(40)})
        results = self.env["account.followup.send"]._process_followups(self.customer)
        self.assertEqual(results["sent"], self.customer)
        self.assertEqual(results["missing"], self.customer)
        self.assertFalse(self.env["snailmail.letter"].search([("partner_id", "=", self.customer.id)]))
        self.assertEqual(self.receivable_lines(invoice).followup_level_id, self.level_3)
        self.assertIn("letter by post", self.customer.message_ids.filtered(
            lambda message: "was not sent by" in (message.body or "")
        ).body)

    def test_thousands_of_open_invoices(self):
        """1,500 open items: the letter and the reminder email still render every row."""
        receivable = self.company_data["default_account_receivable"]
        count = 1500
        move = self.env["account.move"].create({
            "move_type": "entry",
            "date": self.days_ago(20),
            "line_ids": [
                Command.create({
                    "name": f"Item {index}",
                    "partner_id": self.customer.id,
                    "account_id": receivable.id,
                    "debit": 1.0,
                    "date_maturity": self.days_ago(index % 40),
                })
                for index in range(count)
            ] + [
                Command.create({
                    "account_id": self.company_data["default_account_revenue"].id,
                    "credit": float(count),
                })
            ],
        })
        move.action_post()
        # 38 of the items (every 40th) are due today, not overdue yet
        self.assertFollowup(self.customer, IN_NEED, self.level_1, 1500.0, 1462.0)
        letter = html.fromstring(
            self.env["ir.actions.report"]._render_qweb_html(f"{MODULE}.action_report_followup", self.customer.ids)[0]
        )
        self.assertEqual(len(letter.xpath("//table/tbody/tr")), count)
        template = self.env.ref(f"{MODULE}.email_template_followup_2")
        body = template._render_field("body_html", self.customer.ids, compute_lang=True)[self.customer.id]
        self.assertEqual(len(html.fromstring(body).xpath("//table/tbody/tr")), count)


@tagged("post_install", "-at_install")
class TestReliabilityLifecycle(FollowupTestCommon):
    """Lifecycle: an upgrade keeps what users edited."""

    def test_upgrade_keeps_edited_levels_and_templates(self):
        """Upgrade: edited, archived and deleted levels, templates and rules stay as users left them."""
        mail_template = self.env.ref(f"{MODULE}.email_template_followup_1")
        sms_template = self.env.ref(f"{MODULE}.sms_template_followup")
        rule = self.env.ref(f"{MODULE}.account_followup_level_rule_company")
        self.level_1.write({"name": "Gentle nudge", "delay": 10})
        self.level_2.active = False
        self.level_3.unlink()
        mail_template.subject = "Our own subject"
        sms_template.body = "Our own SMS"
        rule.name = "Our own rule name"
        levels_before = self.env["account.followup.level"].with_context(active_test=False).search([])

        manifest = modules.module.get_manifest(MODULE)
        for filename in manifest["data"]:
            if filename.startswith(("data/", "security/")) and filename.endswith(".xml"):
                convert_file(self.env, MODULE, filename, {}, mode="update", kind="data")
        self.env.invalidate_all()

        self.assertEqual(self.env["account.followup.level"].with_context(active_test=False).search([]), levels_before)
        self.assertEqual((self.level_1.name, self.level_1.delay), ("Gentle nudge", 10))
        self.assertFalse(self.level_2.active)
        self.assertFalse(self.level_3.exists())
        self.assertEqual(mail_template.subject, "Our own subject")
        self.assertEqual(sms_template.body, "Our own SMS")
        self.assertEqual(rule.name, "Our own rule name")
